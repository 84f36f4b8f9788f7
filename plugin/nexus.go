package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/nexus-rpc/sdk-go/nexus"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporalnexus"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// workflowRunOperation runs workflowType for each start request. The
// workflow ID comes from the request ID, so a retried start attaches to
// the deployment it already started and never starts a second one;
// cancelling the operation cancels the workflow.
func workflowRunOperation[I, O any](p *Plugin, op, workflowType string) nexus.Operation[I, O] {
	return temporalnexus.MustNewWorkflowRunOperationWithOptions(temporalnexus.WorkflowRunOperationOptions[I, O]{
		Name: op,
		Handler: func(ctx context.Context, in I, so nexus.StartOperationOptions) (temporalnexus.WorkflowHandle[O], error) {
			if so.RequestID == "" {
				return nil, nexus.HandlerErrorf(nexus.HandlerErrorTypeBadRequest, "%s: the start request has no request ID, so a retry could start a second deployment; call through a Temporal Nexus endpoint", op)
			}
			return temporalnexus.ExecuteUntypedWorkflow[O](ctx, so, client.StartWorkflowOptions{
				ID:                       p.o.IDPrefix + contract.NexusWorkflowID(op, so.RequestID),
				WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
				WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			}, p.o.NamePrefix+workflowType, in)
		},
	})
}

// sessionStatusOperation answers with a session's status query: expiry,
// generation, failures; never a token.
func (p *Plugin) sessionStatusOperation() nexus.Operation[contract.SessionStatusInput, contract.SessionStatus] {
	return nexus.NewSyncOperation(contract.OpSessionStatus, func(ctx context.Context, in contract.SessionStatusInput, _ nexus.StartOperationOptions) (contract.SessionStatus, error) {
		if err := in.Validate(); err != nil {
			return contract.SessionStatus{}, failed(err)
		}
		ref, err := p.registry.SessionRef(in.Profile)
		if err != nil {
			return contract.SessionStatus{}, failed(err)
		}
		id := p.names.SessionID(ref)
		v, err := temporalnexus.GetClient(ctx).QueryWorkflow(ctx, id, "", contract.QueryStatus)
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return contract.SessionStatus{}, failed(contract.NewError(contract.ErrNotFound,
				fmt.Sprintf("profile %q has no session (workflow %s) yet; the first deployment that needs it starts it", in.Profile, id),
				contract.ErrorInfo{Field: "profile"}, 0))
		}
		if err != nil {
			return contract.SessionStatus{}, err // retried by the caller's Nexus machinery
		}
		var st contract.SessionStatus
		return st, v.Get(&st)
	})
}

// poolStatusOperation answers with a capacity pool's status query.
func (p *Plugin) poolStatusOperation() nexus.Operation[contract.PoolStatusInput, contract.PoolStatus] {
	return nexus.NewSyncOperation(contract.OpPoolStatus, func(ctx context.Context, in contract.PoolStatusInput, _ nexus.StartOperationOptions) (contract.PoolStatus, error) {
		if err := in.Validate(); err != nil {
			return contract.PoolStatus{}, failed(err)
		}
		if err := p.checkPool(in.Profile, in.Pool); err != nil {
			return contract.PoolStatus{}, failed(err)
		}
		st, err := activities.QueryPool(ctx, temporalnexus.GetClient(ctx), p.names, in.Profile, in.Pool)
		if err != nil && contract.TypeOf(err) != "" {
			return contract.PoolStatus{}, failed(err)
		}
		return st, err // any other error is retried by the caller's Nexus machinery
	})
}

// checkPool reports a pool the profile does not declare as InvalidInput.
func (p *Plugin) checkPool(profile, pool string) error {
	for _, pr := range p.o.Profiles {
		if pr.Name != profile {
			continue
		}
		var names []string
		for _, c := range pr.Pools {
			if c.Name == pool {
				return nil
			}
			names = append(names, c.Name)
		}
		return contract.InvalidInputError("pool", "%q is not a pool of profile %q; its pools are: %v", pool, profile, names)
	}
	return contract.InvalidInputError("profile", "%q is not configured on this worker", profile)
}

// failed ends an operation with err as its typed cause, so the caller's
// workflow sees the error type (contract.TypeOf).
func failed(err error) error {
	return &nexus.OperationError{State: nexus.OperationStateFailed, Message: err.Error(), Cause: err}
}
