package reliability

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

func longBot() contract.DeployBotInput {
	return contract.DeployBotInput{Profile: "cr", BotID: aasim.LongBotID, RunAsUserIDs: []int64{aasim.DemoUserID}}
}

func longJob() contract.StartJobInput {
	return contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "LongRunning"}
}

// runStop is the RunStop a cancelled workflow ended with.
func runStop(err error) (contract.RunStop, error) {
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		return contract.RunStop{}, fmt.Errorf("ended with %v, want Canceled", err)
	}
	var s contract.RunStop
	return s, ce.Details(&s)
}

func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testCancelMany cancels 50 running jobs and 50 running bots at once:
// every run is stopped at its platform (none still running) and every
// workflow ends Canceled with the platform's final status.
func testCancelMany(t *testing.T) {
	n := 50
	s := newStack(t, "cancel-many", stackOptions{})
	s.env["RPAFLOW_POLL_BUDGET_PER_MINUTE"] = "600" // the stops' watch reads; the stop requests themselves skip the budget
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var runs []client.WorkflowRun
	for i := range n {
		runs = append(runs, s.start(ctx, fmt.Sprintf("cancel-bot-%d", i), contract.DeployBotWorkflow, longBot()))
		runs = append(runs, s.start(ctx, fmt.Sprintf("cancel-job-%d", i), contract.StartJobWorkflow, longJob()))
	}
	aaSim, orchSim := s.Sims.AA, s.Sims.Orchestrator
	until(t, 2*time.Minute, "every run started", func() bool {
		return aaSim.Counters().Get("deploy") == int64(n) && orchSim.Jobs() == n
	})
	time.Sleep(2 * time.Second) // the waits are polling
	if a, o := aaSim.Running(), orchSim.Running(); a != n || o != n {
		t.Fatalf("before the cancel: %d bots and %d jobs running, want %d each", a, o, n)
	}
	cancelled := time.Now()
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Client.CancelWorkflow(ctx, r.GetID(), ""); err != nil {
				t.Errorf("cancel %s: %v", r.GetID(), err)
			}
		}()
	}
	wg.Wait()
	outcomes := waitAll(ctx, runs)
	took := time.Since(cancelled).Round(time.Millisecond)
	for _, o := range outcomes {
		st, err := runStop(o.err)
		if err != nil || !st.Terminal || (st.FinalStatus != "RUN_ABORTED" && st.FinalStatus != "Stopped") {
			t.Errorf("%s: stop %+v, %v", o.id, st, err)
		}
	}
	a, o := aaSim.Running(), orchSim.Running()
	t.Logf("%d bots and %d jobs cancelled at once: all workflows ended in %v; still running: %d bots, %d jobs; stop requests: %d AA, %d SoftStop",
		n, n, took, a, o, aaSim.Counters().Get("activity.manage.stop"), orchSim.Counters().Get("stopJobs.SoftStop"))
	if a != 0 || o != 0 {
		t.Errorf("runs left behind: %d bots, %d jobs", a, o)
	}
	if got := aaSim.Counters().Get("activity.manage.stop"); got != int64(n) {
		t.Errorf("%d Control Room stop requests for %d bots", got, n)
	}
	if got := orchSim.Counters().Get("stopJobs.SoftStop"); got != int64(n) {
		t.Errorf("%d SoftStops for %d jobs", got, n)
	}
}

// testKillDuringStop SIGKILLs the worker while a bot and a job are being
// stopped (their platforms take 20 s to stop them): a new worker finishes
// the stops without asking again, and both workflows end Canceled.
func testKillDuringStop(t *testing.T) {
	demo := aasim.DefaultOptions()
	for i := range demo.Bots {
		if demo.Bots[i].ID == aasim.LongBotID {
			demo.Bots[i].StopDelay = 20 * time.Second
		}
	}
	orch := orchsim.DefaultOptions()
	for i := range orch.Folders[0].Releases {
		if r := &orch.Folders[0].Releases[i]; r.Name == "LongRunning" {
			r.StopDelay = 20 * time.Second
		}
	}
	s := newStack(t, "kill-stop", stackOptions{Sims: simenv.Options{AA: &demo, Orchestrator: &orch}})
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	runs := []client.WorkflowRun{s.start(ctx, "kill-stop-bot", contract.DeployBotWorkflow, longBot()),
		s.start(ctx, "kill-stop-job", contract.StartJobWorkflow, longJob())}
	aaC, orchC := s.Sims.AA.Counters(), s.Sims.Orchestrator.Counters()
	until(t, time.Minute, "both runs polled", func() bool { return aaC.Get("activity.list") >= 1 && orchC.Get("job.get") >= 1 })
	for _, r := range runs {
		if err := s.Client.CancelWorkflow(ctx, r.GetID(), ""); err != nil {
			t.Fatal(err)
		}
	}
	until(t, time.Minute, "both stop requests sent", func() bool {
		return aaC.Get("activity.manage.stop") == 1 && orchC.Get("stopJobs.SoftStop") == 1
	})
	time.Sleep(time.Second) // the "stop sent" heartbeats reach the server
	s.killWorker()
	if s.Sims.AA.Running() != 1 || s.Sims.Orchestrator.Running() != 1 {
		t.Fatalf("the kill point was missed: %d bots, %d jobs still stopping", s.Sims.AA.Running(), s.Sims.Orchestrator.Running())
	}
	s.startWorker()
	for _, o := range waitAll(ctx, runs) {
		st, err := runStop(o.err)
		if err != nil || !st.Terminal || (st.FinalStatus != "RUN_ABORTED" && st.FinalStatus != "Stopped") {
			t.Errorf("%s: stop %+v, %v", o.id, st, err)
		}
	}
	if s.Sims.AA.Running() != 0 || s.Sims.Orchestrator.Running() != 0 {
		t.Errorf("runs alive after the stops: %d bots, %d jobs", s.Sims.AA.Running(), s.Sims.Orchestrator.Running())
	}
	if a, o, k := aaC.Get("activity.manage.stop"), orchC.Get("stopJobs.SoftStop"), orchC.Get("stopJobs.Kill"); a != 1 || o != 1 || k != 0 {
		t.Errorf("stop requests: %d AA, %d SoftStop, %d Kill; want each stop sent once and no Kill", a, o, k)
	}
}
