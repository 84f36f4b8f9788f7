package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// EnsureWebhook creates or updates a profile's Orchestrator webhook on a
// worker, which holds the profile's credentials and webhook secret, and
// with Ping then has Orchestrator ping it. The ensure is idempotent, so it
// is retried; a failed ping fails the workflow with what the ensure did in
// its message.
func EnsureWebhook(ctx workflow.Context, in contract.EnsureWebhookInput) (contract.EnsureWebhookResult, error) {
	if err := in.Validate(); err != nil {
		return contract.EnsureWebhookResult{}, err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: retryPolicy(true, 5)})
	var res contract.EnsureWebhookResult
	if err := workflow.ExecuteActivity(actx, orch.OrchEnsureWebhook, in).Get(ctx, &res); err != nil {
		return res, err
	}
	if !in.Ping {
		return res, nil
	}
	err := workflow.ExecuteActivity(actx, orch.OrchPingWebhook, activities.PingWebhookInput{Profile: in.Profile, ID: res.ID}).Get(ctx, nil)
	if err != nil {
		info, _ := contract.InfoOf(err)
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s (id %d) %s, but the ping failed: %v", res.Name, res.ID, res.Outcome, err),
			string(contract.TypeOf(err)), nil, info)
	}
	res.Pinged = true
	return res, nil
}
