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

	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/devserver"
)

// startFileServer starts a Temporal dev server persisted in db on addr.
func startFileServer(t *testing.T, addr, db string) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := devserver.Start(ctx, devserver.Options{CLI: temporalCLI, LogLevel: "error", DBFilename: db, HostPort: addr})
	if err != nil {
		t.Fatalf("starting the file-backed dev server on %s: %v", addr, err)
	}
	return dev
}

var restartRuns atomic.Int32

// testServerRestart stops the Temporal server (file-backed) while sessions
// hold tokens, API Tasks execute, bots and jobs run, and starts it again on
// the same port: the same worker process carries on and every workflow
// completes, with nothing executed, deployed, started or queued twice. A
// non-idempotent API Task or work item may end Ambiguous instead (see below).
func testServerRestart(t *testing.T) {
	n, down := pick(3, 6), pick(3*time.Second, 15*time.Second)
	addr, addrErr := devserver.FreeAddr()
	if addrErr != nil {
		t.Fatal(addrErr)
	}
	db := filepath.Join(workDir, fmt.Sprintf("restart-%d.db", restartRuns.Add(1))) // a fresh one per run (-count)
	dev := startFileServer(t, addr, db)
	keepUntilScan(func() { // the scan reads its histories
		if dev != nil {
			_ = dev.Stop()
		}
	})

	demo := aasim.DefaultOptions()
	demo.APITasks = []aasim.APITask{echoTask(8 * time.Second)}
	demo.Bots[0].Deployed, demo.Bots[0].Running = time.Second, 15*time.Second
	s := newStack(t, "restart", stackOptions{Sims: simenv.Options{AA: &demo}, HostPort: addr, Namespace: "default"})
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	// An execution held 60 s still ends inside the client's 75 s execute timeout.
	s.Gate.Gather(2*n, time.Minute)
	started := time.Now()
	var apiTasks, others []workflowStart
	for i := range n {
		apiTasks = append(apiTasks,
			workflowStart{fmt.Sprintf("restart-task-%d", i), contract.DeployAPITaskWorkflow, apiTaskInput("cr", fmt.Sprintf("task-%d", i), false)},
			workflowStart{fmt.Sprintf("restart-itask-%d", i), contract.DeployAPITaskWorkflow, apiTaskInput("cr", fmt.Sprintf("itask-%d", i), true)})
		others = append(others,
			workflowStart{fmt.Sprintf("restart-bot-%d", i), contract.DeployBotWorkflow, botInput(fmt.Sprintf("bot-%d", i))},
			workflowStart{fmt.Sprintf("restart-job-%d", i), contract.StartJobWorkflow,
				contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices", InputArguments: map[string]any{"count": i}}},
			workflowStart{fmt.Sprintf("restart-item-%d", i), contract.AddQueueItemWorkflow,
				contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: fmt.Sprintf("PO-%d", i),
					SpecificContent: map[string]any{"n": float64(i)}}},
			workflowStart{fmt.Sprintf("restart-work-%d", i), contract.AddWorkItemWorkflow,
				contract.AddWorkItemInput{Profile: "cr", Queue: "Invoices", Data: map[string]any{"invoice": fmt.Sprintf("INV-%d", i)}}})
	}
	// The API Tasks first, all at once: started one by one behind the
	// rest, on a loaded server, the last would come long after the first.
	runs := append(s.startAll(ctx, apiTasks), s.startAll(ctx, others)...)
	// The restart must find every API Task executing: their workflows
	// reach the platform seconds apart on a loaded machine (starts and
	// first tasks queue at the server), so the gate holds each execution
	// until all are there, and the case waits until the platform runs
	// them all.
	aa := s.Sims.AA.Counters()
	deadline := time.Now().Add(2 * time.Minute)
	for s.Sims.AA.InFlight() < 2*n || aa.Get("deploy") < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("work never got in flight: the platform runs %d of %d API Task executions (%d reached the gate, %d are there now), deploys %d/%d",
				s.Sims.AA.InFlight(), 2*n, s.Gate.Gathered(), s.Gate.ExecutionsInFlight(), aa.Get("deploy"), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	inFlight, gathered := s.Sims.AA.InFlight(), time.Since(started)
	err := dev.Stop()
	dev = nil
	if err != nil {
		t.Fatalf("stopping the dev server: %v", err)
	}
	time.Sleep(down)
	dev = startFileServer(t, addr, db)
	restartedAt := time.Now()

	outcomes := waitAll(ctx, runs)
	lost, ambiguous := 0, 0
	for _, o := range outcomes {
		// A non-idempotent execution (or work item add) that finishes while
		// the server is down may have its result lost (the attempt's
		// heartbeat timeout passes before the SDK's delayed report lands);
		// the retry then refuses to send it again. That is Ambiguous, never
		// a second one.
		if (strings.HasPrefix(o.id, "restart-task-") || strings.HasPrefix(o.id, "restart-work-")) && contract.TypeOf(o.err) == contract.ErrAmbiguous {
			ambiguous++
			continue
		}
		if o.err != nil {
			lost++
			t.Errorf("%s after the server restart: %v", o.id, o.err)
			continue
		}
		var check string
		switch key := o.id[len("restart-"):]; {
		case strings.HasPrefix(key, "task") || strings.HasPrefix(key, "itask"):
			var res contract.DeployAPITaskResult
			_ = json.Unmarshal(o.result, &res)
			if res.BotOutput["State"] != "ran:"+key {
				check = fmt.Sprintf("State %v, want ran:%s", res.BotOutput["State"], key)
			}
		case strings.HasPrefix(key, "bot"):
			var res contract.DeployBotResult
			_ = json.Unmarshal(o.result, &res)
			if res.Status != "COMPLETED" || res.BotOutput["sOutput"] != "done: "+key {
				check = fmt.Sprintf("%s %v", res.Status, res.BotOutput)
			}
		case strings.HasPrefix(key, "work"):
			var res contract.AddWorkItemResult
			_ = json.Unmarshal(o.result, &res)
			if res.ID == "" {
				check = fmt.Sprintf("no work item: %+v", res)
			}
		case strings.HasPrefix(key, "job"):
			var res contract.StartJobResult
			_ = json.Unmarshal(o.result, &res)
			if res.State != "Successful" {
				check = fmt.Sprintf("job state %s", res.State)
			}
		default:
			var res contract.AddQueueItemResult
			_ = json.Unmarshal(o.result, &res)
			if res.ID == 0 && !res.Duplicate {
				check = fmt.Sprintf("no queue item: %+v", res)
			}
		}
		if check != "" {
			lost++
			t.Errorf("%s: %s", o.id, check)
		}
	}
	for i := range n {
		if got := s.Gate.Executions(fmt.Sprintf("task-%d", i)); got != 1 {
			lost++
			t.Errorf("non-idempotent task-%d reached the platform %d times, want once", i, got)
		}
	}
	twice := func(counts map[string]int) (n int) {
		for _, c := range counts {
			n += max(c-1, 0)
		}
		return n
	}
	tasks := map[string]int{}
	for i := range n {
		tasks[fmt.Sprint(i)] = s.Gate.Executions(fmt.Sprintf("task-%d", i))
	}
	for _, k := range []struct {
		kind string
		n    int
	}{
		{"API Task (not idempotent)", twice(tasks)},
		{"bot deployment", twice(s.Sims.AA.AutomationNames())},
		{"job", twice(s.Sims.Orchestrator.JobReferences())},
		{"queue item", twice(s.Sims.Orchestrator.ItemReferences())},
		{"work item (not idempotent)", twice(s.Sims.AA.WorkItemValues("invoice"))},
	} {
		t.Logf("reliability: server-restart: %s started twice: %d", k.kind, k.n)
		if k.n != 0 {
			t.Errorf("%s: %d started twice, want 0", k.kind, k.n)
		}
	}
	orch := s.Sims.Orchestrator.Counters()
	if aa.Get("deploy") != int64(n) || orch.Get("startJobs") != int64(n) || s.Sims.Orchestrator.Jobs() != n {
		t.Errorf("deploys %d, StartJobs calls %d, jobs %d; want %d each (nothing repeated)", aa.Get("deploy"), orch.Get("startJobs"), s.Sims.Orchestrator.Jobs(), n)
	}
	for _, id := range []string{contract.AASessionID("cr"), contract.OrchestratorSessionID("orch")} {
		if _, err := s.token(ctx, id, time.Second); err != nil {
			t.Errorf("session %s after the restart: %v", id, err)
		}
	}
	t.Logf("reliability: server-restart: tried a %s Temporal outage (file-backed dev server stopped and restarted) under %d+%d non-idempotent+idempotent API Tasks (%d executing, %s after the starts), %d bots, %d jobs, %d queue items, %d work items; "+
		"all done %s after the restart, %d non-idempotent ended Ambiguous (sent once, result lost), logins %d, lost %d",
		down, n, n, inFlight, gathered.Round(time.Second), n, n, n, n, time.Since(restartedAt).Round(time.Second), ambiguous, aa.Get("login"), lost)
}
