package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

var (
	cr   *activities.AutomationAnywhere
	orch *activities.Orchestrator
	hub  *activities.AutomationHub
)

// sessionActivityOptions: one attempt per activity; the session loop owns
// retries so it can back off within the token's remaining validity and stay
// responsive to updates.
func sessionActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// renewalOptions: renewals run as local activities. A renewal is one short
// HTTP exchange owned by the session's own worker, so running it inside the
// workflow task halves the server work per cycle (one workflow task instead
// of two plus an activity task, a marker instead of three activity events)
// while the action count stays one timer and one activity.
func renewalOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// localRenewals is the change that moved renewals from regular to local
// activities. Session runs that began before it keep renewing through
// regular activities, so their histories replay; a new run (and each run
// after continue-as-new) uses local activities.
const localRenewals = "renewal-as-local-activity"

// executeRenewal runs a renewal activity the way this run's history says.
func executeRenewal(ctx workflow.Context, activity any, args ...any) workflow.Future {
	if workflow.GetVersion(ctx, localRenewals, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.ExecuteActivity(sessionActivityOptions(ctx), activity, args...)
	}
	return workflow.ExecuteLocalActivity(renewalOptions(ctx), activity, args...)
}

// ControlRoomSession keeps one Automation Anywhere Control Room login alive
// for a profile and serves its token and API Task access details to
// consumers (updates token, accessDetails, invalidate, logout; query status).
func ControlRoomSession(ctx workflow.Context, in sessionInput) error {
	if err := checkSession(ctx, in); err != nil {
		return err
	}
	return newSession(in, contract.ControlRoomSessionWorkflow, aaRenewer{profile: in.Profile}).run(ctx)
}

type aaRenewer struct{ profile string }

func (r aaRenewer) canRefresh() bool { return true }

func (r aaRenewer) renew(ctx workflow.Context, action, token string, paths []string) (activities.RenewResult, error) {
	var res activities.RenewResult
	err := executeRenewal(ctx, cr.AARenewSession,
		activities.RenewInput{Profile: r.profile, Action: action, Token: token, Paths: paths}).Get(ctx, &res)
	return res, err
}

func (r aaRenewer) logout(ctx workflow.Context, token string) error {
	return workflow.ExecuteActivity(sessionActivityOptions(ctx), cr.AALogout, r.profile, activities.LogoutToken(token)).Get(ctx, nil)
}

// OrchestratorSession keeps a UiPath Orchestrator token fresh for a profile.
// There is no refresh token: each renewal requests a new token.
func OrchestratorSession(ctx workflow.Context, in sessionInput) error {
	if err := checkSession(ctx, in); err != nil {
		return err
	}
	return newSession(in, contract.OrchestratorSessionWorkflow, orchRenewer{profile: in.Profile}).run(ctx)
}

type orchRenewer struct{ profile string }

func (r orchRenewer) canRefresh() bool { return false }

func (r orchRenewer) renew(ctx workflow.Context, _, _ string, _ []string) (activities.RenewResult, error) {
	var c activities.Credential
	if err := executeRenewal(ctx, orch.OrchAuthenticate, r.profile).Get(ctx, &c); err != nil {
		return activities.RenewResult{}, err
	}
	return activities.RenewResult{Credential: &c, LoggedIn: true}, nil
}

// logout: client-credentials tokens cannot be revoked; dropping it is all.
func (r orchRenewer) logout(workflow.Context, string) error { return nil }

// checkSession refuses a bad profile, and a workflow ID of the kind Nexus
// operations use: those payloads are written for Nexus callers, unencrypted,
// and a session's state is its token.
func checkSession(ctx workflow.Context, in sessionInput) error {
	if err := contract.ValidateProfile(in.Profile); err != nil {
		return err
	}
	if id := workflow.GetInfo(ctx).WorkflowExecution.ID; strings.Contains(id, contract.NexusWorkflowIDPrefix) {
		return contract.NewError(contract.ErrInvalidInput, fmt.Sprintf("workflow ID %q contains %q, which marks workflows whose payloads Nexus callers read unencrypted; a session's state is its token: start it as %s", id, contract.NexusWorkflowIDPrefix, contract.AASessionID(in.Profile)), contract.ErrorInfo{}, 0)
	}
	return nil
}
