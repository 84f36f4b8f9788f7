package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func webhookIn(ping bool) contract.EnsureWebhookInput {
	return contract.EnsureWebhookInput{Profile: "orch", URL: "https://rpa-events.example.com/events/uipath/orch", Ping: ping}
}

var ensured = contract.EnsureWebhookResult{ID: 12, Name: "rpaflow-orch", URL: "https://rpa-events.example.com/events/uipath/orch",
	Outcome: contract.WebhookCreated, Enabled: true, Events: []string{"job.completed"}}

// The ensure is retried when Orchestrator is unavailable; the ping is
// made for the webhook it returned, and its result says so.
func TestEnsureWebhook_EnsureThenPing(t *testing.T) {
	env := newEnv(t)
	calls := 0
	env.OnActivity(orch.OrchEnsureWebhook, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.EnsureWebhookInput) (contract.EnsureWebhookResult, error) {
			calls++
			if calls == 1 {
				return contract.EnsureWebhookResult{}, temporal.NewApplicationError("503", string(contract.ErrUnavailable))
			}
			return ensured, nil
		})
	var pinged activities.PingWebhookInput
	env.OnActivity(orch.OrchPingWebhook, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PingWebhookInput) error {
		pinged = in
		return nil
	}).Once()
	env.ExecuteWorkflow(EnsureWebhook, webhookIn(true))
	var res contract.EnsureWebhookResult
	if err := env.GetWorkflowError(); err != nil || env.GetWorkflowResult(&res) != nil || !res.Pinged || res.ID != 12 || calls != 2 {
		t.Fatalf("result %+v, %v after %d ensures", res, err, calls)
	}
	if pinged != (activities.PingWebhookInput{Profile: "orch", ID: 12}) {
		t.Fatalf("pinged %+v", pinged)
	}
}

// Without --ping nothing is pinged; a refused ping fails the workflow with
// what the ensure did; bad input reaches no activity.
func TestEnsureWebhook_NoPingAndFailures(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(orch.OrchEnsureWebhook, mock.Anything, mock.Anything).Return(ensured, nil).Once()
	env.OnActivity(orch.OrchPingWebhook, mock.Anything, mock.Anything).Return(nil).Never()
	env.ExecuteWorkflow(EnsureWebhook, webhookIn(false))
	var res contract.EnsureWebhookResult
	if err := env.GetWorkflowError(); err != nil || env.GetWorkflowResult(&res) != nil || res.Pinged || res.Outcome != "created" {
		t.Fatalf("result %+v, %v", res, err)
	}

	env = newEnv(t)
	env.OnActivity(orch.OrchEnsureWebhook, mock.Anything, mock.Anything).Return(ensured, nil).Once()
	env.OnActivity(orch.OrchPingWebhook, mock.Anything, mock.Anything).Return(
		contract.NewError(contract.ErrForbidden, "403: the client lacks OR.Webhooks", contract.ErrorInfo{}, 0))
	env.ExecuteWorkflow(EnsureWebhook, webhookIn(true))
	requireAppErr(t, env.GetWorkflowError(), contract.ErrForbidden, true, "webhook rpaflow-orch (id 12) created, but the ping failed", "OR.Webhooks")

	env = newEnv(t)
	env.OnActivity(orch.OrchEnsureWebhook, mock.Anything, mock.Anything).Return(ensured, nil).Never()
	in := webhookIn(false)
	in.URL = "https://rpa-events.example.com/events/uipath/other"
	env.ExecuteWorkflow(EnsureWebhook, in)
	requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "url: path")
}
