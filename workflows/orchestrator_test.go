package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// Criterion 10: a Faulted job is RunFailed carrying Orchestrator's Info; a Successful one returns its outputs.
func TestStartJob(t *testing.T) {
	for _, state := range []string{"Successful", "Faulted", "Stopped"} {
		t.Run(state, func(t *testing.T) {
			env := newEnv(t)
			var start contract.StartJobInput
			env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in contract.StartJobInput) (activities.JobRef, error) {
					start = in
					return activities.JobRef{ID: 42, Key: "k-42", FolderID: 7, Folder: "Shared"}, nil
				}).Once()
			env.OnActivity(orch.OrchWaitJob, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.WaitJobInput) (contract.StartJobResult, error) {
					if in.Job.ID != 42 || in.Job.FolderID != 7 || in.Profile != "orch" {
						t.Errorf("wait input %+v", in)
					}
					return contract.StartJobResult{ID: 42, Key: "k-42", State: state, Info: "Invoice 17: NullReferenceException",
						OutputArguments: map[string]any{"total": 12.5}}, nil
				}).After(time.Hour)
			env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices",
				InputArguments: map[string]any{"batch": "A"}, Priority: "High"})
			if start.Process != "Invoices" || start.Folder != "Shared" || start.Priority != "High" || start.InputArguments["batch"] != "A" {
				t.Fatalf("start input %+v", start)
			}
			err := env.GetWorkflowError()
			if state == "Successful" {
				var res contract.StartJobResult
				if err != nil || env.GetWorkflowResult(&res) != nil || res.ID != 42 || res.OutputArguments["total"] != 12.5 {
					t.Fatalf("result %+v %v", res, err)
				}
				return
			}
			requireAppErr(t, err, contract.ErrRunFailed, true, state, "Invoice 17: NullReferenceException", "42")
		})
	}
}

func TestStartJob_InvalidInput(t *testing.T) {
	cases := []struct {
		in    contract.StartJobInput
		field string
	}{
		{contract.StartJobInput{Folder: "Shared", Process: "P"}, "profile"},
		{contract.StartJobInput{Profile: "orch", Process: "P"}, "folder"},
		{contract.StartJobInput{Profile: "orch", Folder: "Shared"}, "process"},
		{contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "P", Priority: "urgent"}, "priority"},
	}
	for _, c := range cases {
		env := newEnv(t)
		env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(activities.JobRef{}, nil).Never()
		env.ExecuteWorkflow(StartJob, c.in)
		requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, c.field+":")
	}
}

// Starting a job is not repeated on an unknown outcome unless idempotent.
func TestStartJob_Ambiguous(t *testing.T) {
	for _, idem := range []bool{false, true} {
		env := newEnv(t)
		calls := 0
		env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(
			func(context.Context, contract.StartJobInput) (activities.JobRef, error) {
				calls++
				if calls == 1 {
					return activities.JobRef{}, temporal.NewApplicationError("sent, no answer", string(contract.ErrAmbiguous))
				}
				return activities.JobRef{ID: 1}, nil
			})
		env.OnActivity(orch.OrchWaitJob, mock.Anything, mock.Anything).Return(contract.StartJobResult{ID: 1, State: "Successful"}, nil).Maybe()
		env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "P", Idempotent: idem})
		err := env.GetWorkflowError()
		if idem && (err != nil || calls != 2) || !idem && (calls != 1 || contract.ErrorType(appErr(t, err).Type()) != contract.ErrAmbiguous) {
			t.Fatalf("idempotent=%v: calls=%d err=%v", idem, calls, err)
		}
	}
}

// Criterion 10: AddQueueItem validation and retry rules.
func TestAddQueueItem_NestedContent(t *testing.T) {
	for key, v := range map[string]any{"lines": []any{1, 2}, "address": map[string]any{"city": "X"}} {
		env := newEnv(t)
		env.OnActivity(orch.OrchAddQueueItem, mock.Anything, mock.Anything).Return(activities.QueueItemRef{}, nil).Never()
		env.ExecuteWorkflow(AddQueueItem, contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders",
			SpecificContent: map[string]any{"ok": "1", "n": 2, "b": true, "z": nil, key: v}})
		requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "specificContent."+key)
	}
	for _, c := range []struct {
		in    contract.AddQueueItemInput
		field string
	}{
		{contract.AddQueueItemInput{Profile: "orch", Folder: "Shared"}, "queue"},
		{contract.AddQueueItemInput{Profile: "orch", Queue: "Q"}, "folder"},
		{contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Q", Priority: "Urgent"}, "priority"},
	} {
		env := newEnv(t)
		env.ExecuteWorkflow(AddQueueItem, c.in)
		requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, c.field+":")
	}
}

func TestAddQueueItem_Retry(t *testing.T) {
	for _, ref := range []string{"", "PO-1"} {
		t.Run("reference="+ref, func(t *testing.T) {
			env := newEnv(t)
			calls := 0
			var got contract.AddQueueItemInput
			env.OnActivity(orch.OrchAddQueueItem, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in contract.AddQueueItemInput) (activities.QueueItemRef, error) {
					calls++
					got = in
					if calls < 3 {
						return activities.QueueItemRef{}, temporal.NewApplicationError("sent, no answer", string(contract.ErrAmbiguous))
					}
					return activities.QueueItemRef{AddQueueItemResult: contract.AddQueueItemResult{ID: 9, Key: "k", Status: "New", Reference: in.Reference}}, nil
				})
			env.ExecuteWorkflow(AddQueueItem, contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: ref,
				SpecificContent: map[string]any{"PO": "1"}})
			err := env.GetWorkflowError()
			if ref == "" {
				if calls != 1 || contract.ErrorType(appErr(t, err).Type()) != contract.ErrAmbiguous {
					t.Fatalf("without a reference: calls=%d err=%v", calls, err)
				}
				return
			}
			var res contract.AddQueueItemResult
			if err != nil || calls != 3 || env.GetWorkflowResult(&res) != nil || res.ID != 9 || got.Reference != "PO-1" || got.Queue != "Orders" {
				t.Fatalf("with a reference: calls=%d err=%v res=%+v", calls, err, res)
			}
		})
	}
}
