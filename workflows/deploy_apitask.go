package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// DeployAPITask executes an Automation Anywhere API Task with access details
// from the profile's ControlRoomSession (created by the first deployment).
func DeployAPITask(ctx workflow.Context, in contract.DeployAPITaskInput) (contract.DeployAPITaskResult, error) {
	return noPools.DeployAPITask(ctx, in)
}

// DeployAPITask is DeployAPITask drawing a slot of the profile's apitask
// pool, when it has one, for the execution.
func (d *Deployments) DeployAPITask(ctx workflow.Context, in contract.DeployAPITaskInput) (_ contract.DeployAPITaskResult, err error) {
	defer observeDeployment(ctx, contract.DeployAPITaskWorkflow, in.Profile, workflow.Now(ctx))(&err)
	botInput, err := in.Validate()
	if err != nil {
		return contract.DeployAPITaskResult{}, err
	}
	l, err := d.admit(ctx, admitRequest{workflowType: contract.DeployAPITaskWorkflow, profile: in.Profile, admission: in.Admission, slots: 1})
	if err != nil {
		return contract.DeployAPITaskResult{}, err
	}
	defer l.Release(ctx)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 4 * time.Minute, // session wait + the 75 s execute cap, with room
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         l.retryPolicy(retryPolicy(in.Idempotent, 8)),
		Priority:            in.Admission.TaskPriority(),
	})
	var out activities.ExecuteResult
	releasePool := l.byActivity(ctx)
	for {
		err = workflow.ExecuteActivity(ctx, cr.AAExecuteAPITask, activities.ExecuteInput{
			Profile: in.Profile, Path: in.BotRepositoryPath, BotInput: botInput, Idempotent: in.Idempotent, ReleasePool: releasePool,
		}).Get(ctx, &out)
		switch {
		case l.refused(ctx, err):
			err = l.requeue(ctx, err)
		case l.givenBack(err):
			err = l.reacquire(ctx)
		default:
			if out.Released {
				l.releasedByActivity()
			}
			if err != nil {
				return contract.DeployAPITaskResult{}, err
			}
			return apiTaskResult(out), nil
		}
		if err != nil {
			return contract.DeployAPITaskResult{}, err
		}
	}
}

func apiTaskResult(out activities.ExecuteResult) contract.DeployAPITaskResult {
	if out.BotOutput == nil {
		out.BotOutput = map[string]botvalue.Value{}
	}
	return contract.DeployAPITaskResult{BotOutput: botvalue.PlainMap(out.BotOutput), RawBotOutput: out.BotOutput}
}

// retryPolicy retries what is safe: never the permanent types, and
// Ambiguous only when the caller declared the work idempotent.
func retryPolicy(idempotent bool, attempts int32) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		MaximumAttempts:        attempts,
		NonRetryableErrorTypes: contract.NonRetryableTypes(idempotent),
	}
}
