package workflows

import (
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
)

// Recorded session histories replay on the current code. Each was recorded
// from a real worker against the dev server and the simulators (20 s
// tokens: a login, an access-details fetch for AA, a renewal), payloads in
// plain JSON with the tokens replaced by placeholders:
//   - *-regular-activity-renewals: runs started before renewals became local
//     activities (they keep renewing through regular activities);
//   - *-local-activity-renewals: runs of the current shape.
//
// A change that breaks one of them would fail every running session on upgrade.
func TestRecordedSessionHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*-session-*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("recorded histories: %v %v", files, err)
	}
	for _, f := range files {
		r := worker.NewWorkflowReplayer()
		if strings.Contains(f, "controlroom") {
			r.RegisterWorkflow(ControlRoomSession)
		} else {
			r.RegisterWorkflow(OrchestratorSession)
		}
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Recorded deployment histories (test/integration/record_histories_test.go, run
// before the deployment types moved into package contract) replay on the
// current code: the JSON field names of inputs, activity payloads and
// results are part of every running deployment's history.
func TestRecordedDeploymentHistoriesReplay(t *testing.T) {
	for file, wf := range map[string]any{
		"deploy-api-task.json":   DeployAPITask,
		"deploy-bot.json":        DeployBot,
		"start-job.json":         StartJob,
		"start-job-faulted.json": StartJob,
		"add-queue-item.json":    AddQueueItem,
		// With events on (test/integration's eventsStack, plaintext): ended
		// by a webhook, by the reconciliation with the webhook lost, and by
		// a deploy callback; recorded before waits reconciled early.
		"start-job-event.json":      StartJob,
		"start-job-event-lost.json": StartJob,
		"deploy-bot-callback.json":  DeployBot,
	} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflow(wf)
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", file)); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// Recorded tenant budget histories (test/integration/record_histories_test.go)
// replay on the current code: tenant-budget-queued-leases is a budget whose
// leases wait in its queue and are granted for use at once.
func TestRecordedBudgetHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/tenant-budget-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("recorded budget histories: %v %v", files, err)
	}
	for _, f := range files {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflow(TenantBudget)
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
