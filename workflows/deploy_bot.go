package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/botvalue"
)

// DeployBotInput deploys an unattended bot, or an on-demand API Task when Headless is set.
type DeployBotInput struct {
	Profile        string                     `json:"profile"`
	BotID          int64                      `json:"botId"`
	RunAsUserIDs   []int64                    `json:"runAsUserIds,omitempty"`
	PoolIDs        []int64                    `json:"poolIds,omitempty"`
	BotInput       map[string]json.RawMessage `json:"botInput,omitempty"`
	Priority       string                     `json:"priority,omitempty"` // PRIORITY_LOW | PRIORITY_MEDIUM (default) | PRIORITY_HIGH
	AutomationName string                     `json:"automationName,omitempty"`
	Description    string                     `json:"description,omitempty"`
	Headless       *HeadlessInput             `json:"headless,omitempty"`
	// Timeout bounds the wait for a terminal status (default 24h).
	Timeout contract.Duration `json:"timeout,omitempty"`
}

// HeadlessInput asks for an on-demand API Task execution.
type HeadlessInput struct {
	NumberOfExecutions     int   `json:"numberOfExecutions,omitempty"`
	QueueOnSlotsExhaustion bool  `json:"queueOnSlotsExhaustion,omitempty"`
	SharedRunAsUserID      int64 `json:"sharedRunAsUserId,omitempty"`
}

// DeployBotResult is the deployment's terminal state.
type DeployBotResult struct {
	DeploymentID string                    `json:"deploymentId"`
	Status       string                    `json:"status"`
	Message      string                    `json:"message,omitempty"`
	BotOutput    map[string]any            `json:"botOutput"`
	RawBotOutput map[string]botvalue.Value `json:"rawBotOutput"`
}

// DeployBot deploys once (never repeated when the outcome is unknown) and
// waits for the deployment in one heartbeating activity.
func DeployBot(ctx workflow.Context, in DeployBotInput) (_ DeployBotResult, err error) {
	defer observeDeployment(ctx, contract.DeployBotWorkflow, in.Profile, workflow.Now(ctx))(&err)
	req, err := in.request()
	if err != nil {
		return DeployBotResult{}, err
	}
	deployCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retryPolicy(false, 8),
	})
	var id string
	if err := workflow.ExecuteActivity(deployCtx, cr.AADeployBot, activities.DeployInput{Profile: in.Profile, Request: req}).Get(ctx, &id); err != nil {
		return DeployBotResult{}, err
	}
	workflow.GetLogger(ctx).Info("bot deployed", "deploymentId", id)
	var res activities.DeploymentResult
	if err := workflow.ExecuteActivity(waitOptions(ctx, in.Timeout.D()), cr.AAWaitDeployment,
		activities.WaitDeploymentInput{Profile: in.Profile, DeploymentID: id}).Get(ctx, &res); err != nil {
		return DeployBotResult{DeploymentID: id}, err
	}
	if res.BotOutput == nil {
		res.BotOutput = map[string]botvalue.Value{}
	}
	out := DeployBotResult{DeploymentID: id, Status: res.Status, Message: res.Message,
		BotOutput: botvalue.PlainMap(res.BotOutput), RawBotOutput: res.BotOutput}
	if !aa.IsSuccess(res.Status) {
		return out, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("deployment %s ended %s: %s", id, res.Status, res.Message), contract.ErrRunFailed, nil, out)
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
			MaximumInterval: time.Minute, NonRetryableErrorTypes: contract.NonRetryable},
	})
}

var priorities = []string{"PRIORITY_LOW", "PRIORITY_MEDIUM", "PRIORITY_HIGH"}

func (in DeployBotInput) request() (aa.DeployRequest, error) {
	if err := contract.CheckProfileName(in.Profile); err != nil {
		return aa.DeployRequest{}, invalidInput("profile", "%s", strings.TrimPrefix(err.Error(), "profile "))
	}
	if in.BotID <= 0 {
		return aa.DeployRequest{}, invalidInput("botId", "must be the bot's file id in the Control Room repository (a positive number)")
	}
	if in.Headless == nil && len(in.RunAsUserIDs) == 0 {
		return aa.DeployRequest{}, invalidInput("runAsUserIds", "is empty; give the ids of the Bot Runner users to run as (or \"headless\" for an on-demand API Task)")
	}
	for i, id := range append(append([]int64(nil), in.RunAsUserIDs...), in.PoolIDs...) {
		if id <= 0 {
			field := fmt.Sprintf("runAsUserIds[%d]", i)
			if i >= len(in.RunAsUserIDs) {
				field = fmt.Sprintf("poolIds[%d]", i-len(in.RunAsUserIDs))
			}
			return aa.DeployRequest{}, invalidInput(field, "%d is not an id; ids are positive numbers", id)
		}
	}
	prio := in.Priority
	if prio == "" {
		prio = "PRIORITY_MEDIUM"
	}
	if !contains(priorities, prio) {
		return aa.DeployRequest{}, invalidInput("priority", "%q is not one of %s", in.Priority, strings.Join(priorities, ", "))
	}
	botInput, err := botvalue.ParseInput(in.BotInput)
	if err != nil {
		return aa.DeployRequest{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, nil)
	}
	req := aa.DeployRequest{BotID: in.BotID, AutomationName: in.AutomationName, Description: in.Description,
		Priority: prio, BotInput: botInput, RunAsUserIDs: in.RunAsUserIDs, PoolIDs: in.PoolIDs}
	if h := in.Headless; h != nil {
		if h.NumberOfExecutions < 0 {
			return aa.DeployRequest{}, invalidInput("headless.numberOfExecutions", "must be 1 or more (default 1)")
		}
		req.Headless = &aa.HeadlessRequest{NumberOfExecutions: max(h.NumberOfExecutions, 1),
			QueueOnSlotsExhaustion: h.QueueOnSlotsExhaustion, SharedRunAsUserID: h.SharedRunAsUserID}
	}
	return req, nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
