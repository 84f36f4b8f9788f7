package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/session"
)

// Pools joins deployments to their capacity pool workflows.
type Pools struct {
	// Client reaches the pools; nil uses the client of the worker that
	// runs the activity.
	Client client.Client
	Names  session.Names

	mu      sync.Mutex
	filling map[batchKey][]*acquireBatch // the signals to send, in order
	sending map[batchKey]bool            // a sender is running
}

// batchKey: each priority of a pool has its own signals, so a request of
// priority 1 never waits behind a signal carrying a burst of others.
type batchKey struct {
	pool     string
	priority int
}

// acquireBatch is one acquire signal's requests and its outcome.
type acquireBatch struct {
	start client.StartWorkflowOptions
	input contract.PoolInput
	reqs  []contract.PoolAcquireRequest
	done  chan struct{}
	err   error
}

// maxAcquireBatch bounds one acquire signal's size; acquireSendTimeout
// one signal's call.
const (
	maxAcquireBatch    = 200
	acquireSendTimeout = 10 * time.Second
)

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
		Priority:                 contract.PoolTaskPriority,
	}
	req = contract.PoolAcquireRequest{Holder: contract.PoolHolder{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID},
		Priority: in.Priority, Key: in.Key, Slots: in.Slots, Pool: in.Pool, Round: in.Round}
	return id, o, req
}

// PoolAcquireSignal queues the calling run in the pool with
// Signal-With-Start (the first request starts the pool); the pool grants
// by signal. Run as a local activity. A retry finds the same place, since
// requests are keyed by the run.
//
// The requests of a worker's runs for one pool share signals: while one
// signal is on its way the next ones gather, so a burst costs the pool (and
// the bill) a few signals rather than one per deployment.
func (p *Pools) PoolAcquireSignal(ctx context.Context, in PoolAcquireInput) error {
	id, o, req := p.start(ctx, in)
	c := p.client(ctx)
	k := batchKey{pool: id, priority: in.Priority}
	p.mu.Lock()
	if p.filling == nil {
		p.filling, p.sending = map[batchKey][]*acquireBatch{}, map[batchKey]bool{}
	}
	q := p.filling[k]
	if len(q) == 0 || len(q[len(q)-1].reqs) >= maxAcquireBatch {
		q = append(q, &acquireBatch{start: o, input: contract.PoolInput{Profile: in.Profile, Pool: in.Pool}, done: make(chan struct{})})
		p.filling[k] = q
	}
	b := q[len(q)-1]
	b.reqs = append(b.reqs, req)
	if !p.sending[k] {
		p.sending[k] = true
		go p.send(c, k)
	}
	p.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if b.err != nil {
		return unavailable(fmt.Sprintf("pool %s: acquire: %v", id, b.err))
	}
	return nil
}

// send sends the gathered batches of k, one signal each, until none is
// left. A batch's signal is sent whatever the callers' contexts: the ones
// still waiting need it.
func (p *Pools) send(c client.Client, k batchKey) {
	id := k.pool
	for {
		p.mu.Lock()
		q := p.filling[k]
		if len(q) == 0 {
			delete(p.filling, k)
			p.sending[k] = false
			p.mu.Unlock()
			return
		}
		b := q[0]
		p.filling[k] = q[1:]
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), acquireSendTimeout)
		// A plain signal is lighter for the server; a pool that is not
		// running (none yet, or it ended) is started with the signal.
		b.err = c.SignalWorkflow(ctx, id, "", contract.SignalPoolAcquire, b.reqs)
		var nf *serviceerror.NotFound
		if errors.As(b.err, &nf) {
			_, b.err = c.SignalWithStartWorkflow(ctx, id, contract.SignalPoolAcquire, b.reqs, b.start,
				p.Names.TypePrefix+contract.PoolWorkflow, b.input)
		}
		cancel()
		close(b.done)
	}
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

// ErrSlotGivenBack: an earlier attempt of a pooled execution gave its slot
// back (its completion was lost on the way), so this attempt may not call
// the platform; the deployment queues for a slot again. Never a result.
const ErrSlotGivenBack contract.ErrorType = "PoolSlotGivenBack"

func errSlotGivenBack(pool string) error {
	return temporal.NewNonRetryableApplicationError("an earlier attempt gave the slot of pool "+pool+
		" back after its run ended; queueing for a slot again", string(ErrSlotGivenBack), nil)
}

// slotGivenBackEarlier reports whether an earlier attempt left the
// "released" mark.
func slotGivenBackEarlier(ctx context.Context) bool {
	return earlierDetails(ctx).Released
}

// GiveBackSlot releases the pool slot (pool is the pool's workflow ID) that
// the calling activity's run holds, right after the platform run it held
// it for has ended, instead of the deployment's next workflow task: the
// next holder gets the slot that much sooner. Unless a retry of the
// activity can never call the platform again (safe), it first stores the
// "released" mark, so a retry queues for a slot again instead. It reports
// whether the pool has the release; if not, the deployment releases.
func GiveBackSlot(ctx context.Context, c client.Client, marks Marks, pool string, safe bool) bool {
	if !safe {
		if err := storeMark(ctx, marks, sentMark{Released: true}); err != nil {
			activity.GetLogger(ctx).Info("could not store the \"released\" mark; the deployment releases the slot", "pool", pool, "error", err)
			return false
		}
	}
	if c == nil {
		if c = activity.GetClient(ctx); c == nil {
			return false
		}
	}
	info := activity.GetInfo(ctx)
	// Sent even when the activity is being cancelled: the run is over.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), acquireSendTimeout)
	defer cancel()
	err := c.SignalWorkflow(sctx, pool, "", contract.SignalPoolRelease, contract.PoolRelease{
		Holder: contract.PoolHolder{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}, Outcome: contract.ReleaseDone})
	if err != nil {
		activity.GetLogger(ctx).Info("giving the pool slot back failed; the deployment releases it", "pool", pool, "error", err)
		return false
	}
	return true
}
