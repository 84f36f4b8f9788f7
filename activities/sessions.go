package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
)

// SessionRef names a session workflow.
type SessionRef struct {
	WorkflowType string // contract.ControlRoomSessionWorkflow or contract.OrchestratorSessionWorkflow
	Profile      string
}

// ID is the session's workflow ID.
func (s SessionRef) ID() string {
	if s.WorkflowType == contract.OrchestratorSessionWorkflow {
		return contract.OrchestratorSessionID(s.Profile)
	}
	return contract.AASessionID(s.Profile)
}

// Sessions sends updates to session workflows, creating the session first if
// none runs (Update-With-Start). Activities that need a token or access
// details use it; it is the only way credentials reach them.
type Sessions interface {
	Update(ctx context.Context, s SessionRef, update string, arg, result any) error
}

// TemporalSessions implements Sessions with a Temporal client.
type TemporalSessions struct {
	Client    client.Client
	TaskQueue string
}

// Update runs update on the session, starting it if needed.
func (t *TemporalSessions) Update(ctx context.Context, s SessionRef, update string, arg, result any) error {
	start := t.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       s.ID(),
		TaskQueue:                t.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, s.WorkflowType, contract.SessionInput{Profile: s.Profile})
	handle, err := t.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   update,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return sessionError(s, update, err)
	}
	if err := handle.Get(ctx, result); err != nil {
		return sessionError(s, update, err)
	}
	return nil
}

// sessionError keeps a session's classified answer (AuthFailed, NotFound...)
// and turns anything else into a retryable Unavailable.
func sessionError(s SessionRef, update string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() != "" {
		return temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("session %s: %s", s.ID(), app.Error()), app.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: isNonRetryable(app.Type())})
	}
	return newError(contract.ErrUnavailable, fmt.Sprintf("session %s: update %s: %v", s.ID(), update, err), ErrorInfo{}, 0)
}

// callValidity is what rpaflow's own activities ask a session for: enough
// for one call within the provider's 30 s HTTP timeout. Waits re-ask when
// less remains, so tokens of any lifetime above it serve them.
const callValidity = 30 * time.Second

// sessionToken asks a session for a token valid at least minValidity.
func sessionToken(ctx context.Context, ss Sessions, s SessionRef, minValidity time.Duration) (contract.TokenResult, error) {
	var res contract.TokenResult
	err := ss.Update(ctx, s, contract.UpdateToken, contract.TokenRequest{MinValidity: contract.Duration(minValidity)}, &res)
	return res, err
}

// reportRejected tells the session that generation was rejected and waits
// for the renewed token.
func reportRejected(ctx context.Context, ss Sessions, s SessionRef, generation int64, path string) error {
	var res contract.InvalidateResult
	return ss.Update(ctx, s, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: generation, Path: path}, &res)
}
