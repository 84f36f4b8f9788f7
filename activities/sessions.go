package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
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
	// Client reaches the sessions; nil uses the client of the worker that
	// runs the activity.
	Client client.Client
	// TaskQueue is where a session starts; "" uses the activity's own queue.
	TaskQueue string
	// Names are the prefixes of the session workflows' types and IDs.
	Names Names
}

// Names are the prefixes a host application may give rpaflow's workflow
// types (so they cannot collide with its own) and the workflow IDs rpaflow
// chooses (sessions, token watches, Nexus deployments).
type Names struct {
	TypePrefix string
	IDPrefix   string
}

// SessionID is the workflow ID of s under these names.
func (n Names) SessionID(s SessionRef) string { return n.IDPrefix + s.ID() }

func (t *TemporalSessions) client(ctx context.Context) client.Client {
	if t.Client != nil {
		return t.Client
	}
	return activity.GetClient(ctx)
}

func (t *TemporalSessions) taskQueue(ctx context.Context) string {
	if t.TaskQueue != "" {
		return t.TaskQueue
	}
	return activity.GetInfo(ctx).TaskQueue
}

// Update runs update on the session, starting it if needed. A token
// request the current token satisfies is answered by the token query,
// which writes no history; anything else is an Update-With-Start.
func (t *TemporalSessions) Update(ctx context.Context, s SessionRef, update string, arg, result any) error {
	if req, ok := arg.(contract.TokenRequest); ok && update == contract.UpdateToken {
		if out, ok := result.(*contract.TokenResult); ok {
			if tok, ok := QueryToken(ctx, t.client(ctx), t.Names.SessionID(s), req.MinValidity.D()); ok {
				*out = tok
				return nil
			}
		}
	}
	c := t.client(ctx)
	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       t.Names.SessionID(s),
		TaskQueue:                t.taskQueue(ctx),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, t.Names.TypePrefix+s.WorkflowType, contract.SessionInput{Profile: s.Profile})
	handle, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
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

// queryTimeout bounds the token query: a session whose worker is slow to
// answer is asked with the update instead (which waits as long as the caller).
const queryTimeout = 5 * time.Second

// Querier is the part of a Temporal client that QueryToken uses.
type Querier interface {
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// QueryToken reads the session's current token with the token query and
// reports whether it serves a caller needing minValidity (0: the update's
// default, 30 s). Any failure (no session yet, no worker answering) is a
// "no": the caller then asks with the token update, which starts and renews.
func QueryToken(ctx context.Context, c Querier, workflowID string, minValidity time.Duration) (contract.TokenResult, bool) {
	if minValidity <= 0 {
		minValidity = contract.DefaultMinValidity
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, workflowID, "", contract.QueryToken)
	if err != nil {
		return contract.TokenResult{}, false
	}
	var tok contract.TokenResult
	if v.Get(&tok) != nil || !tok.Serves(time.Now(), minValidity) {
		return contract.TokenResult{}, false
	}
	return tok, true
}

// sessionError keeps a session's classified answer (AuthFailed, NotFound...)
// and turns anything else into a retryable Unavailable.
func sessionError(s SessionRef, update string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() != "" {
		return temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("session %s: %s", s.ID(), app.Error()), app.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: contract.ErrorType(app.Type()).Permanent()})
	}
	return unavailable(fmt.Sprintf("session %s: update %s: %v", s.ID(), update, err))
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
