package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/contract"
)

// A job and a queue item from the Temporal CLI share one Orchestrator session.
func TestStartJobAndAddQueueItemFromTemporalCLI(t *testing.T) {
	s := newStack(t, stackOptions{})
	out, err := s.cli("workflow", "execute", "--type", contract.StartJobWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-job", "--input", `{"profile":"orch","folder":"Shared","process":"Invoices","inputArguments":{"count":3}}`,
		"--codec-endpoint", s.codecEndpoint(), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Result struct {
			JobID           int64          `json:"jobId"`
			State           string         `json:"state"`
			OutputArguments map[string]any `json:"outputArguments"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if job.Result.State != "Successful" || job.Result.JobID == 0 {
		t.Errorf("job result = %+v, want a Successful job", job.Result)
	}
	if job.Result.OutputArguments["count"] != float64(3) {
		t.Errorf("outputArguments = %v, want count 3 echoed by the process", job.Result.OutputArguments)
	}

	item := `{"profile":"orch","folder":"Shared","queue":"Orders","reference":"PO-1","priority":"Normal","specificContent":{"amount":12.5}}`
	for i, wantDup := range []bool{false, true} {
		out, err := s.cli("workflow", "execute", "--type", contract.AddQueueItemWorkflow, "--task-queue", s.TaskQueue,
			"--input", item, "--codec-endpoint", s.codecEndpoint(), "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Result struct {
				ID        int64 `json:"id"`
				Duplicate bool  `json:"duplicate"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if res.Result.Duplicate != wantDup {
			t.Errorf("add #%d: duplicate = %v, want %v (%s)", i+1, res.Result.Duplicate, wantDup, out)
		}
	}
	if got := s.Sims.Orchestrator.Counters().Get("token"); got != 1 {
		t.Errorf("token requests = %d for one job and two queue items, want 1 (one shared session)", got)
	}

	// A missing folder fails non-retryably with the platform's hint.
	_, err = s.cli("workflow", "execute", "--type", contract.StartJobWorkflow, "--task-queue", s.TaskQueue,
		"--input", `{"profile":"orch","folder":"Nope","process":"Invoices"}`, "--codec-endpoint", s.codecEndpoint(), "-o", "json")
	if err == nil || !strings.Contains(err.Error(), "Shared") {
		t.Errorf("unknown folder: want a failure listing the known folders, got %v", err)
	}
}
