package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/session"
)

// TenantBudgets lease status-call permits from each profile's budget
// workflow (contract.BudgetWorkflow), shared by every worker of the
// namespace. All waits of this worker for one profile share one lease in
// flight, which asks for as many permits as there are waits without one:
// the budget sees one update per worker however many calls wait, and no
// permit is leased that no wait needs. The budget grants permits ahead of
// time, each with the moment from which it may be used, and this worker
// hands each permit at its moment to a waiting call (event-confirming reads
// first). While it holds permits for later moments its lease in flight
// also listens for a pause, so a 429 seen by another worker voids them.
//
// Clocks: a permit's moment is on the budget's clock (the Temporal
// server's). The grant says when the budget made it, which lies between
// the lease's sending and its answer: a clock that places it outside is off
// by more than that round trip, and permits are then placed by the round
// trip alone (used no earlier than the latest and no later than the
// earliest moment the server's clock allows). A smaller offset is covered
// by the budget's margin beyond a permit's life, half a second.
type TenantBudgets struct {
	// Client reaches the budgets; nil uses the client of the activity.
	Client client.Client
	Names  session.Names
	// TaskQueue runs the budgets; "" uses the activity's.
	TaskQueue string
	// Worker names this worker in its leases; "" picks a random name.
	Worker   string
	mu       sync.Mutex
	tenants  map[string]*tenantLeases
	failures atomic.Int64
	lapsed   atomic.Int64
}

// LeaseFailures counts leases the budget did not answer (each is retried).
func (t *TenantBudgets) LeaseFailures() int64 { return t.failures.Load() }

// Lapsed counts permits this worker was granted and did not use in their
// time: waits that ended meanwhile, a pause, a grant that came too late.
func (t *TenantBudgets) Lapsed() int64 { return t.lapsed.Load() }

// tenantLeases is this worker's side of one profile's budget.
type tenantLeases struct {
	profile   string
	perMinute int
	waiters   []*permitWaiter
	permits   []permit // granted and not handed out, earliest first
	leasing   bool     // a lease goroutine runs
	handing   bool     // a goroutine hands permits out at their moments
	wake      chan struct{}
	asked     int // permits the lease in flight asks for
	urgent    int // urgent permits the lease in flight asks for
	lag       time.Duration
	paused    time.Time
}

// permit is one granted call.
type permit struct {
	at          time.Time // its moment on the budget's clock (zero: granted for use at once)
	from, until time.Time // when it may be used, on this worker's clock
}

type permitWaiter struct {
	urgent bool
	done   chan struct{}
	served bool
	permit permit
	err    error
}

// Lease failures in a row before the waits are failed (the activities
// retry): a budget continuing as new refuses leases for a moment.
const leaseTries = 6

func (t *TenantBudgets) client(ctx context.Context) client.Client {
	if t.Client != nil {
		return t.Client
	}
	return activity.GetClient(ctx)
}

func (t *TenantBudgets) taskQueue(ctx context.Context) string {
	if t.TaskQueue != "" {
		return t.TaskQueue
	}
	return activity.GetInfo(ctx).TaskQueue
}

func (t *TenantBudgets) tenant(profile string) *tenantLeases {
	if t.tenants == nil {
		t.tenants = map[string]*tenantLeases{}
	}
	if t.Worker == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		t.Worker = hex.EncodeToString(b)
	}
	tl := t.tenants[profile]
	if tl == nil {
		tl = &tenantLeases{profile: profile, wake: make(chan struct{}, 1)}
		t.tenants[profile] = tl
	}
	return tl
}

// Take blocks until profile may make one more call within perMinute for
// the whole tenant. Urgent calls (reads that confirm an event) are served
// before the others, here and in the budget.
func (t *TenantBudgets) Take(ctx context.Context, profile string, perMinute int, urgent bool) error {
	t.mu.Lock()
	tl := t.tenant(profile)
	tl.perMinute = perMinute
	now := time.Now()
	t.drop(tl, func(p permit) bool { return !now.Before(p.until) })
	if len(tl.waiters) == 0 && len(tl.permits) > 0 && !now.Before(tl.permits[0].from) {
		tl.permits = tl.permits[1:]
		t.mu.Unlock()
		return nil
	}
	w := &permitWaiter{urgent: urgent, done: make(chan struct{})}
	tl.waiters = append(tl.waiters, w)
	need, needUrgent := tl.need()
	switch {
	case !tl.leasing:
		tl.leasing = true
		go t.lease(tl, t.client(ctx), t.taskQueue(ctx))
	case need > 0 && tl.asked == 0, needUrgent > 0 && tl.urgent == 0:
		// The lease in flight only listens, or asks for routine calls
		// only: tell the budget what it needs now.
		tl.asked, tl.urgent = max(tl.asked, need), max(tl.urgent, needUrgent)
		c := t.client(ctx)
		go func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.SignalWorkflow(sctx, t.Names.IDPrefix+contract.BudgetID(profile), "", contract.SignalBudgetUrgent,
				contract.BudgetUrgent{Worker: t.Worker, Urgent: needUrgent, Want: need})
		}()
	}
	t.hand(tl)
	t.mu.Unlock()
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		t.mu.Lock()
		defer t.mu.Unlock()
		if w.served {
			if w.err == nil && time.Now().Before(w.permit.until) {
				// The permit came too late: the next wait takes it.
				tl.permits = append([]permit{w.permit}, tl.permits...)
				t.hand(tl)
			}
		} else {
			tl.waiters = slices.DeleteFunc(tl.waiters, func(x *permitWaiter) bool { return x == w })
		}
		return ctx.Err()
	}
}

// need is how many permits the waits lack, and how many of those are for
// urgent calls (which take held permits first).
func (tl *tenantLeases) need() (need, urgent int) {
	for _, w := range tl.waiters {
		if w.urgent {
			urgent++
		}
	}
	return max(len(tl.waiters)-len(tl.permits), 0), max(urgent-len(tl.permits), 0)
}

// listens: the worker holds permits granted ahead for moments still to
// come, which a pause may void.
func (tl *tenantLeases) listens(now time.Time) bool {
	return slices.ContainsFunc(tl.permits, func(p permit) bool { return !p.at.IsZero() && p.from.After(now) })
}

// drop removes the permits gone (t.mu held); those unused count as lapsed.
func (t *TenantBudgets) drop(tl *tenantLeases, gone func(permit) bool) {
	n := len(tl.permits)
	tl.permits = slices.DeleteFunc(tl.permits, gone)
	t.lapsed.Add(int64(n - len(tl.permits)))
}

// hand starts handing permits out if there are permits and waits, or
// wakes the goroutine that does to look again (t.mu held).
func (t *TenantBudgets) hand(tl *tenantLeases) {
	switch {
	case tl.handing:
		select {
		case tl.wake <- struct{}{}:
		default:
		}
	case len(tl.waiters) > 0 && len(tl.permits) > 0:
		tl.handing = true
		go t.handOut(tl)
	}
}

// handOut gives each permit, at its moment, to the first urgent wait, else
// the first wait.
func (t *TenantBudgets) handOut(tl *tenantLeases) {
	for {
		t.mu.Lock()
		now := time.Now()
		t.drop(tl, func(p permit) bool { return !now.Before(p.until) })
		if len(tl.waiters) == 0 || len(tl.permits) == 0 {
			tl.handing = false
			t.mu.Unlock()
			return
		}
		p := tl.permits[0]
		if wait := p.from.Sub(now); wait > 0 {
			t.mu.Unlock()
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-tl.wake:
				timer.Stop()
			}
			continue
		}
		tl.permits = tl.permits[1:]
		i := max(slices.IndexFunc(tl.waiters, func(w *permitWaiter) bool { return w.urgent }), 0)
		w := tl.waiters[i]
		tl.waiters = slices.Delete(tl.waiters, i, i+1)
		w.served, w.permit = true, p
		close(w.done)
		t.mu.Unlock()
	}
}

// lease keeps one lease in flight while waits need permits or permits
// granted ahead are held, and adds each grant to the held permits.
func (t *TenantBudgets) lease(tl *tenantLeases, c client.Client, taskQueue string) {
	fails := 0
	for {
		t.mu.Lock()
		now := time.Now()
		t.drop(tl, func(p permit) bool { return !now.Before(p.until) })
		need, urgent := tl.need()
		if need == 0 && !tl.listens(now) {
			tl.leasing, tl.asked, tl.urgent = false, 0, 0
			t.mu.Unlock()
			return
		}
		tl.asked, tl.urgent = need, urgent
		perMinute, lag := tl.perMinute, tl.lag
		t.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var g contract.BudgetGrant
		sent := time.Now()
		err := t.update(ctx, c, taskQueue, tl.profile, perMinute, contract.UpdateBudgetLease,
			contract.BudgetLease{Want: need, Urgent: urgent, PerMinute: perMinute, Worker: t.Worker, Ahead: true, Lag: contract.Duration(lag)}, &g)
		got := time.Now()
		cancel()
		if err != nil {
			t.failures.Add(1)
			fails++
			if fails < leaseTries {
				time.Sleep(time.Duration(fails*fails) * 100 * time.Millisecond)
				continue
			}
			t.mu.Lock()
			for _, w := range tl.waiters {
				w.served, w.err = true, err
				close(w.done)
			}
			tl.waiters, tl.leasing, tl.asked, tl.urgent = nil, false, 0, 0
			t.mu.Unlock()
			return
		}
		fails = 0
		t.mu.Lock()
		tl.asked, tl.urgent = 0, 0
		if !g.PausedUntil.IsZero() {
			t.drop(tl, func(p permit) bool { return p.at.Before(g.PausedUntil) })
		}
		granted, lag := grantPermits(g, sent, got)
		if !g.Now.IsZero() {
			tl.lag = lag
		}
		t.lapsed.Add(int64(g.Granted - len(granted)))
		tl.permits = append(tl.permits, granted...)
		slices.SortStableFunc(tl.permits, func(a, b permit) int { return a.from.Compare(b.from) })
		t.hand(tl)
		t.mu.Unlock()
		if g.Granted == 0 && g.RetryAfter > 0 {
			time.Sleep(g.RetryAfter.D()) // paused by a 429
		}
	}
}

// grantPermits places a grant's permits on this worker's clock, given when
// its lease was sent and answered (see TenantBudgets on clocks), and says
// how long the grant took to reach the worker (at most the round trip).
// Permits left no time to be used are left out.
func grantPermits(g contract.BudgetGrant, sent, got time.Time) (ps []permit, lag time.Duration) {
	if g.At.IsZero() { // a budget that grants for use at once
		for range g.Granted {
			ps = append(ps, permit{from: got, until: got.Add(g.ValidFor.D())})
		}
		return ps, 0
	}
	// This clock is ahead of the server's by at least early, at most late.
	early, late := sent.Sub(g.Now), got.Sub(g.Now)
	lag = got.Sub(sent)
	if early <= 0 && late >= 0 {
		early, late, lag = 0, 0, late
	}
	for i := range g.Granted {
		at := g.At.Add(time.Duration(i) * g.Every.D())
		p := permit{at: at, from: at.Add(late), until: at.Add(g.ValidFor.D() + early)}
		if p.from.Before(p.until) {
			ps = append(ps, p)
		}
	}
	return ps, lag
}

// Pause stops the tenant's calls for d on every worker (a 429's
// Retry-After). A pause this worker already sent that lasts as long is
// not sent again.
func (t *TenantBudgets) Pause(ctx context.Context, profile string, perMinute int, d time.Duration) error {
	until := time.Now().Add(d)
	t.mu.Lock()
	tl := t.tenant(profile)
	t.drop(tl, func(p permit) bool { return p.from.Before(until) })
	if !until.After(tl.paused.Add(time.Second)) {
		t.mu.Unlock()
		return nil
	}
	tl.paused = until
	t.mu.Unlock()
	c := t.client(ctx)
	id := t.Names.IDPrefix + contract.BudgetID(profile)
	_, err := c.SignalWithStartWorkflow(ctx, id, contract.SignalBudgetPause, contract.BudgetPause{For: contract.Duration(d)},
		t.startOptions(id, t.taskQueue(ctx)), t.Names.TypePrefix+contract.BudgetWorkflow,
		contract.BudgetInput{Profile: profile, PerMinute: perMinute})
	if err != nil {
		return unavailable(fmt.Sprintf("tenant budget %s: pausing: %v", id, err))
	}
	return nil
}

func (t *TenantBudgets) startOptions(id, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// Its workflow tasks go before the waits' own where the server
		// orders tasks by priority.
		Priority: temporal.Priority{PriorityKey: 1},
	}
}

func (t *TenantBudgets) update(ctx context.Context, c client.Client, taskQueue, profile string, perMinute int, name string, arg, result any) error {
	id := t.Names.IDPrefix + contract.BudgetID(profile)
	start := c.NewWithStartWorkflowOperation(t.startOptions(id, taskQueue), t.Names.TypePrefix+contract.BudgetWorkflow,
		contract.BudgetInput{Profile: profile, PerMinute: perMinute})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: name, Args: []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	if err != nil {
		return unavailable(fmt.Sprintf("tenant budget %s: %s: %v", id, name, err))
	}
	return nil
}
