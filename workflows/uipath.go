package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// StartJob resolves folder and release, starts the job (once unless
// idempotent) and waits for Successful, Faulted or Stopped.
func StartJob(ctx workflow.Context, in contract.StartJobInput) (_ contract.StartJobResult, err error) {
	defer observeDeployment(ctx, contract.StartJobWorkflow, in.Profile, workflow.Now(ctx))(&err)
	if err := in.Validate(); err != nil {
		return contract.StartJobResult{}, err
	}
	startCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retryPolicy(in.Idempotent, 8),
	})
	var ref activities.JobRef
	if err := workflow.ExecuteActivity(startCtx, orch.OrchStartJob, in).Get(ctx, &ref); err != nil {
		return contract.StartJobResult{}, err
	}
	workflow.GetLogger(ctx).Info("job started", "jobId", ref.ID, "jobKey", ref.Key)
	var res contract.StartJobResult
	if err := workflow.ExecuteActivity(waitOptions(ctx, in.Timeout.D()), orch.OrchWaitJob,
		activities.WaitJobInput{Profile: in.Profile, Job: ref}).Get(ctx, &res); err != nil {
		return contract.StartJobResult{ID: ref.ID, Key: ref.Key}, err
	}
	if res.State != contract.JobSuccessful {
		return res, contract.NewRunFailed(fmt.Sprintf("job %d ended %s: %s", res.ID, res.State, res.Info), res)
	}
	return res, nil
}

// AddQueueItem adds a queue item. With a reference, retries are safe (a
// repeat is answered 409 and reported as duplicate); without one, an unknown
// outcome is not retried.
func AddQueueItem(ctx workflow.Context, in contract.AddQueueItemInput) (contract.AddQueueItemResult, error) {
	if err := in.Validate(); err != nil {
		return contract.AddQueueItemResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retryPolicy(in.Reference != "", 8),
	})
	var res contract.AddQueueItemResult
	err := workflow.ExecuteActivity(ctx, orch.OrchAddQueueItem, in).Get(ctx, &res)
	return res, err
}
