package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// DeployBot deploys once (never repeated when the outcome is unknown) and
// waits for the deployment in one heartbeating activity.
func DeployBot(ctx workflow.Context, in contract.DeployBotInput) (_ contract.DeployBotResult, err error) {
	defer observeDeployment(ctx, contract.DeployBotWorkflow, in.Profile, workflow.Now(ctx))(&err)
	if _, err := in.Validate(); err != nil {
		return contract.DeployBotResult{}, err
	}
	deployCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retryPolicy(false, 8),
	})
	var id string
	if err := workflow.ExecuteActivity(deployCtx, cr.AADeployBot, activities.DeployInput{DeployBotInput: in}).Get(ctx, &id); err != nil {
		return contract.DeployBotResult{}, err
	}
	workflow.GetLogger(ctx).Info("bot deployed", "deploymentId", id)
	var res activities.DeploymentResult
	if err := workflow.ExecuteActivity(waitOptions(ctx, in.Timeout.D()), cr.AAWaitDeployment,
		activities.WaitDeploymentInput{Profile: in.Profile, DeploymentID: id}).Get(ctx, &res); err != nil {
		return contract.DeployBotResult{DeploymentID: id}, err
	}
	if res.BotOutput == nil {
		res.BotOutput = map[string]botvalue.Value{}
	}
	out := contract.DeployBotResult{DeploymentID: id, Status: res.Status, Message: res.Message,
		BotOutput: botvalue.PlainMap(res.BotOutput), RawBotOutput: res.BotOutput}
	if res.Status != contract.DeploymentCompleted {
		return out, contract.NewRunFailed(fmt.Sprintf("deployment %s ended %s: %s", id, res.Status, res.Message), out)
	}
	return out, nil
}

// waitOptions: a wait is one long activity that heartbeats each poll; it is
// retried (resuming from its heartbeat) until the overall timeout.
func waitOptions(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: orDur(timeout, 24*time.Hour),
		HeartbeatTimeout:       2 * time.Minute,
		WaitForCancellation:    true,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, NonRetryableErrorTypes: contract.NonRetryableTypes(true)},
	})
}
