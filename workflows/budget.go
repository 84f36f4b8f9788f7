package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// budgetHold is the longest a lease waits in the budget before it is
// answered with no permits (the worker asks again): it bounds what a lease
// of a worker that died can take.
const budgetHold = 10 * time.Second

// budgetCANAfter is how many leases a run answers before continue-as-new.
var budgetCANAfter = 500

const (
	// queuedLeasesVersion: leases wait in the budget's queue instead of
	// being answered at once with a time to retry.
	queuedLeasesVersion = "queued-leases"
	// aheadGrantsVersion: permits are granted ahead of time, each with the
	// moment from which it may be used, instead of from a token bucket for
	// use at once.
	aheadGrantsVersion = "ahead-grants"
)

// Permits granted ahead of time (aheadGrantsVersion).
const (
	// budgetAhead is how far ahead of the budget's clock a lease may be
	// granted permits. While the budget's workflow tasks run late by less
	// than that, its pace does not depend on them; it also bounds what a
	// worker that dies takes with it and how long an urgent read waits
	// behind permits another worker holds.
	budgetAhead = 10 * time.Second
	// budgetPermitLife is how long after its moment a permit may be used.
	budgetPermitLife = 500 * time.Millisecond
	// budgetMargin: permits are (60 s + budgetMargin) / PerMinute apart,
	// so any PerMinute + 1 calls span more than 60 s even when one is made
	// at the end of its life and another at the start of its own; what the
	// margin has beyond the life covers clocks and dispatch (see the
	// worker's side, activities.TenantBudgets).
	budgetMargin = time.Second
)

// budgetLease is one lease update waiting in the budget.
type budgetLease struct {
	contract.BudgetLease
	since, until time.Time
	grant        contract.BudgetGrant
	done         bool
}

// budgetKind is what differs between the shapes of the budget: how leases
// are granted.
type budgetKind interface {
	// advance brings the budget to now before leases are looked at.
	advance(now time.Time)
	setRate(now time.Time, perMinute int)
	pause(now time.Time, d time.Duration)
	// serve grants l what it can now (l.grant, true), or says how long
	// until it may (0: not before something changes).
	serve(l *budgetLease, now time.Time) (bool, time.Duration)
	// none answers a lease granted nothing.
	none(l *budgetLease, now time.Time) contract.BudgetGrant
	// ahead: leases may want 0 (a worker listening for a pause), and a
	// pause answers every waiting lease at once.
	ahead() bool
}

// TenantBudget spaces one tenant's rate-limited calls across every worker:
// permits are granted ahead of time, at most budgetAhead, each with the
// moment from which it may be used (see budgetMargin: any 60 s holds at
// most PerMinute calls); while paused by a 429 it grants none before the
// pause ends, and a pause answers every waiting lease at once so that
// workers drop the permits it voids.
//
// A lease waits in the budget until it can be granted (or budgetHold):
// leases with event-confirming reads (Urgent) go first, then the others in
// arrival order. Each worker keeps one lease in flight for all its waits,
// so the updates in flight are one per worker however many calls wait.
func TenantBudget(ctx workflow.Context, in contract.BudgetInput) error {
	st := contract.BudgetState{PerMinute: in.PerMinute, At: workflow.Now(ctx)}
	if in.State != nil {
		st = *in.State
	}
	if workflow.GetVersion(ctx, queuedLeasesVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return answeredBudget(ctx, in, st)
	}
	var kind budgetKind = &tokenBucket{st: &st}
	if workflow.GetVersion(ctx, aheadGrantsVersion, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		st.Tokens = 0
		kind = &permitSchedule{st: &st}
	}
	return runBudget(ctx, in, &st, kind)
}

// runBudget answers leases, pauses and the status query of a budget of
// kind until it continues as new.
func runBudget(ctx workflow.Context, in contract.BudgetInput, st *contract.BudgetState, kind budgetKind) error {
	var (
		queue   []*budgetLease
		handled int
		changed int // bumped by every handler, so the grant loop looks again
		closing bool
	)
	answer := func(l *budgetLease) {
		l.done = true
		for i, q := range queue {
			if q == l {
				queue = append(queue[:i], queue[i+1:]...)
				break
			}
		}
	}
	pause := func(now time.Time, d time.Duration) {
		kind.pause(now, d)
		changed++
		if kind.ahead() {
			for len(queue) > 0 {
				answer(queue[0])
			}
		}
	}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.BudgetState, error) {
		s := *st
		s.Waiting = 0
		for _, l := range queue {
			s.Waiting += l.Want
		}
		return s, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, contract.UpdateBudgetLease, func(ctx workflow.Context, bl contract.BudgetLease) (contract.BudgetGrant, error) {
		handled++
		changed++
		now := workflow.Now(ctx)
		kind.setRate(now, bl.PerMinute)
		if !kind.ahead() || !bl.Ahead {
			bl.Want = max(bl.Want, 1)
		}
		bl.Want = max(bl.Want, 0)
		bl.Urgent = min(max(bl.Urgent, 0), bl.Want)
		l := &budgetLease{BudgetLease: bl, since: now, until: now.Add(budgetHold)}
		queue = append(queue, l)
		if err := workflow.Await(ctx, func() bool { return l.done }); err != nil {
			return contract.BudgetGrant{}, err
		}
		if l.grant.Granted == 0 {
			return kind.none(l, workflow.Now(ctx)), nil
		}
		return l.grant, nil
	}, workflow.UpdateHandlerOptions{Validator: func(bl contract.BudgetLease) error {
		if closing {
			return temporal.NewApplicationError("the budget is continuing as new; ask again", "BudgetClosing")
		}
		return nil
	}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, contract.UpdateBudgetPause, func(ctx workflow.Context, p contract.BudgetPause) error {
		handled++
		pause(workflow.Now(ctx), p.For.D())
		return nil
	}); err != nil {
		return err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, contract.SignalBudgetPause)
		for {
			var p contract.BudgetPause
			ch.Receive(ctx, &p)
			pause(workflow.Now(ctx), p.For.D())
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, contract.SignalBudgetUrgent)
		for {
			var u contract.BudgetUrgent
			ch.Receive(ctx, &u)
			for _, l := range queue {
				if l.Worker == u.Worker && u.Worker != "" {
					l.Want = max(l.Want, u.Want)
					l.Urgent = min(max(l.Urgent, u.Urgent), l.Want)
				}
			}
			changed++
		}
	})

	// next is the lease to serve: the oldest with urgent calls, else the
	// oldest; leases that want nothing are only listening.
	next := func() *budgetLease {
		for _, l := range queue {
			if l.Urgent > 0 {
				return l
			}
		}
		for _, l := range queue {
			if l.Want > 0 {
				return l
			}
		}
		return nil
	}
	for {
		now := workflow.Now(ctx)
		kind.advance(now)
		for _, l := range append([]*budgetLease(nil), queue...) {
			if !now.Before(l.until) {
				answer(l)
			}
		}
		var wake time.Duration // 0: nothing to wait for
		for len(queue) > 0 {
			l := next()
			if l == nil {
				break
			}
			ok, d := kind.serve(l, now)
			if !ok {
				wake = d
				break
			}
			answer(l)
		}
		for _, l := range queue {
			if d := l.until.Sub(now); wake <= 0 || d < wake {
				wake = d
			}
		}
		if handled >= budgetCANAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Waiting leases are answered with none: their workers ask the
			// next run at once.
			for len(queue) > 0 {
				answer(queue[0])
			}
			break
		}
		seen := changed
		woken := func() bool { return changed != seen }
		var err error
		if wake > 0 {
			_, err = workflow.AwaitWithTimeout(ctx, max(wake, 10*time.Millisecond), woken)
		} else {
			err = workflow.Await(ctx, func() bool {
				return woken() || handled >= budgetCANAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
			})
		}
		if err != nil {
			return temporal.NewCanceledError()
		}
	}
	closing = true
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return temporal.NewCanceledError()
	}
	return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, contract.BudgetInput{Profile: in.Profile, PerMinute: st.PerMinute, State: st})
}

// permitSchedule grants permits ahead of time: consecutive permits of the
// tenant are budgetEvery apart, each usable from its moment for
// budgetPermitLife; a lease is granted the permits due within budgetAhead
// (a routine lease waits until budgetChunk of them are, so grants stay
// few). A lease of a worker that takes permits only for use at once
// (before aheadGrantsVersion) is granted one when its moment has come.
type permitSchedule struct{ st *contract.BudgetState }

func (s *permitSchedule) advance(time.Time) {}

func (s *permitSchedule) setRate(_ time.Time, perMinute int) {
	if perMinute > 0 {
		s.st.PerMinute = perMinute
	}
}

func (s *permitSchedule) pause(now time.Time, d time.Duration) {
	if until := now.Add(d); until.After(s.st.PausedUntil) {
		s.st.PausedUntil = until
	}
	if s.st.Next.Before(s.st.PausedUntil) {
		s.st.Next = s.st.PausedUntil
	}
	s.st.Pauses++
}

func (s *permitSchedule) serve(l *budgetLease, now time.Time) (bool, time.Duration) {
	every := budgetEvery(s.st.PerMinute)
	// A permit must not come due before its grant can reach the worker.
	first := now.Add(min(max(l.Lag.D(), 0), budgetAhead/2))
	if s.st.Next.After(first) {
		first = s.st.Next
	}
	horizon, need := now, 1
	if l.Ahead {
		horizon = now.Add(budgetAhead)
		if l.Urgent == 0 {
			need = min(l.Want, int(budgetChunk(s.st.PerMinute)))
		}
	}
	if last := first.Add(every * time.Duration(need-1)); last.After(horizon) {
		return false, last.Sub(horizon)
	}
	n := min(l.Want, int(horizon.Sub(first)/every)+1)
	if !s.st.Next.IsZero() && now.After(s.st.Next) && now.After(l.since) {
		idle := s.st.Next
		if l.since.After(idle) {
			idle = l.since
		}
		s.st.Late += contract.Duration(now.Sub(idle))
	}
	s.st.Next = first.Add(every * time.Duration(n))
	s.st.Granted += int64(n)
	l.grant = contract.BudgetGrant{Granted: n, At: first, Every: contract.Duration(every), ValidFor: contract.Duration(budgetPermitLife),
		Now: now, PausedUntil: s.pausedAfter(now)}
	return true, 0
}

func (s *permitSchedule) none(l *budgetLease, now time.Time) contract.BudgetGrant {
	g := contract.BudgetGrant{Now: now, PausedUntil: s.pausedAfter(now)}
	if !l.Ahead && !g.PausedUntil.IsZero() {
		g.RetryAfter = contract.Duration(g.PausedUntil.Sub(now))
	}
	return g
}

func (s *permitSchedule) pausedAfter(now time.Time) time.Time {
	if s.st.PausedUntil.After(now) {
		return s.st.PausedUntil
	}
	return time.Time{}
}

func (s *permitSchedule) ahead() bool { return true }

// budgetEvery is the time between consecutive permits of a tenant,
// rounded up.
func budgetEvery(perMinute int) time.Duration {
	n := time.Duration(max(perMinute, 1))
	return (time.Minute + budgetMargin + n - 1) / n
}

// tokenBucket is the budget as runs started between queuedLeasesVersion
// and aheadGrantsVersion replay it: a token bucket that refills at 0.93
// PerMinute and holds at most a 25th of it (at least one), so the calls of
// any 60 s, permits used up to a second after their grant included, stay
// within PerMinute; while paused by a 429 it grants none.
type tokenBucket struct{ st *contract.BudgetState }

const queuedPermitLife = time.Second

func (b *tokenBucket) advance(now time.Time) {
	if now.After(b.st.At) {
		b.st.Tokens = min(budgetBurst(b.st.PerMinute), b.st.Tokens+now.Sub(b.st.At).Minutes()*budgetRate(b.st.PerMinute))
		b.st.At = now
	}
}

func (b *tokenBucket) setRate(now time.Time, perMinute int) {
	if perMinute > 0 && perMinute != b.st.PerMinute {
		b.advance(now)
		b.st.PerMinute = perMinute
		b.st.Tokens = min(b.st.Tokens, budgetBurst(b.st.PerMinute))
	}
}

func (b *tokenBucket) pause(now time.Time, d time.Duration) {
	b.advance(now)
	if until := now.Add(d); until.After(b.st.PausedUntil) {
		b.st.PausedUntil = until
	}
	b.st.Tokens = 0
	b.st.Pauses++
}

func (b *tokenBucket) serve(l *budgetLease, now time.Time) (bool, time.Duration) {
	if now.Before(b.st.PausedUntil) {
		return false, b.st.PausedUntil.Sub(now)
	}
	// An urgent lease takes a permit as soon as there is one; others wait
	// for a few, so grants (and updates) stay few.
	need := min(float64(l.Want), budgetChunk(b.st.PerMinute))
	if l.Urgent > 0 {
		need = 1
	}
	if b.st.Tokens+1e-6 < need { // the refill's rounding must not wait for a last fraction
		return false, time.Duration((need - b.st.Tokens) / budgetRate(b.st.PerMinute) * float64(time.Minute))
	}
	g := min(l.Want, int(b.st.Tokens+1e-6))
	b.st.Tokens = max(b.st.Tokens-float64(g), 0)
	b.st.Granted += int64(g)
	l.grant = contract.BudgetGrant{Granted: g, ValidFor: contract.Duration(queuedPermitLife)}
	return true, 0
}

func (b *tokenBucket) none(_ *budgetLease, now time.Time) contract.BudgetGrant {
	return contract.BudgetGrant{RetryAfter: contract.Duration(max(b.st.PausedUntil.Sub(now), 0))}
}

func (b *tokenBucket) ahead() bool { return false }

// answeredBudget is the budget as runs started before queuedLeasesVersion
// replay it: every lease is answered at once.
func answeredBudget(ctx workflow.Context, in contract.BudgetInput, st contract.BudgetState) error {
	const oldLife, oldRate = 2 * time.Second, 0.9
	burst := func() float64 { return max(1, float64(st.PerMinute)/20) }
	handled := 0
	refill := func(now time.Time) {
		if now.After(st.At) {
			st.Tokens = min(burst(), st.Tokens+now.Sub(st.At).Minutes()*oldRate*float64(st.PerMinute))
			st.At = now
		}
	}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.BudgetState, error) { return st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, contract.UpdateBudgetLease, func(ctx workflow.Context, l contract.BudgetLease) (contract.BudgetGrant, error) {
		handled++
		now := workflow.Now(ctx)
		if l.PerMinute > 0 && l.PerMinute != st.PerMinute {
			refill(now)
			st.PerMinute = l.PerMinute
			st.Tokens = min(st.Tokens, burst())
		}
		refill(now)
		if now.Before(st.PausedUntil) {
			return contract.BudgetGrant{RetryAfter: contract.Duration(st.PausedUntil.Sub(now))}, nil
		}
		g := min(l.Want, int(st.Tokens))
		if g <= 0 {
			wait := time.Duration((1 - st.Tokens) / (oldRate * float64(st.PerMinute)) * float64(time.Minute))
			return contract.BudgetGrant{RetryAfter: contract.Duration(max(wait, 10*time.Millisecond))}, nil
		}
		st.Tokens -= float64(g)
		st.Granted += int64(g)
		return contract.BudgetGrant{Granted: g, ValidFor: contract.Duration(oldLife)}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, contract.UpdateBudgetPause, func(ctx workflow.Context, p contract.BudgetPause) error {
		handled++
		now := workflow.Now(ctx)
		refill(now)
		if until := now.Add(p.For.D()); until.After(st.PausedUntil) {
			st.PausedUntil = until
		}
		st.Tokens = 0
		st.Pauses++
		return nil
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return handled >= 1000 || workflow.GetInfo(ctx).GetContinueAsNewSuggested() }); err != nil {
		return temporal.NewCanceledError()
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return temporal.NewCanceledError()
	}
	return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, contract.BudgetInput{Profile: in.Profile, PerMinute: st.PerMinute, State: &st})
}

func budgetBurst(perMinute int) float64 { return max(1, float64(perMinute)/25) }

// budgetChunk is what a routine lease waits for: half the token bucket's
// burst, or as many permits granted ahead.
func budgetChunk(perMinute int) float64 { return max(1, float64(perMinute)/50) }

func budgetRate(perMinute int) float64 { return 0.93 * float64(perMinute) }
