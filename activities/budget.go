package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/session"
)

// TenantBudgets lease status-call permits from each profile's budget
// workflow (contract.BudgetWorkflow), shared by every worker of the
// namespace. All waits of this worker for one profile share one lease in
// flight, which asks for as many permits as there are waits and hands the
// grant out (event-confirming reads first): the budget sees one update per
// worker however many calls wait, and no permit is leased that no wait
// needs.
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
}

// LeaseFailures counts leases the budget did not answer (each is retried).
func (t *TenantBudgets) LeaseFailures() int64 { return t.failures.Load() }

// tenantLeases is this worker's side of one profile's budget.
type tenantLeases struct {
	perMinute int
	waiters   []*permitWaiter
	stock     int // permits granted and not used, valid until until
	until     time.Time
	leasing   bool // a lease goroutine runs
	urgent    int  // urgent permits the lease in flight asks for
	paused    time.Time
}

type permitWaiter struct {
	urgent bool
	done   chan struct{}
	served bool
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
		tl = &tenantLeases{}
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
	if tl.stock > 0 && time.Now().Before(tl.until) {
		tl.stock--
		t.mu.Unlock()
		return nil
	}
	tl.stock = 0
	w := &permitWaiter{urgent: urgent, done: make(chan struct{})}
	tl.waiters = append(tl.waiters, w)
	if !tl.leasing {
		tl.leasing = true
		go t.lease(profile, tl, t.client(ctx), t.taskQueue(ctx))
	} else if urgent && tl.urgent == 0 {
		// The lease in flight asks for routine calls only: tell the
		// budget to serve it as urgent.
		tl.urgent = 1
		c := t.client(ctx)
		go func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.SignalWorkflow(sctx, t.Names.IDPrefix+contract.BudgetID(profile), "", contract.SignalBudgetUrgent,
				contract.BudgetUrgent{Worker: t.Worker, Urgent: 1})
		}()
	}
	t.mu.Unlock()
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		t.mu.Lock()
		defer t.mu.Unlock()
		if w.served {
			if w.err == nil && time.Now().Before(tl.until) {
				tl.stock++ // the permit came too late: the next wait takes it
			}
		} else {
			for i, x := range tl.waiters {
				if x == w {
					tl.waiters = append(tl.waiters[:i], tl.waiters[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

// lease keeps one lease in flight while waits need permits and hands each
// grant out.
func (t *TenantBudgets) lease(profile string, tl *tenantLeases, c client.Client, taskQueue string) {
	fails := 0
	for {
		t.mu.Lock()
		n, urgent := len(tl.waiters), 0
		for _, w := range tl.waiters {
			if w.urgent {
				urgent++
			}
		}
		if n == 0 {
			tl.leasing = false
			t.mu.Unlock()
			return
		}
		tl.urgent = urgent
		perMinute := tl.perMinute
		t.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var g contract.BudgetGrant
		err := t.update(ctx, c, taskQueue, profile, perMinute, contract.UpdateBudgetLease,
			contract.BudgetLease{Want: n, Urgent: urgent, PerMinute: perMinute, Worker: t.Worker}, &g)
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
			tl.waiters, tl.leasing = nil, false
			t.mu.Unlock()
			return
		}
		fails = 0
		t.mu.Lock()
		tl.until = time.Now().Add(g.ValidFor.D())
		left := g.Granted
		for _, urgentPass := range []bool{true, false} {
			kept := tl.waiters[:0]
			for _, w := range tl.waiters {
				if left > 0 && w.urgent == urgentPass {
					left--
					w.served = true
					close(w.done)
					continue
				}
				kept = append(kept, w)
			}
			tl.waiters = kept
		}
		tl.stock = left
		t.mu.Unlock()
		if g.Granted == 0 && g.RetryAfter > 0 {
			time.Sleep(g.RetryAfter.D()) // paused by a 429
		}
	}
}

// Pause stops the tenant's calls for d on every worker (a 429's
// Retry-After). A pause this worker already sent that lasts as long is
// not sent again.
func (t *TenantBudgets) Pause(ctx context.Context, profile string, perMinute int, d time.Duration) error {
	until := time.Now().Add(d)
	t.mu.Lock()
	tl := t.tenant(profile)
	tl.stock = 0
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
