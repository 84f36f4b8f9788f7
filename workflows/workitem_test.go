package workflows

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func workIn() contract.AddWorkItemInput {
	return contract.AddWorkItemInput{Profile: "cr", Queue: "Invoices", Data: map[string]any{"invoice": "INV-1"}, Wait: true}
}

func TestAddWorkItem_Wait(t *testing.T) {
	for _, final := range []contract.AddWorkItemResult{
		{ID: "7", QueueID: "11", Status: "COMPLETED", Result: "booked"},
		{ID: "7", QueueID: "11", Status: "FAILED", Error: "amount must be positive"},
		{ID: "7", QueueID: "11", Status: "DATA_ERROR"},
	} {
		t.Run(final.Status, func(t *testing.T) {
			env := newEnv(t)
			env.OnActivity(cr.AAAddWorkItem, mock.Anything, mock.Anything).Return(contract.AddWorkItemResult{ID: "7", QueueID: "11", Status: "NEW"}, nil)
			var got activities.WaitWorkItemInput
			env.OnActivity(cr.AAWaitWorkItem, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.WaitWorkItemInput) (contract.AddWorkItemResult, error) {
					got = in
					return final, nil
				}).After(10 * time.Minute)
			env.ExecuteWorkflow(AddWorkItem, workIn())
			if got.ID != "7" || got.QueueID != "11" || got.Profile != "cr" {
				t.Fatalf("wait input %+v", got)
			}
			err := env.GetWorkflowError()
			if final.Status == "COMPLETED" {
				var res contract.AddWorkItemResult
				if err != nil || env.GetWorkflowResult(&res) != nil || res.Result != "booked" {
					t.Fatalf("%+v %v", res, err)
				}
				return
			}
			requireAppErr(t, err, contract.ErrRunFailed, true, "work item 7 in queue 11 ended "+final.Status, final.Error)
			var d contract.AddWorkItemResult
			if derr := appErr(t, err).Details(&d); derr != nil || d.Status != final.Status {
				t.Fatalf("details %+v %v", d, derr)
			}
		})
	}
}

func TestAddWorkItem_TimeoutAndNoWait(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(cr.AAAddWorkItem, mock.Anything, mock.Anything).Return(contract.AddWorkItemResult{ID: "7", QueueID: "11", Status: "NEW"}, nil)
	env.OnActivity(cr.AAWaitWorkItem, mock.Anything, mock.Anything).Return(contract.AddWorkItemResult{}, nil).After(100 * time.Hour).Maybe()
	in := workIn()
	in.Timeout = contract.Duration(time.Hour)
	env.ExecuteWorkflow(AddWorkItem, in)
	requireAppErr(t, env.GetWorkflowError(), contract.ErrTimedOut, true, "work item 7 in queue 11 was not processed within 1h0m0s")

	env = newEnv(t)
	env.OnActivity(cr.AAAddWorkItem, mock.Anything, mock.Anything).Return(contract.AddWorkItemResult{ID: "7", QueueID: "11", Status: "NEW"}, nil)
	in.Wait, in.Timeout = false, 0
	env.ExecuteWorkflow(AddWorkItem, in)
	var res contract.AddWorkItemResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != "NEW" {
		t.Fatalf("%+v %v", res, err)
	}
}

// Ambiguous is retried only with idempotent; bad inputs name the field.
func TestAddWorkItem_RetryAndValidation(t *testing.T) {
	for _, idem := range []bool{false, true} {
		t.Run(fmt.Sprint("idempotent=", idem), func(t *testing.T) {
			env := newEnv(t)
			calls := 0
			env.OnActivity(cr.AAAddWorkItem, mock.Anything, mock.Anything).Return(
				func(context.Context, contract.AddWorkItemInput) (contract.AddWorkItemResult, error) {
					calls++
					if calls == 1 {
						return contract.AddWorkItemResult{}, temporal.NewApplicationError("sent, no answer", string(contract.ErrAmbiguous))
					}
					return contract.AddWorkItemResult{ID: "8", Status: "NEW"}, nil
				})
			in := workIn()
			in.Wait, in.Idempotent = false, idem
			env.ExecuteWorkflow(AddWorkItem, in)
			err := env.GetWorkflowError()
			if idem && (err != nil || calls != 2) || !idem && (contract.TypeOf(err) != contract.ErrAmbiguous || calls != 1) {
				t.Fatalf("calls %d, err %v", calls, err)
			}
		})
	}
	for _, c := range []struct {
		edit  func(*contract.AddWorkItemInput)
		field string
	}{
		{func(in *contract.AddWorkItemInput) { in.Queue = " " }, "queue: is empty"},
		{func(in *contract.AddWorkItemInput) { in.Queue = "-3" }, "queue: -3 is not a queue id"},
		{func(in *contract.AddWorkItemInput) { in.Data = nil }, "data: is empty"},
		{func(in *contract.AddWorkItemInput) { in.Data = map[string]any{"x": map[string]any{}} }, "data.x"},
		{func(in *contract.AddWorkItemInput) { in.Timeout = -1 }, "timeout"},
		{func(in *contract.AddWorkItemInput) { in.Profile = "CR" }, "profile"},
	} {
		env := newEnv(t)
		in := workIn()
		c.edit(&in)
		env.ExecuteWorkflow(AddWorkItem, in)
		requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, c.field)
	}
}
