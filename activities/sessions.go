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
	"github.com/rpaflow/rpaflow/providers/apierror"
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

// Sessions is where activities get credentials, as x/oauth2's TokenSource
// is for HTTP clients: a token, or API Task access details, from the
// session workflow of a profile, which starts if none runs. A consumer
// whose credential the platform refused reports its generation with
// Invalidate; the session then renews once, however many report it.
type Sessions interface {
	// Token returns a token that stays valid at least minValidity.
	Token(ctx context.Context, s SessionRef, minValidity time.Duration) (contract.TokenResult, error)
	// AccessDetails returns the execution URL and headers of each path.
	AccessDetails(ctx context.Context, s SessionRef, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error)
	// Invalidate reports a rejected generation (of the token, or of one
	// path's access details) and waits for the renewal.
	Invalidate(ctx context.Context, s SessionRef, req contract.InvalidateRequest) (contract.InvalidateResult, error)
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

// Token asks the token query first: a token that serves the caller costs
// no history and no lock on the session. Otherwise the token update
// renews (and starts the session if none runs).
func (t *TemporalSessions) Token(ctx context.Context, s SessionRef, minValidity time.Duration) (contract.TokenResult, error) {
	if tok, ok := QueryToken(ctx, t.client(ctx), t.Names.SessionID(s), minValidity); ok {
		return tok, nil
	}
	var res contract.TokenResult
	err := t.update(ctx, s, contract.UpdateToken, contract.TokenRequest{MinValidity: contract.Duration(minValidity)}, &res)
	return res, err
}

// AccessDetails runs the accessDetails update.
func (t *TemporalSessions) AccessDetails(ctx context.Context, s SessionRef, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
	var res contract.AccessDetailsResult
	err := t.update(ctx, s, contract.UpdateAccessDetails, req, &res)
	return res, err
}

// Invalidate runs the invalidate update.
func (t *TemporalSessions) Invalidate(ctx context.Context, s SessionRef, req contract.InvalidateRequest) (contract.InvalidateResult, error) {
	var res contract.InvalidateResult
	err := t.update(ctx, s, contract.UpdateInvalidate, req, &res)
	return res, err
}

// Logout ends the session cleanly (the logout update).
func (t *TemporalSessions) Logout(ctx context.Context, s SessionRef) error {
	return t.update(ctx, s, contract.UpdateLogout, nil, nil)
}

// update runs an update on the session with Update-With-Start, so the first
// caller creates the session and every later one shares it.
func (t *TemporalSessions) update(ctx context.Context, s SessionRef, update string, arg, result any) error {
	c := t.client(ctx)
	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       t.Names.SessionID(s),
		TaskQueue:                t.taskQueue(ctx),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, t.Names.TypePrefix+s.WorkflowType, contract.SessionInput{Profile: s.Profile})
	var args []any
	if arg != nil {
		args = []any{arg}
	}
	handle, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   update,
			Args:         args,
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

// withToken runs call with a session token. When the platform answers 401
// it refused the call, so nothing happened: the generation is reported
// (the session renews once) and call runs once more with the new token.
func withToken(ctx context.Context, ss Sessions, s SessionRef, call func(tok contract.TokenResult) error) error {
	for try := 0; ; try++ {
		tok, err := ss.Token(ctx, s, callValidity)
		if err != nil {
			return err
		}
		err = call(tok)
		if err == nil || try > 0 || !apierror.IsUnauthorized(err) {
			return err
		}
		if _, err := ss.Invalidate(ctx, s, contract.InvalidateRequest{Generation: tok.Generation}); err != nil {
			return err
		}
	}
}

// withAccessDetail is withToken for an API Task path's access details.
func withAccessDetail(ctx context.Context, ss Sessions, s SessionRef, path string, call func(d contract.AccessDetail) error) error {
	for try := 0; ; try++ {
		det, err := ss.AccessDetails(ctx, s, contract.AccessDetailsRequest{Paths: []string{path}})
		if err != nil {
			return err
		}
		d, ok := det.Details[path]
		if !ok {
			return unavailable("session returned no access details for " + path)
		}
		err = call(d)
		if err == nil || try > 0 || !apierror.IsUnauthorized(err) {
			return err
		}
		if _, err := ss.Invalidate(ctx, s, contract.InvalidateRequest{Generation: d.Generation, Path: path}); err != nil {
			return err
		}
	}
}
