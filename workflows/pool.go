package workflows

import (
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

var pools *activities.Pools

// Pool timings: holders are checked every poolCheckEvery while the pool has
// any, so the slot of a holder whose run ended without releasing it
// (terminated, timed out) comes back within poolCheckEvery plus one check.
const (
	poolCheckEvery  = time.Minute
	poolMaxBackoff  = time.Minute
	fairShareWeight = 1 << 20
)

// poolBatchVersion: pool runs from it on take in every acquire and release
// that waits before granting, so one workflow task orders them all.
const poolBatchVersion = "pool-batch-intake"

// poolCANAfter is how many requests a run handles before continue-as-new.
var poolCANAfter = 2000

// CapacityPool keeps the leases and the queue of one pool. Deployments join
// with the acquire update, are granted by signal, and leave with the
// release signal; everything it knows is in its state, carried across
// continue-as-new. Cancelling it ends it.
func CapacityPool(ctx workflow.Context, in contract.PoolInput) error {
	p := &pool{profile: in.Profile}
	if in.State != nil {
		p.st = *in.State
	} else {
		p.st = contract.PoolState{Config: in.Pool, Effective: in.Pool.Limit}
	}
	p.adopt(in.Pool)
	p.wakeup = workflow.NewBufferedChannel(ctx, 1)
	p.batch = workflow.GetVersion(ctx, poolBatchVersion, workflow.DefaultVersion, 1) >= 1
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.PoolStatus, error) {
		return p.status(), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, contract.UpdatePoolAcquire,
		func(ctx workflow.Context, r contract.PoolAcquireRequest) (contract.PoolAcquireResult, error) {
			p.handled++
			res := p.acquire(ctx, r)
			p.poke()
			return res, nil
		},
		workflow.UpdateHandlerOptions{Validator: validAcquire}); err != nil {
		return err
	}
	p.acquires = workflow.GetSignalChannel(ctx, contract.SignalPoolAcquire)
	p.releases = workflow.GetSignalChannel(ctx, contract.SignalPoolRelease)
	// Timers live across iterations: a busy pool must not restart them
	// on every event (each timer is a billed action).
	var check, wake workflow.Future
	var wakeAt time.Time
	cancelWake := func() {}
	for {
		now := workflow.Now(ctx)
		if check == nil && len(p.st.Holders) > 0 {
			check = workflow.NewTimer(ctx, poolCheckEvery)
		}
		if at, ok := p.nextNotBefore(now); ok && (wake == nil || at.Before(wakeAt)) {
			cancelWake()
			var wctx workflow.Context
			wctx, cancelWake = workflow.WithCancel(ctx)
			wake, wakeAt = workflow.NewTimer(wctx, at.Sub(now)), at
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(p.acquires, func(workflow.ReceiveChannel, bool) { p.intake(ctx) })
		sel.AddReceive(p.releases, func(c workflow.ReceiveChannel, _ bool) {
			if p.batch {
				p.intake(ctx)
				return
			}
			var r contract.PoolRelease
			c.Receive(ctx, &r)
			p.handled++
			p.release(ctx, r)
			p.schedule(ctx, "")
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.AddReceive(p.wakeup, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		if check != nil {
			sel.AddFuture(check, func(workflow.Future) { check = nil; p.checkHolders(ctx) })
		}
		if wake != nil {
			sel.AddFuture(wake, func(workflow.Future) { wake = nil; p.schedule(ctx, "") })
		}
		sel.Select(ctx)
		p.metrics(ctx)
		if ctx.Err() != nil {
			return temporal.NewCanceledError()
		}
		if p.handled >= poolCANAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Nothing may be lost: finish the running handlers, grants and
			// checks, and take in the releases that arrived.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && p.granting == 0 }); err != nil {
				return temporal.NewCanceledError()
			}
			for !p.batch {
				var r contract.PoolRelease
				if !p.releases.ReceiveAsync(&r) {
					break
				}
				p.release(ctx, r)
				p.schedule(ctx, "")
			}
			p.intake(ctx)
			if p.granting > 0 || !workflow.AllHandlersFinished(ctx) {
				continue
			}
			st := p.st
			// Its own type name: a host may have registered it under a prefix.
			return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, contract.PoolInput{Profile: p.profile, Pool: st.Config, State: &st})
		}
	}
}

type pool struct {
	profile  string
	st       contract.PoolState
	handled  int
	granting int // grant signals in flight
	checking bool
	wakeup   workflow.Channel // told of changes made outside the main loop
	batch    bool             // poolBatchVersion
	acquires workflow.ReceiveChannel
	releases workflow.ReceiveChannel
}

func validAcquire(r contract.PoolAcquireRequest) error {
	if r.Holder.WorkflowID == "" || r.Holder.RunID == "" || r.Slots < 1 || r.Pool.Limit < 1 {
		return temporal.NewApplicationError("acquire needs a holder run, at least one slot and a pool limit", string(contract.ErrInvalidInput))
	}
	return nil
}

// intake takes in every acquire signal that waits, then (batch) every
// release, and grants what fits once, so the highest priority of all of
// them goes first. Acquires go first: a run's release follows its acquire.
func (p *pool) intake(ctx workflow.Context) {
	for {
		var rs []contract.PoolAcquireRequest
		if !p.acquires.ReceiveAsync(&rs) {
			break
		}
		for _, r := range rs {
			p.handled++
			if err := validAcquire(r); err != nil {
				workflow.GetLogger(ctx).Warn("acquire request ignored", "holder", r.Holder.WorkflowID, "error", err)
				continue
			}
			p.join(ctx, r)
		}
	}
	for p.batch {
		var r contract.PoolRelease
		if !p.releases.ReceiveAsync(&r) {
			break
		}
		p.handled++
		p.release(ctx, r)
	}
	p.schedule(ctx, "")
}

// adopt follows the latest configuration a worker sent.
func (p *pool) adopt(c contract.PoolConfig) {
	if c.Limit < 1 {
		return
	}
	if c.Limit != p.st.Config.Limit {
		p.st.Effective = min(max(p.st.Effective+c.Limit-p.st.Config.Limit, 1), c.Limit)
	}
	p.st.Config = c
	if p.st.Effective < 1 {
		p.st.Effective = c.Limit
	}
}

func (p *pool) inUse() int {
	n := 0
	for _, h := range p.st.Holders {
		n += h.Slots
	}
	return n
}

func find(rs []contract.PoolRequest, h contract.PoolHolder) int {
	return slices.IndexFunc(rs, func(r contract.PoolRequest) bool { return r.Holder == h })
}

// join queues a request, or reports where the holder already is.
func (p *pool) join(ctx workflow.Context, r contract.PoolAcquireRequest) (_ contract.PoolAcquireResult, queued bool) {
	p.adopt(r.Pool)
	if i := find(p.st.Holders, r.Holder); i >= 0 {
		return contract.PoolAcquireResult{Granted: true, Round: p.st.Holders[i].Refusals}, false
	}
	if i := find(p.st.Waiting, r.Holder); i >= 0 {
		return contract.PoolAcquireResult{Position: i, Round: p.st.Waiting[i].Refusals}, false
	}
	p.st.Seq++
	req := contract.PoolRequest{Holder: r.Holder, Priority: r.Priority, Key: r.Key,
		Slots: min(r.Slots, p.st.Config.Limit), Seq: p.st.Seq, Enqueued: workflow.Now(ctx), Refusals: r.Round}
	p.activate(req)
	p.st.Waiting = append(p.st.Waiting, req)
	return contract.PoolAcquireResult{Round: r.Round}, true
}

func (p *pool) acquire(ctx workflow.Context, r contract.PoolAcquireRequest) contract.PoolAcquireResult {
	res, queued := p.join(ctx, r)
	if !queued {
		return res
	}
	if p.schedule(ctx, r.Holder.RunID) {
		return contract.PoolAcquireResult{Granted: true, Round: r.Round}
	}
	return contract.PoolAcquireResult{Position: find(p.st.Waiting, r.Holder), Round: r.Round}
}

func (p *pool) release(ctx workflow.Context, r contract.PoolRelease) {
	if r.Outcome == contract.ReleasePending {
		p.pending(ctx, r.Holder)
		return
	}
	if i := find(p.st.Waiting, r.Holder); i >= 0 {
		p.st.Waiting = slices.Delete(p.st.Waiting, i, i+1)
		p.st.Counts.Cancelled++
		return
	}
	i := find(p.st.Holders, r.Holder)
	if i < 0 {
		return // released already, or never queued
	}
	h := p.st.Holders[i]
	p.st.Holders = slices.Delete(p.st.Holders, i, i+1)
	switch r.Outcome {
	case contract.ReleaseRefused:
		// The platform has less room than configured: run no more than
		// what still runs, and put the refused one back at the head.
		p.st.Counts.Refused++
		p.shrink(ctx, "refused")
		h.Refusals++
		h.Granted = time.Time{}
		h.NotBefore = workflow.Now(ctx).Add(min(poolMaxBackoff, time.Duration(1<<min(h.Refusals, 10))*time.Second))
		at, _ := slices.BinarySearchFunc(p.st.Waiting, h.Seq, func(w contract.PoolRequest, s int64) int { return compareInt(w.Seq, s) })
		p.st.Waiting = slices.Insert(p.st.Waiting, at, h)
	case contract.ReleaseDone:
		p.st.Counts.Released++
		p.st.Effective = min(p.st.Config.Limit, p.st.Effective+1)
	default:
		p.st.Counts.Released++
	}
}

// pending: a holder's run is on the platform but waits there for
// capacity. It keeps its slot (the run starts when the platform has room);
// the pool runs no more than what the platform does run.
func (p *pool) pending(ctx workflow.Context, h contract.PoolHolder) {
	i := find(p.st.Holders, h)
	if i < 0 || p.st.Holders[i].Pending {
		return
	}
	p.st.Holders[i].Pending = true
	p.st.Counts.Pending++
	p.shrink(ctx, "pending")
}

// shrink lowers the effective limit to the slots of the holders whose runs
// the platform runs (at least 1) after a capacity answer.
func (p *pool) shrink(ctx workflow.Context, answer string) {
	running := 0
	for _, h := range p.st.Holders {
		if !h.Pending {
			running += h.Slots
		}
	}
	p.st.Effective = max(1, min(p.st.Effective, running))
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": p.profile, "pool": p.st.Config.Name, "answer": answer}).
		Counter("rpaflow_pool_capacity_answers").Inc(1)
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// clock returns the index of key's fair-share clock at priority, creating it.
func (p *pool) clock(priority int, key string) int {
	i := slices.IndexFunc(p.st.Clocks, func(c contract.PoolClock) bool { return c.Priority == priority && c.Key == key })
	if i < 0 {
		p.st.Clocks = append(p.st.Clocks, contract.PoolClock{Priority: priority, Key: key})
		i = len(p.st.Clocks) - 1
	}
	return i
}

func (p *pool) virtual(priority int) int64 {
	for len(p.st.Virtual) <= priority {
		p.st.Virtual = append(p.st.Virtual, 0)
	}
	return p.st.Virtual[priority]
}

// activate starts a key that had nobody waiting at the pool's current
// virtual time, so a newcomer neither jumps ahead for the slots it did not
// ask for nor waits behind the others' backlog.
func (p *pool) activate(r contract.PoolRequest) {
	if slices.ContainsFunc(p.st.Waiting, func(w contract.PoolRequest) bool { return w.Priority == r.Priority && w.Key == r.Key }) {
		return
	}
	i := p.clock(r.Priority, r.Key)
	p.st.Clocks[i].V = max(p.st.Clocks[i].V, p.virtual(r.Priority))
	// Clocks of idle keys that fell behind say nothing any more.
	v := p.virtual(r.Priority)
	p.st.Clocks = slices.DeleteFunc(p.st.Clocks, func(c contract.PoolClock) bool {
		return c.Priority == r.Priority && c.Key != r.Key && c.V <= v &&
			!slices.ContainsFunc(p.st.Waiting, func(w contract.PoolRequest) bool { return w.Priority == c.Priority && w.Key == c.Key })
	})
}

// next picks the request to grant: the highest priority with an eligible
// request, then the key with the smallest fair-share clock (the earliest
// head on a tie), then that key's oldest request.
func (p *pool) next(now time.Time) int {
	for prio := contract.MinAdmissionPriority; prio <= contract.MaxAdmissionPriority; prio++ {
		best, bestV := -1, int64(0)
		var seen []string
		for i, w := range p.st.Waiting {
			if w.Priority != prio || slices.Contains(seen, w.Key) || w.NotBefore.After(now) {
				continue
			}
			seen = append(seen, w.Key)
			v := p.st.Clocks[p.clock(prio, w.Key)].V
			if best < 0 || v < bestV {
				best, bestV = i, v
			}
		}
		if best >= 0 {
			return best
		}
	}
	return -1
}

// schedule grants what fits. It reports whether self (a run ID) was granted
// here; that holder is answered by its acquire update, all others by signal.
func (p *pool) schedule(ctx workflow.Context, self string) bool {
	granted := false
	now := workflow.Now(ctx)
	for {
		i := p.next(now)
		// A request larger than the effective limit goes when the pool is empty.
		if i < 0 || p.inUse() > 0 && p.inUse()+p.st.Waiting[i].Slots > p.st.Effective {
			return granted
		}
		r := p.st.Waiting[i]
		p.st.Waiting = slices.Delete(p.st.Waiting, i, i+1)
		c := p.clock(r.Priority, r.Key)
		p.virtual(r.Priority)
		p.st.Virtual[r.Priority] = p.st.Clocks[c].V
		p.st.Clocks[c].V += int64(fairShareWeight * r.Slots / p.st.Config.Weight(r.Key))
		r.Granted = now
		p.st.Holders = append(p.st.Holders, r)
		p.st.Counts.Granted++
		m := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": p.profile, "pool": p.st.Config.Name,
			"priority": strconv.Itoa(r.Priority)})
		m.Timer("rpaflow_pool_wait").Record(now.Sub(r.Enqueued))
		m.Counter("rpaflow_pool_grants").Inc(int64(r.Slots))
		if r.Holder.RunID == self {
			granted = true
			continue
		}
		p.grant(ctx, r.Holder, r.Refusals)
	}
}

// grant signals a holder's run. A run that has ended cannot be signalled:
// its slot comes back at once.
func (p *pool) grant(ctx workflow.Context, h contract.PoolHolder, round int) {
	p.granting++
	f := workflow.SignalExternalWorkflow(ctx, h.WorkflowID, h.RunID, contract.SignalPoolGrant, contract.PoolGrant{Pool: p.st.Config.Name, Round: round})
	workflow.Go(ctx, func(gctx workflow.Context) {
		err := f.Get(gctx, nil)
		p.granting--
		if err != nil && find(p.st.Holders, h) >= 0 {
			workflow.GetLogger(ctx).Info("pool holder is gone; slot returned", "holder", h.WorkflowID, "error", err)
			p.reclaim(ctx, h)
		}
		p.poke()
	})
}

func (p *pool) reclaim(ctx workflow.Context, h contract.PoolHolder) {
	if i := find(p.st.Holders, h); i >= 0 {
		p.st.Holders = slices.Delete(p.st.Holders, i, i+1)
		p.st.Counts.Reclaimed++
		p.schedule(ctx, "")
	}
}

// poke wakes the main loop so metrics and continue-as-new see the change.
func (p *pool) poke() { p.wakeup.SendAsync(nil) }

// checkHolders asks which holders' runs have ended and returns their slots.
func (p *pool) checkHolders(ctx workflow.Context) {
	if p.checking || len(p.st.Holders) == 0 {
		return
	}
	holders := make([]contract.PoolHolder, len(p.st.Holders))
	for i, h := range p.st.Holders {
		holders[i] = h.Holder
	}
	p.checking = true
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 2}})
	f := workflow.ExecuteActivity(actx, pools.PoolEndedHolders, holders)
	p.granting++ // continue-as-new waits for the check too
	workflow.Go(ctx, func(gctx workflow.Context) {
		var ended []contract.PoolHolder
		err := f.Get(gctx, &ended)
		p.checking = false
		p.granting--
		if err == nil {
			for _, h := range ended {
				workflow.GetLogger(ctx).Info("pool holder ended without releasing; slot returned", "holder", h.WorkflowID)
				p.reclaim(ctx, h)
			}
		}
		p.poke()
	})
}

// nextNotBefore is when the earliest backed-off request may go.
func (p *pool) nextNotBefore(now time.Time) (time.Time, bool) {
	var at time.Time
	for _, w := range p.st.Waiting {
		if w.NotBefore.After(now) && (at.IsZero() || w.NotBefore.Before(at)) {
			at = w.NotBefore
		}
	}
	return at, !at.IsZero()
}

func (p *pool) status() contract.PoolStatus {
	s := contract.PoolStatus{Profile: p.profile, Pool: p.st.Config.Name, Limit: p.st.Config.Limit, Effective: p.st.Effective,
		InUse: p.inUse(), Holders: len(p.st.Holders), Waiting: len(p.st.Waiting), Counts: p.st.Counts}
	for _, h := range p.st.Holders {
		if h.Pending {
			s.PlatformPending++
		}
	}
	for _, w := range p.st.Waiting {
		if s.Oldest.IsZero() || w.Enqueued.Before(s.Oldest) {
			s.Oldest = w.Enqueued
		}
		i := slices.IndexFunc(s.Queues, func(q contract.PoolKeyQueue) bool { return q.Priority == w.Priority && q.Key == w.Key })
		if i < 0 {
			s.Queues = append(s.Queues, contract.PoolKeyQueue{Priority: w.Priority, Key: w.Key, Oldest: w.Enqueued})
			i = len(s.Queues) - 1
		}
		s.Queues[i].Waiting++
		if w.Enqueued.Before(s.Queues[i].Oldest) {
			s.Queues[i].Oldest = w.Enqueued
		}
	}
	slices.SortStableFunc(s.Queues, func(a, b contract.PoolKeyQueue) int { return a.Priority - b.Priority })
	return s
}

func (p *pool) metrics(ctx workflow.Context) {
	h := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": p.profile, "pool": p.st.Config.Name})
	h.Gauge("rpaflow_pool_limit").Update(float64(p.st.Config.Limit))
	h.Gauge("rpaflow_pool_effective_limit").Update(float64(p.st.Effective))
	h.Gauge("rpaflow_pool_in_use").Update(float64(p.inUse()))
	h.Gauge("rpaflow_pool_waiting").Update(float64(len(p.st.Waiting)))
	oldest := 0.0
	if s := p.status(); !s.Oldest.IsZero() {
		oldest = float64(s.Oldest.Unix())
	}
	h.Gauge("rpaflow_pool_oldest_wait_timestamp_seconds").Update(oldest)
}
