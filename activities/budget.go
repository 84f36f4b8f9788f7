package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/session"
)

// TenantBudgets lease status-call permits from each profile's budget
// workflow (contract.BudgetWorkflow), shared by every worker of the
// namespace, a few at a time.
type TenantBudgets struct {
	// Client reaches the budgets; nil uses the client of the activity.
	Client client.Client
	Names  session.Names
	mu     sync.Mutex
	stock  map[string]*permits
}

type permits struct {
	n     int
	until time.Time
}

func (t *TenantBudgets) client(ctx context.Context) client.Client {
	if t.Client != nil {
		return t.Client
	}
	return activity.GetClient(ctx)
}

// batch is how many permits one lease asks for: about two seconds' worth,
// so a budget answers a few leases a second at most.
func batch(perMinute int) int { return max(1, perMinute/30) }

// Take blocks until profile may make one more call within perMinute for
// the whole tenant.
func (t *TenantBudgets) Take(ctx context.Context, profile string, perMinute int) error {
	for {
		t.mu.Lock()
		if t.stock == nil {
			t.stock = map[string]*permits{}
		}
		p := t.stock[profile]
		if p != nil && p.n > 0 && time.Now().Before(p.until) {
			p.n--
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		var g contract.BudgetGrant
		if err := t.update(ctx, profile, perMinute, contract.UpdateBudgetLease, contract.BudgetLease{Want: batch(perMinute), PerMinute: perMinute}, &g); err != nil {
			return err
		}
		if g.Granted > 0 {
			t.mu.Lock()
			t.stock[profile] = &permits{n: g.Granted - 1, until: time.Now().Add(g.ValidFor.D())}
			t.mu.Unlock()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(g.RetryAfter.D()):
		}
	}
}

// Pause stops the tenant's calls for d on every worker (a 429's Retry-After).
func (t *TenantBudgets) Pause(ctx context.Context, profile string, perMinute int, d time.Duration) error {
	t.mu.Lock()
	delete(t.stock, profile)
	t.mu.Unlock()
	return t.update(ctx, profile, perMinute, contract.UpdateBudgetPause, contract.BudgetPause{For: contract.Duration(d)}, nil)
}

func (t *TenantBudgets) update(ctx context.Context, profile string, perMinute int, name string, arg, result any) error {
	c := t.client(ctx)
	id := t.Names.IDPrefix + contract.BudgetID(profile)
	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                activity.GetInfo(ctx).TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, t.Names.TypePrefix+contract.BudgetWorkflow, contract.BudgetInput{Profile: profile, PerMinute: perMinute})
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
