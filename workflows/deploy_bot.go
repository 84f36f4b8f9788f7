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

// DeployBot deploys once (never repeated when the outcome is unknown: a
// retry adopts the deployment an earlier attempt made) and waits for the
// deployment in one heartbeating activity.
func DeployBot(ctx workflow.Context, in contract.DeployBotInput) (contract.DeployBotResult, error) {
	return noPools.DeployBot(ctx, in)
}

// DeployBot is DeployBot drawing one slot per run-as user (or headless
// execution) of the profile's runner pool, when it has one, from the
// deploy until the deployment is over (or its stop is confirmed).
func (d *Deployments) DeployBot(ctx workflow.Context, in contract.DeployBotInput) (_ contract.DeployBotResult, err error) {
	defer observeDeployment(ctx, contract.DeployBotWorkflow, in.Profile, workflow.Now(ctx))(&err)
	if _, err := in.Validate(); err != nil {
		return contract.DeployBotResult{}, err
	}
	stopping := workflow.GetVersion(ctx, stopRunsVersion, workflow.DefaultVersion, 1) >= 1
	slots := len(in.RunAsUserIDs)
	if in.Headless != nil {
		slots = max(in.Headless.NumberOfExecutions, 1)
	}
	l, err := d.admit(ctx, admitRequest{workflowType: contract.DeployBotWorkflow, profile: in.Profile, admission: in.Admission,
		slots: slots, headless: in.Headless != nil})
	if err != nil {
		return contract.DeployBotResult{}, err
	}
	defer l.Release(ctx)
	deployCtx := ctx
	if stopping {
		// A cancel while the deploy is in flight must not lose its answer:
		// the deployment it created has to be stopped.
		deployCtx, _ = workflow.NewDisconnectedContext(ctx)
	}
	deployCtx = workflow.WithActivityOptions(deployCtx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         l.retryPolicy(retryPolicy(false, 8)),
		Priority:            in.Admission.TaskPriority(),
	})
	var dep activities.Deployment
	var ref activities.DeployRef
	withEvents := workflow.GetVersion(ctx, runEventsVersion, workflow.DefaultVersion, 1) >= 1
	for {
		if withEvents {
			err = workflow.ExecuteActivity(deployCtx, cr.AADeploy, activities.DeployInput{DeployBotInput: in}).Get(deployCtx, &ref)
			dep = activities.Deployment{ID: ref.ID, Adopted: ref.Adopted}
		} else {
			err = workflow.ExecuteActivity(deployCtx, cr.AADeployBot, activities.DeployInput{DeployBotInput: in}).Get(deployCtx, &dep)
		}
		if !l.refused(ctx, err) {
			break
		}
		if err = l.requeue(ctx, err); err != nil {
			return contract.DeployBotResult{}, err
		}
	}
	id := dep.ID
	// Measured after the start, so a workflow timeout also counts its time.
	limits := limitsOf(ctx, in.Timeout, in.StopGrace)
	if err != nil {
		if stopping && ctx.Err() != nil {
			return contract.DeployBotResult{}, temporal.NewCanceledError(contract.RunStop{Reason: contract.StopCancelled,
				Message: "cancelled while deploying, and the deploy failed: " + err.Error()})
		}
		return contract.DeployBotResult{}, err
	}
	workflow.GetLogger(ctx).Info("bot deployed", "deploymentId", id, "adopted", dep.Adopted)
	waitIn := activities.WaitDeploymentInput{Profile: in.Profile, DeploymentID: id}
	wait, stop := supervise(ctx, stopping, in.Timeout.D(), limits,
		func(c workflow.Context, d time.Duration) workflow.Future {
			if ref.Events != nil && ref.CallbackID != "" {
				run := contract.RunEventsInput{Profile: in.Profile, Subject: contract.SubjectDeployment, ID: ref.CallbackID}
				return reconcileWait[activities.DeploymentResult](c, *ref.Events, run, d, func(c workflow.Context) workflow.Future {
					return workflow.ExecuteActivity(c, cr.AACheckDeployment, waitIn)
				}, nil)
			}
			return workflow.ExecuteActivity(waitOptions(c, d), cr.AAWaitDeployment, waitIn)
		},
		func(wait workflow.Future, reason string) contract.RunStop {
			return stopRun(ctx, limits, wait, reason, id, cr.AAStopDeployment, activities.StopDeploymentInput{Profile: in.Profile,
				DeploymentID: id, Reason: reason, Grace: limits.grace})
		})
	if stop != nil {
		return contract.DeployBotResult{DeploymentID: id, Status: stop.FinalStatus, Adopted: dep.Adopted}, stoppedError("deployment "+id, limits.wait, *stop)
	}
	var res activities.DeploymentResult
	if err := wait.Get(ctx, &res); err != nil {
		return contract.DeployBotResult{DeploymentID: id, Adopted: dep.Adopted}, err
	}
	if res.BotOutput == nil {
		res.BotOutput = map[string]botvalue.Value{}
	}
	out := contract.DeployBotResult{DeploymentID: id, Status: res.Status, Message: res.Message,
		BotOutput: botvalue.PlainMap(res.BotOutput), RawBotOutput: res.BotOutput, Adopted: dep.Adopted}
	if res.Status != contract.DeploymentCompleted {
		return out, contract.NewRunFailed(fmt.Sprintf("deployment %s ended %s: %s", id, res.Status, res.Message), out)
	}
	return out, nil
}

// runEventsVersion marks DeployBot runs that deploy with AADeploy, which
// asks for a callback when the profile has events on.
const runEventsVersion = "run-events"

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
