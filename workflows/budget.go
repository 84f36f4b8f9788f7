package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// budgetPermitLife bounds how long leased permits may be used: permits a
// worker did not use expire rather than burst later.
const budgetPermitLife = time.Second

// budgetHold is the longest a lease waits in the budget before it is
// answered with no permits (the worker asks again): it bounds what a lease
// of a worker that died can take.
const budgetHold = 10 * time.Second

// budgetCANAfter is how many leases a run answers before continue-as-new.
var budgetCANAfter = 500

// queuedLeasesVersion: leases wait in the budget's queue instead of being
// answered at once with a time to retry.
const queuedLeasesVersion = "queued-leases"

// budgetLease is one lease update waiting in the budget.
type budgetLease struct {
	contract.BudgetLease
	until   time.Time
	granted int
	done    bool
}

// TenantBudget is the token bucket of one tenant's rate-limited calls. It
// refills at 0.93 PerMinute and holds at most a 25th of PerMinute (at
// least one), so the calls of any 60 s, permits used up to
// budgetPermitLife after their lease included, stay within PerMinute;
// while paused by a 429 it grants none.
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
	var (
		queue   []*budgetLease
		handled int
		changed int // bumped by every handler, so the grant loop looks again
		closing bool
	)
	refill := func(now time.Time) {
		if now.After(st.At) {
			st.Tokens = min(budgetBurst(st.PerMinute), st.Tokens+now.Sub(st.At).Minutes()*budgetRate(st.PerMinute))
			st.At = now
		}
	}
	setRate := func(now time.Time, perMinute int) {
		if perMinute > 0 && perMinute != st.PerMinute {
			refill(now)
			st.PerMinute = perMinute
			st.Tokens = min(st.Tokens, budgetBurst(st.PerMinute))
		}
	}
	pause := func(now time.Time, d time.Duration) {
		refill(now)
		if until := now.Add(d); until.After(st.PausedUntil) {
			st.PausedUntil = until
		}
		st.Tokens = 0
		st.Pauses++
		changed++
	}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.BudgetState, error) {
		s := st
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
		setRate(now, bl.PerMinute)
		bl.Want = max(bl.Want, 1)
		bl.Urgent = min(max(bl.Urgent, 0), bl.Want)
		l := &budgetLease{BudgetLease: bl, until: now.Add(budgetHold)}
		queue = append(queue, l)
		if err := workflow.Await(ctx, func() bool { return l.done }); err != nil {
			return contract.BudgetGrant{}, err
		}
		if l.granted == 0 {
			return contract.BudgetGrant{RetryAfter: contract.Duration(max(st.PausedUntil.Sub(workflow.Now(ctx)), 0))}, nil
		}
		return contract.BudgetGrant{Granted: l.granted, ValidFor: contract.Duration(budgetPermitLife)}, nil
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
					l.Urgent = min(max(l.Urgent, u.Urgent), l.Want)
				}
			}
			changed++
		}
	})

	// next is the lease to serve: the oldest with urgent calls, else the
	// oldest.
	next := func() *budgetLease {
		for _, l := range queue {
			if l.Urgent > 0 {
				return l
			}
		}
		return queue[0]
	}
	answer := func(l *budgetLease) {
		l.done = true
		for i, q := range queue {
			if q == l {
				queue = append(queue[:i], queue[i+1:]...)
				break
			}
		}
	}
	for {
		now := workflow.Now(ctx)
		refill(now)
		for _, l := range append([]*budgetLease(nil), queue...) {
			if !now.Before(l.until) {
				answer(l)
			}
		}
		var wake time.Duration // 0: nothing to wait for
		if now.Before(st.PausedUntil) {
			if len(queue) > 0 {
				wake = st.PausedUntil.Sub(now)
			}
		} else {
			for len(queue) > 0 {
				l := next()
				// An urgent lease takes a permit as soon as there is one;
				// others wait for a few, so grants (and updates) stay few.
				need := min(float64(l.Want), budgetChunk(st.PerMinute))
				if l.Urgent > 0 {
					need = 1
				}
				if st.Tokens+1e-6 < need { // the refill's rounding must not wait for a last fraction
					wake = time.Duration((need - st.Tokens) / budgetRate(st.PerMinute) * float64(time.Minute))
					break
				}
				g := min(l.Want, int(st.Tokens+1e-6))
				st.Tokens = max(st.Tokens-float64(g), 0)
				st.Granted += int64(g)
				l.granted = g
				answer(l)
			}
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
	return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, contract.BudgetInput{Profile: in.Profile, PerMinute: st.PerMinute, State: &st})
}

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

// budgetChunk is what a routine lease waits for: half the burst, so a
// grant that reaches the budget late finds the bucket still filling.
func budgetChunk(perMinute int) float64 { return max(1, float64(perMinute)/50) }

func budgetRate(perMinute int) float64 { return 0.93 * float64(perMinute) }
