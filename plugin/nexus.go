package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nexus-rpc/sdk-go/nexus"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporalnexus"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/profile"
	"github.com/rpaflow/rpaflow/workflows"
)

// workflowRunOperation runs workflowType for each start request whose
// profile (profileOf) the caller's endpoint may use and is of kind. The
// workflow ID comes from the endpoint's task queue and the request ID, so a
// retried start attaches to the deployment it already started and never
// starts a second one, and a request ID reused through another endpoint
// starts a run of its own; cancelling the operation cancels the workflow.
func workflowRunOperation[I, O any](p *Plugin, op, workflowType string, kind profile.Kind, profileOf func(I) string) nexus.Operation[I, O] {
	return temporalnexus.MustNewWorkflowRunOperationWithOptions(temporalnexus.WorkflowRunOperationOptions[I, O]{
		Name: op,
		Handler: func(ctx context.Context, in I, so nexus.StartOperationOptions) (temporalnexus.WorkflowHandle[O], error) {
			if so.RequestID == "" {
				return nil, nexus.HandlerErrorf(nexus.HandlerErrorTypeBadRequest, "%s: the start request has no request ID, so a retry could start a second deployment; call through a Temporal Nexus endpoint", op)
			}
			queue := temporalnexus.GetOperationInfo(ctx).TaskQueue
			if err := p.nexusAccess(queue, profileOf(in), kind); err != nil {
				return nil, failed(err)
			}
			return temporalnexus.ExecuteUntypedWorkflow[O](ctx, so, client.StartWorkflowOptions{
				ID:                       p.o.IDPrefix + contract.NexusWorkflowID(queue, op, so.RequestID),
				TaskQueue:                p.workflowQueue(queue),
				Memo:                     map[string]any{contract.NexusQueueMemo + queue: true},
				WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
				WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				// Its tasks are dispatched in admission order too.
				Priority: contract.StartPriority(any(in)),
			}, p.o.NamePrefix+workflowType, in)
		},
	})
}

// sessionStatusOperation answers with a session's status query: expiry,
// generation, failures; never a token, and no platform text.
func (p *Plugin) sessionStatusOperation() nexus.Operation[contract.SessionStatusInput, contract.SessionStatus] {
	return nexus.NewSyncOperation(contract.OpSessionStatus, func(ctx context.Context, in contract.SessionStatusInput, _ nexus.StartOperationOptions) (contract.SessionStatus, error) {
		if err := in.Validate(); err != nil {
			return contract.SessionStatus{}, failed(err)
		}
		if err := p.nexusAccess(temporalnexus.GetOperationInfo(ctx).TaskQueue, in.Profile, ""); err != nil {
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
		if err := v.Get(&st); err != nil {
			return contract.SessionStatus{}, err
		}
		return crossingStatus(st), nil
	})
}

// crossingStatus is a session status as a Nexus caller sees it: the
// platform's own error text (which may name users and hosts or echo request
// data) stays in rpaflow's namespace; LastErrorType still tells what went
// wrong.
func crossingStatus(st contract.SessionStatus) contract.SessionStatus {
	st.LastError = ""
	return st
}

// nexusAccess decides whether a Nexus caller whose endpoint targets queue
// may use profile name (of kind, if given). With NexusQueues, only the
// queue's profiles, and a refusal names nothing else; without, every
// profile. Problems with an allowed profile list only the queue's profiles.
func (p *Plugin) nexusAccess(queue, name string, kind profile.Kind) error {
	allowed, ok := p.nexusProfiles(queue)
	if !ok || !slices.Contains(allowed, name) && len(p.o.NexusQueues) > 0 {
		return contract.ProfileForbiddenError(name, queue)
	}
	got, configured := p.registry.Kind(name)
	if kind == "" || configured && got == kind {
		return nil
	}
	var same []string
	for _, n := range allowed {
		if k, _ := p.registry.Kind(n); k == kind {
			same = append(same, n)
		}
	}
	slices.Sort(same)
	list := strings.Join(same, ", ")
	if list == "" {
		list = "(none)"
	}
	if !configured {
		return contract.InvalidInputError("profile", "%q is not configured on this worker; %s profiles this endpoint may use: %s", name, kind, list)
	}
	return contract.InvalidInputError("profile", "%q is configured with kind %s, but this operation needs kind %s; %s profiles this endpoint may use: %s", name, got, kind, kind, list)
}

// nexusProfiles are the profiles callers on queue may use; false if the
// queue serves no Nexus callers.
func (p *Plugin) nexusProfiles(queue string) ([]string, bool) {
	if len(p.o.NexusQueues) == 0 {
		var all []string
		for _, pr := range p.o.Profiles {
			all = append(all, pr.Name)
		}
		return all, true
	}
	for _, q := range p.o.NexusQueues {
		if q.TaskQueue == queue {
			return q.Profiles, true
		}
	}
	return nil, false
}

// workflowQueue is where a workflow started on behalf of a caller on queue
// runs: rpaflow's own queue when Nexus has queues of its own, so the
// deployments, sessions and their activities stay on one set of workers.
func (p *Plugin) workflowQueue(queue string) string {
	if len(p.o.NexusQueues) > 0 {
		return p.o.TaskQueue
	}
	return queue
}

// poolStatusOperation answers with a capacity pool's status query.
func (p *Plugin) poolStatusOperation() nexus.Operation[contract.PoolStatusInput, contract.PoolStatus] {
	return nexus.NewSyncOperation(contract.OpPoolStatus, func(ctx context.Context, in contract.PoolStatusInput, _ nexus.StartOperationOptions) (contract.PoolStatus, error) {
		if err := in.Validate(); err != nil {
			return contract.PoolStatus{}, failed(err)
		}
		if err := p.nexusAccess(temporalnexus.GetOperationInfo(ctx).TaskQueue, in.Profile, ""); err != nil {
			return contract.PoolStatus{}, failed(err)
		}
		if err := p.checkPool(in.Profile, in.Pool); err != nil {
			return contract.PoolStatus{}, failed(err)
		}
		st, err := activities.QueryPool(ctx, temporalnexus.GetClient(ctx), p.names, in.Profile, in.Pool)
		if err != nil && contract.TypeOf(err) != "" {
			return contract.PoolStatus{}, failed(err)
		}
		if err != nil {
			return contract.PoolStatus{}, err // retried by the caller's Nexus machinery
		}
		return crossingPoolStatus(st, temporalnexus.GetOperationInfo(ctx).TaskQueue), nil
	})
}

// crossingPoolStatus is a pool's status as a Nexus caller on queue sees
// it: the totals, and the queues of its own fairness keys only (another
// team's keys name its callers and show its load).
func crossingPoolStatus(st contract.PoolStatus, queue string) contract.PoolStatus {
	var own []contract.PoolKeyQueue
	for _, q := range st.Queues {
		if workflows.OwnsFairnessKey(queue, q.Key) {
			own = append(own, q)
		}
	}
	st.Queues = own
	return st
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
