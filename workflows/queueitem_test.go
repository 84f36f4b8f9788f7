package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func queueIn() contract.AddQueueItemInput {
	return contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: "PO-1", Wait: true}
}

func TestAddQueueItem_Wait(t *testing.T) {
	cases := []struct {
		name   string
		final  contract.QueueItemFailure
		ok     bool
		inMsg  []string
		status string
	}{
		{"Successful", contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, Status: "Successful",
			Output: map[string]any{"orderStatus": "processed"}}}, true, nil, "Successful"},
		{"Failed business", contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, Status: "Failed"},
			Reason: "credit limit", Type: "BusinessException"}, false, []string{"queue item 5 ended Failed", "BusinessException: credit limit"}, "Failed"},
		{"Failed after retries", contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, FinalID: 8, Status: "Failed"},
			Reason: "crash", Type: "ApplicationException"}, false, []string{"last retry, item 8", "ApplicationException: crash"}, "Failed"},
		{"Abandoned", contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, Status: "Abandoned"}},
			false, []string{"queue item 5 ended Abandoned"}, "Abandoned"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			env.OnActivity(orch.OrchAddQueueItem, mock.Anything, mock.Anything).Return(activities.QueueItemRef{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, Status: "New"}}, nil)
			var got activities.WaitQueueItemInput
			env.OnActivity(orch.OrchWaitQueueItem, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.WaitQueueItemInput) (contract.QueueItemFailure, error) {
					got = in
					return c.final, nil
				}).After(time.Hour)
			env.ExecuteWorkflow(AddQueueItem, queueIn())
			if got.ID != 5 || got.Reference != "PO-1" || got.Folder != "Shared" {
				t.Fatalf("wait input %+v", got)
			}
			err := env.GetWorkflowError()
			if c.ok {
				var res contract.AddQueueItemResult
				if err != nil || env.GetWorkflowResult(&res) != nil || res.Output["orderStatus"] != "processed" {
					t.Fatalf("result %+v, %v", res, err)
				}
				return
			}
			requireAppErr(t, err, contract.ErrRunFailed, true, c.inMsg...)
			var details contract.QueueItemFailure
			if derr := appErr(t, err).Details(&details); derr != nil || details.Status != c.status || details.Type != c.final.Type {
				t.Fatalf("details %+v %v", details, derr)
			}
		})
	}
}

func TestAddQueueItem_WaitTimesOut(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(orch.OrchAddQueueItem, mock.Anything, mock.Anything).Return(activities.QueueItemRef{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, Status: "New"}}, nil)
	env.OnActivity(orch.OrchWaitQueueItem, mock.Anything, mock.Anything).Return(contract.QueueItemFailure{}, nil).After(100 * time.Hour).Maybe()
	in := queueIn()
	in.Timeout = contract.Duration(2 * time.Hour)
	env.ExecuteWorkflow(AddQueueItem, in)
	requireAppErr(t, env.GetWorkflowError(), contract.ErrTimedOut, true, "queue item 5 did not end within 2h0m0s")
}

// Without wait nothing is watched, as before.
func TestAddQueueItem_NoWait(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(orch.OrchAddQueueItem, mock.Anything, mock.Anything).Return(activities.QueueItemRef{AddQueueItemResult: contract.AddQueueItemResult{ID: 5, Status: "New"}}, nil)
	in := queueIn()
	in.Wait = false
	env.ExecuteWorkflow(AddQueueItem, in)
	var res contract.AddQueueItemResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != "New" {
		t.Fatalf("%+v %v", res, err)
	}
	in.Timeout = contract.Duration(time.Hour)
	env = newEnv(t)
	env.ExecuteWorkflow(AddQueueItem, in)
	requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "timeout", "wait")
}
