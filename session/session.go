// Package session is rpaflow's session client: it asks the session workflow
// of a profile for a token or API Task access details (starting the session
// if none runs), reports a credential the platform refused, and keeps what a
// session handed out in worker memory while it stays valid. It is to
// sessions what x/oauth2's TokenSource and ReuseTokenSource are to tokens.
// The activities and the starter use it; it knows no platform client.
package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
)

// Ref names a session workflow.
type Ref struct {
	WorkflowType string // contract.ControlRoomSessionWorkflow or contract.OrchestratorSessionWorkflow
	Profile      string
}

// ControlRoom is the Control Room session of profile.
func ControlRoom(profile string) Ref {
	return Ref{WorkflowType: contract.ControlRoomSessionWorkflow, Profile: profile}
}

// Orchestrator is the Orchestrator session of profile.
func Orchestrator(profile string) Ref {
	return Ref{WorkflowType: contract.OrchestratorSessionWorkflow, Profile: profile}
}

// ID is the session's workflow ID.
func (s Ref) ID() string {
	if s.WorkflowType == contract.OrchestratorSessionWorkflow {
		return contract.OrchestratorSessionID(s.Profile)
	}
	return contract.AASessionID(s.Profile)
}

// Source is where activities get credentials, as x/oauth2's TokenSource
// is for HTTP clients: a token, or API Task access details, from the
// session workflow of a profile, which starts if none runs. A consumer
// whose credential the platform refused reports its generation with
// Invalidate; the session then renews once, however many report it.
type Source interface {
	// Token returns a token that stays valid at least minValidity.
	Token(ctx context.Context, s Ref, minValidity time.Duration) (contract.TokenResult, error)
	// AccessDetails returns the execution URL and headers of each path.
	AccessDetails(ctx context.Context, s Ref, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error)
	// Invalidate reports a rejected generation (of the token, or of one
	// path's access details) and waits for the renewal.
	Invalidate(ctx context.Context, s Ref, req contract.InvalidateRequest) (contract.InvalidateResult, error)
}

// Client is the part of a Temporal client the session client uses.
type Client interface {
	Querier
	NewWithStartWorkflowOperation(options client.StartWorkflowOptions, workflow any, args ...any) client.WithStartWorkflowOperation
	UpdateWithStartWorkflow(ctx context.Context, options client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// Temporal is the Source that asks the session workflows through a
// Temporal client.
type Temporal struct {
	// Client reaches the sessions; nil uses the client of the worker that
	// runs the activity.
	Client Client
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
func (n Names) SessionID(s Ref) string { return n.IDPrefix + s.ID() }

func (t *Temporal) client(ctx context.Context) Client {
	if t.Client != nil {
		return t.Client
	}
	return activity.GetClient(ctx)
}

func (t *Temporal) taskQueue(ctx context.Context) string {
	if t.TaskQueue != "" {
		return t.TaskQueue
	}
	return activity.GetInfo(ctx).TaskQueue
}

// Token asks the token query first: a token that serves the caller costs
// no history and no lock on the session. Otherwise the token update
// renews (and starts the session if none runs).
func (t *Temporal) Token(ctx context.Context, s Ref, minValidity time.Duration) (contract.TokenResult, error) {
	if tok, ok := QueryToken(ctx, t.client(ctx), t.Names.SessionID(s), minValidity); ok {
		return tok, nil
	}
	var res contract.TokenResult
	err := t.update(ctx, s, contract.UpdateToken, contract.TokenRequest{MinValidity: contract.Duration(minValidity)}, &res)
	return res, err
}

// AccessDetails runs the accessDetails update.
func (t *Temporal) AccessDetails(ctx context.Context, s Ref, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
	var res contract.AccessDetailsResult
	err := t.update(ctx, s, contract.UpdateAccessDetails, req, &res)
	return res, err
}

// Invalidate runs the invalidate update.
func (t *Temporal) Invalidate(ctx context.Context, s Ref, req contract.InvalidateRequest) (contract.InvalidateResult, error) {
	var res contract.InvalidateResult
	err := t.update(ctx, s, contract.UpdateInvalidate, req, &res)
	return res, err
}

// Logout ends the session cleanly (the logout update).
func (t *Temporal) Logout(ctx context.Context, s Ref) error {
	return t.update(ctx, s, contract.UpdateLogout, nil, nil)
}

// update runs an update on the session and waits for its result.
func (t *Temporal) update(ctx context.Context, s Ref, update string, arg, result any) error {
	handle, err := t.Update(ctx, s, update, arg)
	if err != nil {
		return sessionError(s, update, err)
	}
	if err := handle.Get(ctx, result); err != nil {
		return sessionError(s, update, err)
	}
	return nil
}

// Update sends update (with arg, unless nil) to the session with
// Update-With-Start, so the first caller creates the session and every later
// one shares it; it returns once the update has completed. Errors are the
// client's, unclassified.
func (t *Temporal) Update(ctx context.Context, s Ref, update string, arg any) (client.WorkflowUpdateHandle, error) {
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
	return c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   update,
			Args:         args,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
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
func sessionError(s Ref, update string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() != "" {
		return temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("session %s: %s", s.ID(), app.Error()), app.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: contract.ErrorType(app.Type()).Permanent()})
	}
	return contract.NewError(contract.ErrUnavailable, fmt.Sprintf("session %s: update %s: %v", s.ID(), update, err), contract.ErrorInfo{}, 0)
}
