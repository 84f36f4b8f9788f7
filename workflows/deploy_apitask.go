package workflows

import (
	"encoding/json"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/botvalue"
)

// DeployAPITaskInput runs one real-time API Task.
type DeployAPITaskInput struct {
	Profile           string                     `json:"profile"`
	BotRepositoryPath string                     `json:"botRepositoryPath"`
	BotInput          map[string]json.RawMessage `json:"botInput,omitempty"`
	// Idempotent: the task may safely run twice, so a failure after the
	// request was sent (outcome unknown) is retried.
	Idempotent bool `json:"idempotent,omitempty"`
}

// DeployAPITaskResult is the task's output in plain and typed form.
type DeployAPITaskResult struct {
	BotOutput    map[string]any            `json:"botOutput"`
	RawBotOutput map[string]botvalue.Value `json:"rawBotOutput"`
}

// DeployAPITask executes an Automation Anywhere API Task with access details
// from the profile's ControlRoomSession (created by the first deployment).
func DeployAPITask(ctx workflow.Context, in DeployAPITaskInput) (_ DeployAPITaskResult, err error) {
	defer observeDeployment(ctx, contract.DeployAPITaskWorkflow, in.Profile, workflow.Now(ctx))(&err)
	if err := contract.CheckProfileName(in.Profile); err != nil {
		return DeployAPITaskResult{}, invalidInput("profile", "%s", strings.TrimPrefix(err.Error(), "profile "))
	}
	if strings.TrimSpace(in.BotRepositoryPath) == "" {
		return DeployAPITaskResult{}, invalidInput("botRepositoryPath", "is empty; give the API Task's repository path such as \"Automation Anywhere\\\\Bots\\\\Zip Code API Task\"")
	}
	botInput, err := botvalue.ParseInput(in.BotInput)
	if err != nil {
		return DeployAPITaskResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, nil)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 4 * time.Minute, // session wait + the 75 s execute cap, with room
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         retryPolicy(in.Idempotent, 8),
	})
	var out activities.ExecuteResult
	err = workflow.ExecuteActivity(ctx, cr.AAExecuteAPITask, activities.ExecuteInput{
		Profile: in.Profile, Path: in.BotRepositoryPath, BotInput: botInput, Idempotent: in.Idempotent,
	}).Get(ctx, &out)
	if err != nil {
		return DeployAPITaskResult{}, err
	}
	if out.BotOutput == nil {
		out.BotOutput = map[string]botvalue.Value{}
	}
	return DeployAPITaskResult{BotOutput: botvalue.PlainMap(out.BotOutput), RawBotOutput: out.BotOutput}, nil
}

// retryPolicy retries what is safe (DESIGN §5): never the permanent classes,
// and Ambiguous only when the caller declared the work idempotent.
func retryPolicy(idempotent bool, attempts int32) *temporal.RetryPolicy {
	nonRetryable := append([]string(nil), contract.NonRetryable...)
	if !idempotent {
		nonRetryable = append(nonRetryable, contract.ErrAmbiguous)
	}
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		MaximumAttempts:        attempts,
		NonRetryableErrorTypes: nonRetryable,
	}
}
