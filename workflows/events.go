package workflows

import (
	"hash/fnv"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

var ev *activities.Events

// Bounds of a RunEvents workflow.
const (
	// unclaimedTTL is how long events wait for a wait to register. Events
	// of runs rpaflow did not start (a webhook covers the whole tenant)
	// are dropped after it; a wait that registers later still learns the
	// end at its next reconciliation.
	unclaimedTTL = 15 * time.Minute
	maxPending   = 16 // events held for a wait not registered yet
	maxSeen      = 64 // event ids remembered to drop duplicates
)

// RunEvents joins the events of one run with the workflow waiting on it,
// in whichever order they come: events are held until a wait registers,
// then forwarded. It ends once it forwarded an event that ends the run,
// when the registered wait is gone, at the wait's deadline, or unclaimed
// after unclaimedTTL.
func RunEvents(ctx workflow.Context, in contract.RunEventsInput) error {
	events := workflow.GetSignalChannel(ctx, contract.RunEventSignal)
	waiters := workflow.GetSignalChannel(ctx, contract.RunWaiterSignal)
	log := workflow.GetLogger(ctx)
	metrics := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": in.Profile, "subject": in.Subject})
	var (
		waiter  *contract.RunWaiter
		pending []contract.RunEvent
		seen    []string
	)
	deadline := workflow.Now(ctx).Add(unclaimedTTL)
	take := func(e contract.RunEvent) {
		if slices.Contains(seen, e.EventID) {
			metrics.Counter("rpaflow_run_events_duplicate").Inc(1)
			return
		}
		seen = append(seen, e.EventID)
		if len(seen) > maxSeen {
			seen = seen[1:]
		}
		pending = append(pending, e)
		if len(pending) > maxPending {
			pending = pending[1:]
			metrics.Counter("rpaflow_run_events_unmatched").Inc(1)
		}
	}
	register := func(w contract.RunWaiter) {
		waiter = &w
		deadline = w.Until
	}
	drain := func() bool {
		got := false
		for {
			var e contract.RunEvent
			if !events.ReceiveAsync(&e) {
				break
			}
			take(e)
			got = true
		}
		for {
			var w contract.RunWaiter
			if !waiters.ReceiveAsync(&w) {
				break
			}
			register(w)
			got = true
		}
		return got
	}
	// forward sends what is pending to the wait; done is true when the
	// run's end went out or the wait is gone.
	forward := func() (done bool) {
		for len(pending) > 0 {
			e := pending[0]
			pending = pending[1:]
			err := workflow.SignalExternalWorkflow(ctx, waiter.WorkflowID, "", contract.RunEventSignal, e).Get(ctx, nil)
			if err != nil {
				log.Info("the waiting workflow is gone; events dropped", "waiter", waiter.WorkflowID, "error", err)
				metrics.Counter("rpaflow_run_events_unmatched").Inc(int64(1 + len(pending)))
				return true
			}
			metrics.Counter("rpaflow_run_events_matched").Inc(1)
			if e.Terminal {
				return true
			}
		}
		return false
	}
	for {
		expired := false
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(events, func(c workflow.ReceiveChannel, _ bool) {
			var e contract.RunEvent
			c.Receive(ctx, &e)
			take(e)
		})
		sel.AddReceive(waiters, func(c workflow.ReceiveChannel, _ bool) {
			var w contract.RunWaiter
			c.Receive(ctx, &w)
			register(w)
		})
		sel.AddFuture(workflow.NewTimer(timerCtx, max(deadline.Sub(workflow.Now(ctx)), time.Second)), func(f workflow.Future) {
			expired = f.Get(ctx, nil) == nil
		})
		sel.Select(ctx)
		cancelTimer()
		if expired && drain() {
			expired = false
		}
		if waiter != nil && len(pending) > 0 && forward() {
			return nil
		}
		if expired {
			if len(pending) > 0 {
				metrics.Counter("rpaflow_run_events_unmatched").Inc(int64(len(pending)))
			}
			return nil
		}
	}
}

// reconcileJitterVersion: waits from it on reconcile a little before their
// interval (reconcilePeriod), each its own share, on reconcileGrid, and
// count the interval from the start of the read before.
const reconcileJitterVersion = "reconcile-jitter"

// reconcilePeriod is how often a wait keyed key reconciles: between 5 % and
// 20 % earlier than interval, fixed per key. Earlier, so that a lost event
// is found, read included, within interval; spread, so that waits started
// together do not all read when their runs, also started together, end and
// their events' confirming reads need the tenant's budget.
func reconcilePeriod(interval time.Duration, key string) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	share := float64(h.Sum64()>>11) / (1 << 53) // uniform in [0, 1)
	early := interval/20 + time.Duration(share*float64(interval*3/20))
	return (interval - early).Truncate(time.Millisecond)
}

// reconcileGrid moves a reconciliation that is due at t back to the last
// multiple of a sixtieth of interval (of the clock, so the same for every
// wait): waits whose reads fall due about together read together, and
// reads of jobs of one folder waiting together are one call.
func reconcileGrid(t time.Time, interval time.Duration) time.Time {
	return t.Truncate(max(interval/60, time.Millisecond))
}

type (
	eventReadKey struct{}
	gatherKey    struct{}
)

// eventRead tells a reconcileWait check whether its read confirms an event
// (such reads go before routine polls in the tenant's budget).
func eventRead(ctx workflow.Context) bool {
	v, _ := ctx.Value(eventReadKey{}).(bool)
	return v
}

// readGather tells a reconcileWait check how long a routine read may wait
// for others to make one call with (a read that can, such as a job's,
// takes along the reads of its folder waiting with it).
func readGather(ctx workflow.Context) time.Duration {
	v, _ := ctx.Value(gatherKey{}).(time.Duration)
	return v
}

// reconcileWait waits for a run whose end events tell: it registers with
// the run's events workflow, then reads the platform (check) when an event
// comes and every plan.Reconcile otherwise, until a read finds the run
// over. An event is only a hint: a read that still finds the run going
// (the platform's read side may lag its events) is repeated a few times
// soon after. The future resolves with the Check's Result.
//
// The reconcile period is reconcilePeriod of plan.Reconcile, counted from
// the start of the read before: a run whose end event is lost is known at
// most that period, plus one read, after it ended.
//
// follow, if set, tells after each read that did not find the end the id
// the run now goes under (a queue item's retry is a new item, with events
// of its own); the wait registers for it too. A run.ID of "" is not known
// before the first read, which then comes at once.
func reconcileWait[R any](ctx workflow.Context, plan activities.EventPlan, run contract.RunEventsInput, bound time.Duration,
	check func(workflow.Context) workflow.Future, follow func(R) string) workflow.Future {
	if bound <= 0 {
		bound = 24 * time.Hour
	}
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		info := workflow.GetInfo(ctx)
		log := workflow.GetLogger(ctx)
		metrics := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": run.Profile, "subject": run.Subject})
		regCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
			ScheduleToCloseTimeout: 5 * time.Minute,
			RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second}})
		until := workflow.Now(ctx).Add(bound + 10*time.Minute)
		var registered []string
		register := func(id string) {
			r := run
			r.ID = id
			registered = append(registered, id)
			err := workflow.ExecuteActivity(regCtx, ev.RegisterRunWaiter, activities.RegisterWaiterInput{Run: r,
				Waiter: contract.RunWaiter{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
					Until: until}}).Get(ctx, nil)
			if err != nil && ctx.Err() == nil {
				// Reconciliation still finds the end; only sooner is lost.
				log.Warn("registering for the run's events failed; the wait reconciles only", "id", id, "error", err)
			}
		}
		if run.ID != "" {
			register(run.ID)
		}
		signals := workflow.GetSignalChannel(ctx, contract.RunEventSignal)
		// The heartbeat timeout lets a read lost with its worker be retried
		// in seconds, not after the whole start-to-close timeout.
		checkCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			ScheduleToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 10 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
				NonRetryableErrorTypes: contract.NonRetryableTypes(true)}})
		period := plan.Reconcile
		jitter := workflow.GetVersion(ctx, reconcileJitterVersion, workflow.DefaultVersion, 1) >= 1
		if jitter {
			period = reconcilePeriod(plan.Reconcile, info.WorkflowExecution.ID+"\x00"+info.WorkflowExecution.RunID)
		}
		next, rechecks, failures := period, 0, 0
		nextAt := workflow.Now(ctx).Add(next)
		if jitter {
			nextAt = reconcileGrid(nextAt, plan.Reconcile)
		}
		if run.ID == "" {
			nextAt = workflow.Now(ctx)
		}
		var seen []string
		// fresh keeps an event the wait has not seen yet (the events
		// workflow drops duplicates too, but not those sent around it).
		fresh := func(e contract.RunEvent) bool {
			if slices.Contains(seen, e.EventID) {
				return false
			}
			seen = append(seen, e.EventID)
			if len(seen) > maxSeen {
				seen = seen[1:]
			}
			return true
		}
		for {
			var hint *contract.RunEvent
			fired := false
			timerCtx, cancelTimer := workflow.WithCancel(ctx)
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) {
				var e contract.RunEvent
				c.Receive(ctx, &e)
				if fresh(e) {
					hint = &e
				}
			})
			sel.AddFuture(workflow.NewTimer(timerCtx, max(nextAt.Sub(workflow.Now(ctx)), time.Millisecond)), func(workflow.Future) { fired = true })
			sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
			sel.Select(ctx)
			cancelTimer()
			if ctx.Err() != nil {
				set.SetError(temporal.NewCanceledError())
				return
			}
			// Several events at once need one read.
			for {
				var e contract.RunEvent
				if !signals.ReceiveAsync(&e) {
					break
				}
				if fresh(e) && (hint == nil || e.Terminal) {
					hint = &e
				}
			}
			if hint == nil && !fired {
				continue
			}
			reason := "reconcile"
			if hint != nil {
				reason = "event"
			} else if rechecks > 0 {
				reason = "recheck"
			}
			metrics.WithTags(map[string]string{"reason": reason}).Counter("rpaflow_run_reads").Inc(1)
			readStart := workflow.Now(ctx)
			var c activities.Check[R]
			cctx := workflow.WithValue(checkCtx, eventReadKey{}, hint != nil)
			if jitter && hint == nil && rechecks == 0 {
				// Reads on the grid come together: wait a little for them.
				cctx = workflow.WithValue(cctx, gatherKey{}, min(plan.Reconcile/60, 2*time.Second))
			}
			if err := check(cctx).Get(ctx, &c); err != nil {
				if ctx.Err() != nil {
					set.SetError(temporal.NewCanceledError())
					return
				}
				failures++
				if contract.TypeOf(err).Permanent() || failures > 5 {
					set.SetError(err)
					return
				}
				log.Warn("reading the run failed; trying again at the next reconciliation", "error", err, "failures", failures)
				nextAt = workflow.Now(ctx).Add(min(period, time.Minute))
				continue
			}
			failures = 0
			if c.Done {
				if !c.End.IsZero() {
					via := "reconcile"
					if hint != nil {
						via = "event"
					}
					metrics.WithTags(map[string]string{"via": via}).Timer("rpaflow_run_end_to_known").Record(max(workflow.Now(ctx).Sub(c.End), 0))
				}
				set.Set(c.Result, nil)
				return
			}
			moved := false
			if follow != nil {
				if id := follow(c.Result); id != "" && !slices.Contains(registered, id) {
					register(id)
					moved = true
				}
			}
			switch {
			case moved:
				// A new run: what was said of the one before does not hold.
				rechecks = 0
				next = period
			case hint != nil && hint.Terminal:
				rechecks = 1
				next = 2 * time.Second
			case rechecks > 0 && rechecks < 4:
				rechecks++
				next *= 3
			default:
				rechecks = 0
				next = period
			}
			nextAt = workflow.Now(ctx).Add(next)
			if jitter && rechecks == 0 {
				// The read's own time (a wait for the budget included)
				// does not push the next one back.
				nextAt = reconcileGrid(readStart.Add(next), plan.Reconcile)
			}
		}
	})
	return f
}
