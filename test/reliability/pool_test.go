package reliability

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// testPoolWorkerKilled SIGKILLs the worker while it holds all 10 slots of
// the pool apitask=10 (a Control Room licensed for 10 sessions) and the
// other deployments wait. A new worker finishes everything: no deployment
// is lost or executed twice, no slot is held twice (the Control Room never
// sees more than 10 at once, never refuses one), and the slots of the
// killed worker's executions come back once Temporal times their
// activities out (30 s heartbeat).
func testPoolWorkerKilled(t *testing.T) {
	n := pick(30, 510)
	latency := pick(5*time.Second, 10*time.Second)
	aa := aasim.DefaultOptions()
	aa.APITasks = []aasim.APITask{echoTask(latency)}
	aa.APITaskSessions = 10
	s := newStack(t, "poolkilled", stackOptions{Sims: simenv.Options{AA: &aa}})
	s.env["RPAFLOW_CR_POOLS"] = "apitask=10"
	s.startWorker()

	ctx, cancel := context.WithTimeout(context.Background(), pick(6*time.Minute, 20*time.Minute))
	defer cancel()
	var keys []string
	var started []client.WorkflowRun
	for i := range n {
		key := fmt.Sprintf("pk-%d", i)
		keys = append(keys, key)
		started = append(started, s.start(ctx, "pool-killed-"+key, contract.DeployAPITaskWorkflow, apiTaskInput("cr", key, false)))
	}
	sim := s.Sims.AA
	for deadline := time.Now().Add(2 * time.Minute); sim.InFlight() < 10; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d executions in flight after 2 minutes, want the pool's 10", sim.InFlight())
		}
	}
	s.killWorker()
	killedAt := time.Now()
	s.startWorker()
	// The pool grants again once the killed executions' activities time out.
	var regrantAfter time.Duration
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if sim.InFlight() > 0 {
			regrantAfter = time.Since(killedAt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no execution started within 3 minutes of the restart")
		}
	}
	outs := waitAll(ctx, started)
	ambiguous := 0
	for _, o := range outs {
		switch {
		case o.err == nil:
		case contract.TypeOf(o.err) == contract.ErrAmbiguous:
			ambiguous++ // in flight when the worker died: not executed again
		default:
			t.Errorf("%s: %v", o.id, o.err)
		}
	}
	twice := 0
	for _, k := range keys {
		if s.Gate.Executions(k) > 1 {
			twice++
		}
	}
	var st contract.PoolStatus
	v, err := s.Client.QueryWorkflow(ctx, contract.PoolID("cr", contract.PoolAPITask), "", contract.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	if err != nil {
		t.Fatal(err)
	}
	if twice != 0 || ambiguous > 10 || sim.Counters().Get("execute.rejected") != 0 || sim.PeakExecutions() > 10 ||
		st.InUse != 0 || st.Waiting != 0 || st.Counts.Granted < int64(n) {
		t.Errorf("executed twice %d, ambiguous %d (≤ 10), refused %d, peak %d (≤ 10), pool %+v",
			twice, ambiguous, sim.Counters().Get("execute.rejected"), sim.PeakExecutions(), st)
	}
	if regrantAfter > 30*time.Second+time.Minute {
		t.Errorf("slots came back %s after the kill; bound: the 30 s heartbeat timeout plus a minute", regrantAfter)
	}
	t.Logf("%d deployments, worker killed holding 10 slots: slots granted again after %s, %d ambiguous, 0 twice, peak %d",
		n, regrantAfter.Round(time.Second), ambiguous, sim.PeakExecutions())
}
