package integration

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/integration/caller"
	"github.com/rpaflow/rpaflow/test/secretscan"
)

// callerSide is another team's namespace: its own worker and client with
// the SDK's default converter, no rpaflow key.
type callerSide struct {
	Namespace, TaskQueue, Endpoint string
	Client                         client.Client
}

// newCaller creates a namespace-local caller worker and a Nexus endpoint
// that targets s's namespace and task queue, with the Temporal CLI as the
// README says.
func newCaller(t *testing.T, s *stack) *callerSide {
	t.Helper()
	ns, err := namespaces.Next()
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "rpaflow-" + strings.ReplaceAll(s.Namespace, "-", "")
	recipe := readmeRecipes(t)["nexus-endpoint"]
	if recipe == nil {
		t.Fatal("README.md has no recipe nexus-endpoint")
	}
	args := append([]string(nil), recipe[1:]...)
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--name":
			args[i+1] = endpoint
		case "--target-namespace":
			args[i+1] = s.Namespace
		case "--target-task-queue":
			if args[i+1] != contract.DefaultTaskQueue {
				t.Fatalf("the recipe targets task queue %q, want the default %q", args[i+1], contract.DefaultTaskQueue)
			}
			args[i+1] = s.TaskQueue
		case "--description-file":
			args[i+1] = filepath.Join("../..", args[i+1]) // the recipe runs from the repository root
		}
	}
	if _, err := s.cli(args...); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: ns, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cs := &callerSide{Namespace: ns, TaskQueue: "caller", Endpoint: endpoint, Client: c}
	w := worker.New(c, cs.TaskQueue, worker.Options{})
	w.RegisterWorkflow(caller.NexusStep)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return cs
}

func (cs *callerSide) run(t *testing.T, id string, step caller.Step) caller.Outcome {
	t.Helper()
	step.Endpoint = cs.Endpoint
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := cs.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cs.TaskQueue}, caller.NexusStep, step)
	if err != nil {
		t.Fatal(err)
	}
	var out caller.Outcome
	if err := run.Get(ctx, &out); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return out
}

// A workflow in another namespace deploys through rpaflow's Nexus service
// with nothing but package contract and its own default converter: results
// arrive readable, failures keep their error types, and no token, API key
// or client secret lands in either namespace's history or the worker log.
func TestNexusCallerInAnotherNamespace(t *testing.T) {
	s := newStack(t, stackOptions{Extra: map[string]string{"RPAFLOW_CR_POOLS": "apitask=2"}})
	cs := newCaller(t, s)

	task := cs.run(t, "caller-api-task", caller.Step{APITask: &contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask,
		BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)}, Admission: &contract.Admission{Priority: 2, FairnessKey: "team-a"}}})
	if task.ErrorType != "" || task.APITask == nil || task.APITask.BotOutput["State"] != "California" {
		t.Errorf("deployApiTask: %+v", task)
	}
	pool := cs.run(t, "caller-pool-status", caller.Step{Pool: &contract.PoolStatusInput{Profile: "cr", Pool: contract.PoolAPITask}})
	if pool.ErrorType != "" || pool.Pool == nil || pool.Pool.Limit != 2 || pool.Pool.Counts.Granted != 1 || pool.Pool.InUse != 0 {
		t.Errorf("poolStatus after one pooled deployment: %+v", pool)
	}
	noPool := cs.run(t, "caller-pool-status-unknown", caller.Step{Pool: &contract.PoolStatusInput{Profile: "cr", Pool: "runners"}})
	if noPool.ErrorType != contract.ErrInvalidInput || noPool.Field != "pool" {
		t.Errorf("poolStatus of an unknown pool: %+v, want InvalidInput naming pool", noPool)
	}

	job := cs.run(t, "caller-job", caller.Step{Job: &contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices",
		InputArguments: map[string]any{"count": 3}}})
	if job.ErrorType != "" || job.Job == nil || job.Job.State != contract.JobSuccessful || job.Job.OutputArguments["count"] != float64(3) {
		t.Errorf("startJob: %+v", job)
	}

	faulted := cs.run(t, "caller-job-faulted", caller.Step{Job: &contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Broken"}})
	if faulted.ErrorType != contract.ErrRunFailed || faulted.FailedJob == nil || faulted.FailedJob.State != "Faulted" ||
		!strings.Contains(faulted.Message, "Invoice file missing") {
		t.Errorf("startJob of a faulting process: %+v, want RunFailed carrying the Faulted job and Orchestrator's info", faulted)
	}

	item := cs.run(t, "caller-queue-item", caller.Step{QueueItem: &contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders",
		Reference: "PO-NX-1", SpecificContent: map[string]any{"amount": 12.5}}})
	if item.ErrorType != "" || item.QueueItem == nil || item.QueueItem.ID == 0 || item.QueueItem.Duplicate {
		t.Errorf("addQueueItem: %+v", item)
	}

	work := cs.run(t, "caller-work-item", caller.Step{WorkItem: &contract.AddWorkItemInput{Profile: "cr", Queue: "Invoices",
		Data: map[string]any{"invoice": "INV-NX-1"}, Wait: true}})
	if work.ErrorType != "" || work.WorkItem == nil || work.WorkItem.Status != "COMPLETED" {
		t.Errorf("addWorkItem with wait: %+v", work)
	}

	bad := cs.run(t, "caller-bad-input", caller.Step{APITask: &contract.DeployAPITaskInput{Profile: "cr"}})
	if bad.ErrorType != contract.ErrInvalidInput || bad.Field != "botRepositoryPath" {
		t.Errorf("bad input: %+v, want InvalidInput naming botRepositoryPath", bad)
	}
	unknown := cs.run(t, "caller-unknown-profile", caller.Step{Job: &contract.StartJobInput{Profile: "nope", Folder: "Shared", Process: "Invoices"}})
	if unknown.ErrorType != contract.ErrInvalidInput || !strings.Contains(unknown.Message, "orch") {
		t.Errorf("unknown profile: %+v, want InvalidInput listing the known profiles", unknown)
	}

	status := cs.run(t, "caller-session-status", caller.Step{Session: &contract.SessionStatusInput{Profile: "cr"}})
	if status.ErrorType != "" || status.Session == nil || status.Session.State != "active" || status.Session.Logins != 1 {
		t.Errorf("sessionStatus: %+v", status)
	}
	hub := cs.run(t, "caller-session-status-hub", caller.Step{Session: &contract.SessionStatusInput{Profile: "hub"}})
	if hub.ErrorType != contract.ErrInvalidInput {
		t.Errorf("sessionStatus of a Hub profile: %+v, want InvalidInput", hub)
	}

	// Nothing secret in either namespace, as anyone without a key sees it.
	secrets := append(s.Sims.AA.IssuedSecrets(), s.Sims.Orchestrator.IssuedSecrets()...)
	if len(secrets) < 4 {
		t.Fatalf("simulators issued %d secrets; expected credentials and tokens of both platforms", len(secrets))
	}
	scan := func(c client.Client, ids ...string) {
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			raw, n, err := secretscan.HistoryBytes(ctx, c, id, "")
			cancel()
			if err != nil || n == 0 {
				t.Fatalf("history of %s: %v (%d events)", id, err, n)
			}
			for _, sec := range secrets {
				if secretscan.Contains(string(raw), sec) {
					t.Errorf("history of %s contains a secret (%d chars)", id, len(sec))
				}
			}
		}
	}
	callerIDs := []string{"caller-api-task", "caller-job", "caller-job-faulted", "caller-queue-item", "caller-work-item", "caller-bad-input", "caller-session-status"}
	scan(cs.Client, callerIDs...)
	rpaflowIDs := []string{contract.AASessionID("cr"), contract.OrchestratorSessionID("orch")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := s.plainClient(t).ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.Namespace,
		Query: "WorkflowId STARTS_WITH '" + contract.NexusWorkflowIDPrefix + "'"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.GetExecutions() {
		rpaflowIDs = append(rpaflowIDs, e.GetExecution().GetWorkflowId())
	}
	// The unknown profile is refused by the handler, before any workflow starts.
	if len(rpaflowIDs) < 2+6 {
		t.Errorf("rpaflow's namespace lists %d Nexus-started workflows, want the 6 deployments", len(rpaflowIDs)-2)
	}
	scan(s.plainClient(t), rpaflowIDs...)
	for _, sec := range secrets {
		if strings.Contains(s.Logs.String(), sec) {
			t.Errorf("worker log contains a secret (%d chars)", len(sec))
		}
	}
}

// Cancelling the caller's workflow cancels the operation, and with it the
// deployment it started in rpaflow's namespace, and the bot at the
// Control Room.
func TestNexusCancelReachesTheDeployment(t *testing.T) {
	long := aasim.DefaultOptions()
	for i := range long.Bots {
		long.Bots[i].Running = time.Hour
	}
	s := newStack(t, stackOptions{Sims: simenv.Options{AA: &long}})
	cs := newCaller(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := cs.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "caller-bot", TaskQueue: cs.TaskQueue}, caller.NexusStep,
		caller.Step{Endpoint: cs.Endpoint, Bot: &contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID}}})
	if err != nil {
		t.Fatal(err)
	}
	rpaflow := s.plainClient(t)
	var deployment string
	waitFor(t, 30*time.Second, "the Nexus operation to start DeployBot", func() bool {
		list, err := rpaflow.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.Namespace,
			Query: "WorkflowType = '" + contract.DeployBotWorkflow + "'"})
		if err != nil || len(list.GetExecutions()) == 0 {
			return false
		}
		deployment = list.GetExecutions()[0].GetExecution().GetWorkflowId()
		return s.Sims.AA.Counters().Get("deploy") == 1
	})
	if !strings.HasPrefix(deployment, contract.NexusWorkflowIDPrefix+s.TaskQueue+":"+contract.OpDeployBot+":") {
		t.Errorf("deployment workflow ID %q does not derive from the Nexus request", deployment)
	}
	if d, err := rpaflow.DescribeWorkflowExecution(ctx, deployment, ""); err != nil {
		t.Error(err)
	} else if _, ok := d.GetWorkflowExecutionInfo().GetMemo().GetFields()[contract.NexusQueueMemo+s.TaskQueue]; !ok {
		t.Errorf("deployment %s has no memo naming the caller's queue %s", deployment, s.TaskQueue)
	}
	if err := cs.Client.CancelWorkflow(ctx, run.GetID(), ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the deployment workflow to be cancelled", func() bool {
		d, err := rpaflow.DescribeWorkflowExecution(ctx, deployment, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_CANCELED
	})
	if running := s.Sims.AA.Running(); running != 0 {
		t.Errorf("%d bots still running at the Control Room after the caller cancelled", running)
	}
	// The cancellation reaches the caller as the deployment recorded it: no
	// details encrypted with rpaflow's key (a TypeScript caller's workflow
	// task fails on a payload it cannot decode).
	it := rpaflow.GetWorkflowHistory(ctx, deployment, "", false, enums.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ev.GetWorkflowExecutionCanceledEventAttributes().GetDetails().GetPayloads() {
			if enc := string(p.GetMetadata()["encoding"]); enc != "json/plain" {
				t.Errorf("the cancelled deployment's details are encoded %q; a caller reads only its own converter's encodings", enc)
			}
		}
	}
}

// quietLogger keeps the callers' SDK logs out of the test output.
func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}
