package integration

import (
	"context"
	"encoding/json"
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
)

// Fifty deployments started at once on a fresh stack race to create the
// Control Room session: Update-With-Start must make exactly one of them log
// in, and the task's concurrency limit (2) must only delay, never fail, them.
func TestParallelDeploymentsShareOneLogin(t *testing.T) {
	s := newStack(t, stackOptions{})
	const n = 50
	zips := []string{"95134", "10001", "60601"}
	states := map[string]string{"95134": "California", "10001": "New York", "60601": "Illinois"}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			zip := zips[i%len(zips)]
			run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("it-par-%d", i), TaskQueue: s.TaskQueue},
				contract.DeployAPITaskWorkflow, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask,
					BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"` + zip + `"`)}})
			if err != nil {
				errs[i] = err
				return
			}
			var res contract.DeployAPITaskResult
			if err := run.Get(ctx, &res); err != nil {
				errs[i] = err
				return
			}
			if res.BotOutput["State"] != states[zip] {
				errs[i] = fmt.Errorf("zip %s: State = %v, want %s", zip, res.BotOutput["State"], states[zip])
			}
		}(i)
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("deployment %d: %v", i, err)
			}
		}
	}
	c := s.Sims.AA.Counters()
	t.Logf("%d deployments in %v: logins %d, access-details calls %d, executions %d, rejected at the concurrency limit %d",
		n, time.Since(start).Round(time.Millisecond), c.Get("login"), c.Get("accessdetails"), c.Get("execute"), c.Get("execute.rejected"))
	if failed > 0 {
		t.Errorf("%d of %d deployments failed", failed, n)
	}
	if got := c.Get("login"); got != 1 {
		t.Errorf("logins = %d for %d parallel deployments, want 1", got, n)
	}
	if got, want := c.Get("execute")-c.Get("execute.rejected"), int64(n); got != want {
		t.Errorf("executions that ran = %d, want %d (each task exactly once)", got, want)
	}
}

// The documented CLI example: deploy bot 87 with an input and get its output.
func TestDeployBotFromTemporalCLI(t *testing.T) {
	s := newStack(t, stackOptions{})
	out, err := s.cli("workflow", "execute", "--type", contract.DeployBotWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-invoice-bot", "--input", `{"profile":"cr","botId":87,"runAsUserIds":[3],"botInput":{"sInput1":"INV-2026-001"}}`,
		"--codec-endpoint", s.codecEndpoint(), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Status string                   `json:"status"`
		Result contract.DeployBotResult `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("CLI output is not the expected JSON: %v\n%s", err, out)
	}
	if res.Result.Status != "COMPLETED" || res.Result.DeploymentID == "" {
		t.Errorf("result = %+v, want a COMPLETED deployment", res.Result)
	}
	if got := res.Result.BotOutput["sOutput"]; got != "done: INV-2026-001" {
		t.Errorf("botOutput.sOutput = %v, want %q", got, "done: INV-2026-001")
	}
	if typed := res.Result.RawBotOutput["sOutput"]; typed.Type != "STRING" {
		t.Errorf("rawBotOutput.sOutput = %+v, want a typed STRING", typed)
	}
	if got := s.Sims.AA.Counters().Get("deploy"); got != 1 {
		t.Errorf("deploys = %d, want 1", got)
	}
}

// Cancelling a deployment's workflow stops its status polling: the wait
// activity sees the cancellation at its next heartbeat and returns, and the
// workflow (which waits for that) ends Canceled.
func TestCancelDeployBotStopsPolling(t *testing.T) {
	opts := aasim.DefaultOptions()
	opts.Bots[0].Running = time.Hour // never finishes on its own
	s := newStack(t, stackOptions{Sims: simenv.Options{AA: &opts}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-cancel-bot", TaskQueue: s.TaskQueue},
		contract.DeployBotWorkflow, contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Sims.AA.Counters()
	// Let the wait poll a few times (2 s, then 3 s, 4.5 s apart).
	deadline := time.Now().Add(time.Minute)
	for c.Get("activity.list") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the deployment was not polled 3 times within a minute (polls %d)", c.Get("activity.list"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancelled := time.Now()
	if err := s.Client.CancelWorkflow(ctx, run.GetID(), run.GetRunID()); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("workflow ended with %v, want Canceled", err)
	}
	took := time.Since(cancelled)
	atEnd := c.Get("activity.list")
	// Longer than the longest poll interval the wait reached (~7 s): a
	// still-running poller would be seen.
	time.Sleep(10 * time.Second)
	t.Logf("cancel → workflow Canceled in %v; polls %d at the end, %d ten seconds later", took.Round(time.Millisecond), atEnd, c.Get("activity.list"))
	if got := c.Get("activity.list"); got != atEnd {
		t.Errorf("activity.list grew from %d to %d after the workflow was cancelled: polling did not stop", atEnd, got)
	}
	if took > 20*time.Second {
		t.Errorf("cancellation took %v to stop the wait, want about one poll interval plus the 10 s heartbeat throttle", took)
	}
}
