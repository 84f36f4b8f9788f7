package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/devserver"
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
	keys, started := s.startAPITasks(ctx, "pool-killed-", "pk", n)
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
	regrantAfter := waitSince(t, killedAt, "the worker was killed", func() bool { return sim.InFlight() > 0 })
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
	st, err := poolStatus(ctx, s, "cr", contract.PoolAPITask)
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

// testPoolServerRestart stops the Temporal server (file-backed) in the
// middle of a burst through apitask=10, while all 10 slots are held and the
// rest of the burst waits, and starts it again on the same port. Every
// deployment reaches the Control Room exactly once (non-idempotent
// executions: one whose result was lost with the server ends Ambiguous,
// never executed again), the Control Room never sees more than 10 at once
// nor refuses one, and the pool ends empty with every request granted.
var poolRestartRuns atomic.Int32

func testPoolServerRestart(t *testing.T) {
	n := pick(40, 300)
	latency, down := pick(4*time.Second, 5*time.Second), pick(3*time.Second, 15*time.Second)
	addr, err := devserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	// A fresh database per run (-count): a run's workflows are sealed with
	// its own keys, which the next run's worker cannot open.
	db := filepath.Join(workDir, fmt.Sprintf("pool-restart-%d.db", poolRestartRuns.Add(1)))
	dev := startFileServer(t, addr, db)
	keepUntilScan(func() { // the scan reads its histories
		if dev != nil {
			_ = dev.Stop()
		}
	})
	aa := aasim.DefaultOptions()
	aa.APITasks = []aasim.APITask{echoTask(latency)}
	aa.APITaskSessions = 10
	s := newStack(t, "poolrestart", stackOptions{Sims: simenv.Options{AA: &aa}, HostPort: addr, Namespace: "default"})
	s.env["RPAFLOW_CR_POOLS"] = "apitask=10"
	s.startWorker()

	ctx, cancel := context.WithTimeout(context.Background(), pick(5*time.Minute, 15*time.Minute))
	defer cancel()
	keys, started := s.startAPITasks(ctx, "pool-restart-", "pr", n)
	sim := s.Sims.AA
	executed := func() (total int) {
		for _, k := range keys {
			total += s.Gate.Executions(k)
		}
		return total
	}
	// Mid-burst: slots have changed hands already, all 10 are held, and
	// requests wait.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		st, err := poolStatus(ctx, s, "cr", contract.PoolAPITask)
		if err == nil && st.InUse == 10 && st.Waiting > 0 && st.Counts.Granted >= 15 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool %+v (%v) after 2 minutes; want 10 in use, some waiting and 15 granted", st, err)
		}
	}
	held := sim.InFlight()
	if err := dev.Stop(); err != nil {
		t.Fatalf("stopping the dev server: %v", err)
	}
	dev = nil
	time.Sleep(down)
	before := executed()
	dev = startFileServer(t, addr, db)
	restartedAt := time.Now()
	// The first execution after the restart: a slot changed hands again.
	regrantAfter := waitSince(t, restartedAt, "the restart", func() bool { return executed() > before })
	outs := waitAll(ctx, started)
	ambiguous := 0
	for _, o := range outs {
		switch {
		case o.err == nil:
			var res contract.DeployAPITaskResult
			_ = json.Unmarshal(o.result, &res)
			if want := "ran:" + strings.TrimPrefix(o.id, "pool-restart-"); res.BotOutput["State"] != want {
				t.Errorf("%s: State %v, want %s", o.id, res.BotOutput["State"], want)
			}
		case contract.TypeOf(o.err) == contract.ErrAmbiguous:
			ambiguous++ // its result was lost with the server: not executed again
		default:
			t.Errorf("%s: %v", o.id, o.err)
		}
	}
	twice, lost := 0, 0
	for _, k := range keys {
		switch s.Gate.Executions(k) {
		case 1:
		case 0:
			lost++
		default:
			twice++
		}
	}
	st, err := poolStatus(ctx, s, "cr", contract.PoolAPITask)
	if err != nil {
		t.Fatal(err)
	}
	if twice != 0 || lost != 0 || executed() != n || ambiguous > 10 || sim.Counters().Get("execute.rejected") != 0 || sim.PeakExecutions() > 10 ||
		st.InUse != 0 || st.Waiting != 0 || st.Counts.Granted < int64(n) {
		t.Errorf("executed twice %d, never %d, executions %d (want %d), ambiguous %d (≤ 10), refused %d, peak %d (≤ 10), pool %+v",
			twice, lost, executed(), n, ambiguous, sim.Counters().Get("execute.rejected"), sim.PeakExecutions(), st)
	}
	// Nothing of the pool lives outside Temporal, so the restart costs
	// what it costs every workflow: the SDK's reconnect and any activity
	// attempt cut by it (the 30 s heartbeat timeout), never the holder check.
	if regrantAfter > 30*time.Second+time.Minute {
		t.Errorf("slots changed hands again %s after the restart; bound: the 30 s heartbeat timeout plus a minute", regrantAfter)
	}
	t.Logf("reliability: pool-server-restart: %d deployments through apitask=10, server down %s while 10 slots were held (%d executing) and %d deployments had not started: slots changed hands %s after the restart, all done %s after it, %d ambiguous, 0 twice, 0 lost, peak %d",
		n, down, held, n-before, regrantAfter.Round(time.Second), time.Since(restartedAt).Round(time.Second), ambiguous, sim.PeakExecutions())
}

// poolStatus queries a pool from rpaflow's own namespace.
func poolStatus(ctx context.Context, s *stack, profile, pool string) (contract.PoolStatus, error) {
	var st contract.PoolStatus
	v, err := s.Client.QueryWorkflow(ctx, contract.PoolID(profile, pool), "", contract.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// startAPITasks starts n non-idempotent DeployAPITask runs on profile cr,
// keyed prefix-0…, with workflow IDs idPrefix+key.
func (s *stack) startAPITasks(ctx context.Context, idPrefix, prefix string, n int) ([]string, []client.WorkflowRun) {
	keys := make([]string, n)
	runs := make([]client.WorkflowRun, n)
	for i := range n {
		keys[i] = fmt.Sprintf("%s-%d", prefix, i)
		runs[i] = s.start(ctx, idPrefix+keys[i], contract.DeployAPITaskWorkflow, apiTaskInput("cr", keys[i], false))
	}
	return keys, runs
}

// waitSince waits up to 3 minutes for an execution to start (started) and
// returns how long after since it did.
func waitSince(t *testing.T, since time.Time, what string, started func() bool) time.Duration {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); !started(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no execution started within 3 minutes of %s", what)
		}
	}
	return time.Since(since)
}
