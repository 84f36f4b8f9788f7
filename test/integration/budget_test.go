package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/workflows"
)

// TestTenantBudgetBurst: three workers each with 20 calls waiting at once
// for permits of one tenant budget (60 > the server's 10 updates in flight
// per workflow): every call gets its permit, no lease fails, and the
// budget granted exactly one permit per call.
func TestTenantBudgetBurst(t *testing.T) {
	if devServer == nil {
		t.Skip("no Temporal dev server (run `make test`)")
	}
	ns, err := namespaces.Next()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: ns, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const queue = "budget-burst"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.TenantBudget, workflow.RegisterOptions{Name: contract.BudgetWorkflow})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const workers, each, perMinute = 3, 20, 1200
	budgets := make([]*activities.TenantBudgets, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	start := time.Now()
	for i := range budgets {
		budgets[i] = &activities.TenantBudgets{Client: c, TaskQueue: queue, Worker: fmt.Sprintf("worker-%d", i)}
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := budgets[i].Take(ctx, "orch", perMinute, j%4 == 0); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("take: %v", err)
	}
	for i, b := range budgets {
		if n := b.LeaseFailures(); n != 0 {
			t.Errorf("worker %d: %d leases failed (aborted or refused)", i, n)
		}
	}
	var st contract.BudgetState
	v, err := c.QueryWorkflow(ctx, contract.BudgetID("orch"), "", contract.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Granted != workers*each {
		t.Errorf("the budget granted %d permits for %d calls: leases must ask only for what waits", st.Granted, workers*each)
	}
	// 60 permits (60 s + 1 s) / 1200 apart: about 3 s.
	t.Logf("%d calls on %d workers took %s", workers*each, workers, time.Since(start).Round(time.Millisecond))
	_ = c.TerminateWorkflow(context.Background(), contract.BudgetID("orch"), "", "test done")
}
