package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// AddWorkItem adds a work item to an Automation Anywhere WLM queue (once,
// unless idempotent: WLM cannot tell a repeat) and, with wait, watches it
// until it is processed. COMPLETED returns the item; any other end is
// RunFailed carrying it.
func AddWorkItem(ctx workflow.Context, in contract.AddWorkItemInput) (contract.AddWorkItemResult, error) {
	if err := in.Validate(); err != nil {
		return contract.AddWorkItemResult{}, err
	}
	addCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retryPolicy(in.Idempotent, 8),
	})
	var res contract.AddWorkItemResult
	if err := workflow.ExecuteActivity(addCtx, cr.AAAddWorkItem, in).Get(ctx, &res); err != nil || !in.Wait {
		return res, err
	}
	workflow.GetLogger(ctx).Info("work item added", "queueId", res.QueueID, "id", res.ID)
	bound := contract.WaitBound(in.Timeout)
	wait, reason := watch(ctx, bound, func(c workflow.Context) workflow.Future {
		return workflow.ExecuteActivity(waitOptions(c, bound+10*time.Minute), cr.AAWaitWorkItem,
			activities.WaitWorkItemInput{Profile: in.Profile, QueueID: res.QueueID, ID: res.ID})
	})
	switch reason {
	case contract.StopCancelled:
		return res, temporal.NewCanceledError(res)
	case contract.StopTimedOut:
		return res, contract.NewTimedOut(fmt.Sprintf("work item %s in queue %s was not processed within %s (it stays in the queue)",
			res.ID, res.QueueID, bound), res)
	}
	var fin contract.AddWorkItemResult
	if err := wait.Get(ctx, &fin); err != nil {
		return res, err
	}
	if fin.Status == contract.WorkItemCompleted {
		return fin, nil
	}
	msg := fmt.Sprintf("work item %s in queue %s ended %s", fin.ID, fin.QueueID, fin.Status)
	if fin.Error != "" {
		msg += ": " + fin.Error
	}
	return fin, contract.NewRunFailed(msg, fin)
}
