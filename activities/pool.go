package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/session"
)

// Pools joins deployments to their capacity pool workflows.
type Pools struct {
	// Client reaches the pools; nil uses the client of the worker that
	// runs the activity.
	Client client.Client
	Names  session.Names
}

// PoolAcquireInput asks for slots of a profile's pool for the calling run.
type PoolAcquireInput struct {
	Profile  string              `json:"profile"`
	Pool     contract.PoolConfig `json:"pool"`
	Priority int                 `json:"priority"`
	Key      string              `json:"key"`
	Slots    int                 `json:"slots"`
	// Round is the refusals the run has had; the acquire signal sends it
	// so a pool that does not know the run grants it the right round.
	Round int `json:"round,omitempty"`
}

// PoolAcquireResult is the pool's answer and the pool's workflow ID (the
// release signal goes there).
type PoolAcquireResult struct {
	contract.PoolAcquireResult
	PoolWorkflowID string `json:"poolWorkflowId"`
}

func (p *Pools) client(ctx context.Context) client.Client {
	if p.Client != nil {
		return p.Client
	}
	return activity.GetClient(ctx)
}

// start starts the pool with the first request (and finds it afterwards).
func (p *Pools) start(ctx context.Context, in PoolAcquireInput) (id string, o client.StartWorkflowOptions, req contract.PoolAcquireRequest) {
	info := activity.GetInfo(ctx)
	id = p.Names.IDPrefix + contract.PoolID(in.Profile, in.Pool.Name)
	o = client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                info.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
	req = contract.PoolAcquireRequest{Holder: contract.PoolHolder{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID},
		Priority: in.Priority, Key: in.Key, Slots: in.Slots, Pool: in.Pool, Round: in.Round}
	return id, o, req
}

// PoolAcquireSignal queues the calling run in the pool with
// Signal-With-Start (the first request starts the pool); the pool grants
// by signal. Run as a local activity. A retry finds the same place, since
// requests are keyed by the run.
func (p *Pools) PoolAcquireSignal(ctx context.Context, in PoolAcquireInput) error {
	id, o, req := p.start(ctx, in)
	if _, err := p.client(ctx).SignalWithStartWorkflow(ctx, id, contract.SignalPoolAcquire, req, o,
		p.Names.TypePrefix+contract.PoolWorkflow, contract.PoolInput{Profile: in.Profile, Pool: in.Pool}); err != nil {
		return unavailable(fmt.Sprintf("pool %s: acquire: %v", id, err))
	}
	return nil
}

// PoolAcquire queues the calling run in the pool with Update-With-Start
// (the first request starts the pool). The pool answers at once; a retry
// finds the same place, since requests are keyed by the run. Runs that
// began before the acquire signal use it.
func (p *Pools) PoolAcquire(ctx context.Context, in PoolAcquireInput) (PoolAcquireResult, error) {
	id, o, req := p.start(ctx, in)
	c := p.client(ctx)
	start := c.NewWithStartWorkflowOperation(o, p.Names.TypePrefix+contract.PoolWorkflow, contract.PoolInput{Profile: in.Profile, Pool: in.Pool})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: contract.UpdatePoolAcquire, Args: []any{req},
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var res PoolAcquireResult
	if err == nil {
		err = h.Get(ctx, &res.PoolAcquireResult)
	}
	if err != nil {
		return res, unavailable(fmt.Sprintf("pool %s: acquire: %v", id, err))
	}
	res.PoolWorkflowID = id
	return res, nil
}

// PoolEndedHolders returns the holders whose run is no longer running
// (completed, failed, terminated, timed out, continued): their slots are
// free. A holder that cannot be described is kept.
func (p *Pools) PoolEndedHolders(ctx context.Context, holders []contract.PoolHolder) ([]contract.PoolHolder, error) {
	c := p.client(ctx)
	var (
		mu    sync.Mutex
		ended []bool = make([]bool, len(holders))
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 8)
	)
	for i, h := range holders {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := c.DescribeWorkflowExecution(ctx, h.WorkflowID, h.RunID)
			var nf *serviceerror.NotFound
			gone := errors.As(err, &nf) ||
				err == nil && d.WorkflowExecutionInfo.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
			mu.Lock()
			ended[i] = gone
			mu.Unlock()
		}()
	}
	wg.Wait()
	var out []contract.PoolHolder
	for i, h := range holders {
		if ended[i] {
			out = append(out, h)
		}
	}
	return out, ctx.Err()
}

// QueryPool asks a pool for its status. A pool that has not started yet
// (no deployment drew from it) is NotFound naming the pool field.
func QueryPool(ctx context.Context, c session.Querier, n session.Names, profile, pool string) (contract.PoolStatus, error) {
	id := n.IDPrefix + contract.PoolID(profile, pool)
	v, err := c.QueryWorkflow(ctx, id, "", contract.QueryStatus)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return contract.PoolStatus{}, contract.NewError(contract.ErrNotFound,
			fmt.Sprintf("pool %q of profile %q has no workflow (%s) yet; the first deployment that draws from it starts it", pool, profile, id),
			contract.ErrorInfo{Field: "pool"}, 0)
	}
	if err != nil {
		return contract.PoolStatus{}, err
	}
	var st contract.PoolStatus
	return st, v.Get(&st)
}
