package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/simkit"
)

// TestRecordDeploymentHistories writes the histories that
// workflows/replay_test.go replays, from the real worker against the
// simulators, in plaintext so they can be read and kept in the repository.
// It runs only when asked, because its output is a fixture, not a verdict:
//
//	RPAFLOW_RECORD_HISTORIES=$PWD/workflows/testdata go test ./test/integration -run TestRecordDeploymentHistories
//
// Record before a change to a deployment workflow or its types, keep the
// files, and the replay test proves running deployments survive the change.
func TestRecordDeploymentHistories(t *testing.T) {
	dir := os.Getenv("RPAFLOW_RECORD_HISTORIES")
	if dir == "" {
		t.Skip("set RPAFLOW_RECORD_HISTORIES=<dir> to record deployment histories")
	}
	s := newStack(t, stackOptions{Extra: map[string]string{"RPAFLOW_CODEC_KEY": "", "RPAFLOW_INSECURE_PLAINTEXT": "true"}})
	runs := []struct {
		file, workflowType string
		input              any
		wantFail           bool
	}{
		{"deploy-api-task", contract.DeployAPITaskWorkflow, map[string]any{"profile": "cr",
			"botRepositoryPath": `Automation Anywhere\Bots\Zip Code API Task`, "botInput": map[string]any{"iStrZipCode": "95134"}}, false},
		{"deploy-bot", contract.DeployBotWorkflow, map[string]any{"profile": "cr", "botId": 87, "runAsUserIds": []int{3},
			"botInput": map[string]any{"sInvoice": "INV-1"}}, false},
		{"start-job", contract.StartJobWorkflow, map[string]any{"profile": "orch", "folder": "Shared", "process": "Invoices",
			"inputArguments": map[string]any{"count": 3}}, false},
		{"start-job-faulted", contract.StartJobWorkflow, map[string]any{"profile": "orch", "folder": "Shared", "process": "Broken"}, true},
		{"add-queue-item", contract.AddQueueItemWorkflow, map[string]any{"profile": "orch", "folder": "Shared", "queue": "Orders",
			"reference": "PO-1", "specificContent": map[string]any{"amount": 12.5}}, false},
	}
	for _, r := range runs {
		record(t, s, dir, r.file, r.workflowType, r.input, r.wantFail)
	}
}

// record runs one workflow to its end and writes its history to
// dir/file.json.
func record(t *testing.T, s *stack, dir, file, workflowType string, input any, wantFail bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "record-" + file, TaskQueue: s.TaskQueue}, workflowType, input)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); (err != nil) != wantFail {
		t.Fatalf("%s: err = %v, want failure %v", file, err, wantFail)
	}
	out, err := s.cli("workflow", "show", "--workflow-id", run.GetID(), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file+".json"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecordEventHistories writes the histories of waits with events on
// that workflows/replay_test.go replays (a job ended by its webhook, one
// whose webhook was lost, a deployment ended by its callback), like
// TestRecordDeploymentHistories:
//
//	RPAFLOW_RECORD_HISTORIES=$PWD/workflows/testdata go test ./test/integration -run TestRecordEventHistories
func TestRecordEventHistories(t *testing.T) {
	dir := os.Getenv("RPAFLOW_RECORD_HISTORIES")
	if dir == "" {
		t.Skip("set RPAFLOW_RECORD_HISTORIES=<dir> to record event histories")
	}
	s := eventsStackReconciling(t, itReconcile, map[string]string{"RPAFLOW_CODEC_KEY": "", "RPAFLOW_INSECURE_PLAINTEXT": "true"})
	ensureWebhook(t, s)
	runs := []struct {
		file, workflowType string
		input              any
		drop               bool
	}{
		{"start-job-event", contract.StartJobWorkflow, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "FiveSeconds"}, false},
		{"start-job-event-lost", contract.StartJobWorkflow, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "FiveSeconds"}, true},
		{"deploy-bot-callback", contract.DeployBotWorkflow, contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID,
			RunAsUserIDs: []int64{aasim.DemoUserID}}, false},
	}
	for _, r := range runs {
		if r.drop {
			s.Sims.Orchestrator.Deliveries().SetFaults(simkit.DeliveryFaults{Drop: 1}, 1)
		}
		record(t, s, dir, r.file, r.workflowType, r.input, false)
	}
}

// TestRecordBudgetHistory writes the history of a tenant budget that
// workflows/replay_test.go replays: three workers' leases, a pause, and
// leases after it. Recorded like TestRecordDeploymentHistories, with the
// file name from RPAFLOW_RECORD_BUDGET (the budget's shape it records):
//
//	RPAFLOW_RECORD_HISTORIES=$PWD/workflows/testdata RPAFLOW_RECORD_BUDGET=tenant-budget-queued-leases \
//	  go test ./test/integration -run TestRecordBudgetHistory
func TestRecordBudgetHistory(t *testing.T) {
	dir, name := os.Getenv("RPAFLOW_RECORD_HISTORIES"), os.Getenv("RPAFLOW_RECORD_BUDGET")
	if dir == "" || name == "" {
		t.Skip("set RPAFLOW_RECORD_HISTORIES=<dir> and RPAFLOW_RECORD_BUDGET=<file name> to record a budget history")
	}
	s := newStack(t, stackOptions{Extra: map[string]string{"RPAFLOW_CODEC_KEY": "", "RPAFLOW_INSECURE_PLAINTEXT": "true"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const perMinute = 600
	var budgets []*activities.TenantBudgets
	for i := range 3 {
		budgets = append(budgets, &activities.TenantBudgets{Client: s.Client, TaskQueue: s.TaskQueue, Worker: fmt.Sprintf("worker-%d", i)})
	}
	takeAll := func(each int) {
		var wg sync.WaitGroup
		for i, b := range budgets {
			for j := range each {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := b.Take(ctx, "orch", perMinute, (i+j)%3 == 0); err != nil {
						t.Errorf("take: %v", err)
					}
				}()
			}
		}
		wg.Wait()
	}
	takeAll(5)
	if err := budgets[0].Pause(ctx, "orch", perMinute, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	takeAll(3)
	id := contract.BudgetID("orch")
	if err := s.Client.TerminateWorkflow(ctx, id, "", "recorded"); err != nil {
		t.Fatal(err)
	}
	out, err := s.cli("workflow", "show", "--workflow-id", id, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}
