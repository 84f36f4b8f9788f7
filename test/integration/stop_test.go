package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// waitFor polls cond every 100 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// `temporal workflow cancel` on a running DeployBot and StartJob stops the
// bot and the job at the simulators, and each workflow ends Canceled with
// the platform's final status in its details.
func TestCancelFromCLIStopsTheRuns(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bot, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-stop-bot", TaskQueue: s.TaskQueue},
		contract.DeployBotWorkflow, contract.DeployBotInput{Profile: "cr", BotID: aasim.LongBotID, RunAsUserIDs: []int64{aasim.DemoUserID}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-stop-job", TaskQueue: s.TaskQueue},
		contract.StartJobWorkflow, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "LongRunning"})
	if err != nil {
		t.Fatal(err)
	}
	aaSim, orchSim := s.Sims.AA, s.Sims.Orchestrator
	waitFor(t, time.Minute, "both runs started", func() bool { return aaSim.Running() == 1 && orchSim.Running() == 1 })
	time.Sleep(2 * time.Second) // both waits are polling
	for _, id := range []string{"it-stop-bot", "it-stop-job"} {
		if _, err := s.cli("workflow", "cancel", "--workflow-id", id); err != nil {
			t.Fatal(err)
		}
	}
	for name, run := range map[string]client.WorkflowRun{"DeployBot": bot, "StartJob": job} {
		err := run.Get(ctx, nil)
		var ce *temporal.CanceledError
		if !errors.As(err, &ce) {
			t.Fatalf("%s ended with %v, want Canceled", name, err)
		}
		var stop contract.RunStop
		if err := ce.Details(&stop); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"DeployBot": "RUN_ABORTED", "StartJob": "Stopped"}[name]
		if stop.FinalStatus != want || !stop.Terminal || stop.Reason != contract.StopCancelled {
			t.Errorf("%s stop = %+v, want %s", name, stop, want)
		}
	}
	if aaSim.Running() != 0 || aaSim.Aborted() != 1 || aaSim.Counters().Get("activity.manage.stop") != 1 {
		t.Errorf("Control Room: %d running, %d aborted, counters %v", aaSim.Running(), aaSim.Aborted(), aaSim.Counters().Snapshot())
	}
	if orchSim.Running() != 0 || orchSim.Counters().Get("stopJobs.SoftStop") != 1 || orchSim.Counters().Get("stopJobs.Kill") != 0 {
		t.Errorf("Orchestrator: %d running, counters %v", orchSim.Running(), orchSim.Counters().Snapshot())
	}
}

// A DeployBot and a StartJob whose input timeout passes stop their runs and
// fail with TimedOut and the platform's final status in the details.
func TestInputTimeoutStopsTheRuns(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bot, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-timeout-bot", TaskQueue: s.TaskQueue},
		contract.DeployBotWorkflow, contract.DeployBotInput{Profile: "cr", BotID: aasim.LongBotID,
			RunAsUserIDs: []int64{aasim.DemoUserID}, Timeout: contract.Duration(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	job, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-timeout-job", TaskQueue: s.TaskQueue},
		contract.StartJobWorkflow, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Stubborn",
			Timeout: contract.Duration(5 * time.Second), StopGrace: contract.Duration(3 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]client.WorkflowRun{"DeployBot": bot, "StartJob": job} {
		err := run.Get(ctx, nil)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || contract.ErrorType(app.Type()) != contract.ErrTimedOut {
			t.Fatalf("%s ended with %v, want TimedOut", name, err)
		}
		var stop contract.RunStop
		if err := app.Details(&stop); err != nil {
			t.Fatal(err)
		}
		if !stop.Terminal || stop.Reason != contract.StopTimedOut || stop.FinalStatus == "" {
			t.Errorf("%s stop = %+v", name, stop)
		}
		t.Logf("%s: %v; requests %v", name, err, stop.Requests)
	}
	if s.Sims.AA.Running() != 0 || s.Sims.Orchestrator.Running() != 0 {
		t.Errorf("runs alive: Control Room %d, Orchestrator %d", s.Sims.AA.Running(), s.Sims.Orchestrator.Running())
	}
	// The stubborn job ignored SoftStop and was killed after the 3 s grace.
	if c := s.Sims.Orchestrator.Counters(); c.Get("stopJobs.SoftStop") != 1 || c.Get("stopJobs.Kill") != 1 {
		t.Errorf("stop requests %v, want one SoftStop and one Kill", c.Snapshot())
	}
}

// A workflow execution timeout shorter than the wait: the wait ends early
// enough for the stop, so the job is stopped before Temporal ends the run.
func TestExecutionTimeoutStopsTheJob(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := time.Now()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-exec-timeout-job", TaskQueue: s.TaskQueue,
		WorkflowExecutionTimeout: 40 * time.Second}, contract.StartJobWorkflow, longJobInput())
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || contract.ErrorType(app.Type()) != contract.ErrTimedOut {
		t.Fatalf("ended with %v after %v, want TimedOut before the 40 s execution timeout", err, time.Since(started))
	}
	var stop contract.RunStop
	if err := app.Details(&stop); err != nil || stop.FinalStatus != "Stopped" || !stop.Terminal {
		t.Fatalf("stop %+v, %v", stop, err)
	}
	if n := s.Sims.Orchestrator.Running(); n != 0 {
		t.Fatalf("%d jobs still running", n)
	}
	t.Logf("ended %v after the start: %v", time.Since(started).Round(time.Second), err)
}

func longJobInput() contract.StartJobInput {
	return contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "LongRunning"}
}
