package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// Bounds of a RunEventsIntake workflow.
const (
	// intakeIdle is how long it waits for more batches before it ends (the
	// next batch starts it again).
	intakeIdle = time.Minute
	// intakeCANAfter is how many events a run takes in before continue-as-new.
	intakeCANAfter = 2000
	// intakeAttempts bounds the forwarding of one event that keeps failing;
	// its run's wait still learns the end at its next reconciliation.
	intakeAttempts = 8
	// intakeChunk bounds the events one local activity forwards.
	intakeChunk = 200
)

// RunEventsIntake takes in the batches of events a receiver got together
// for one profile and forwards each event to its run's RunEvents workflow:
// a burst of events reaches Temporal in a few calls, each one answered as
// soon as its batch is in this workflow's history. Batches that come while
// it forwards go out together next. It ends when idle.
func RunEventsIntake(ctx workflow.Context, in contract.RunEventsIntakeInput) error {
	batches := workflow.GetSignalChannel(ctx, contract.RunEventsBatchSignal)
	log := workflow.GetLogger(ctx)
	metrics := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": in.Profile})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	var todo []contract.RoutedRunEvent
	attempts := map[string]int{} // by event id and run; read by key only
	taken := 0
	drain := func() {
		for {
			var b []contract.RoutedRunEvent
			if !batches.ReceiveAsync(&b) {
				return
			}
			todo = append(todo, b...)
			taken += len(b)
		}
	}
	backoff := time.Duration(0)
	for {
		if len(todo) == 0 {
			if taken >= intakeCANAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				drain()
				if len(todo) == 0 {
					return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, in)
				}
				continue
			}
			idle := false
			timerCtx, cancel := workflow.WithCancel(ctx)
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(batches, func(workflow.ReceiveChannel, bool) {})
			sel.AddFuture(workflow.NewTimer(timerCtx, intakeIdle), func(workflow.Future) { idle = true })
			sel.Select(ctx)
			cancel()
			drain()
			if idle && len(todo) == 0 {
				return nil
			}
			continue
		}
		if backoff > 0 {
			if err := workflow.Sleep(ctx, backoff); err != nil {
				return err
			}
		}
		drain()
		chunk := todo[:min(len(todo), intakeChunk)]
		var res activities.ForwardRunEventsResult
		err := workflow.ExecuteLocalActivity(lctx, ev.ForwardRunEvents, activities.ForwardRunEventsInput{Profile: in.Profile, Runs: chunk}).Get(ctx, &res)
		if err != nil {
			res.Failed = chunk
		}
		todo = slices.Clone(todo[len(chunk):])
		for _, r := range res.Failed {
			k := r.Subject + "\x00" + r.ID + "\x00" + r.Event.EventID
			attempts[k]++
			if attempts[k] >= intakeAttempts {
				log.Warn("an event could not be forwarded to its run; the wait reconciles", "subject", r.Subject, "id", r.ID)
				metrics.WithTags(map[string]string{"subject": r.Subject}).Counter("rpaflow_run_events_unmatched").Inc(1)
				delete(attempts, k)
				continue
			}
			todo = append(todo, r)
		}
		if len(res.Failed) == 0 {
			backoff = 0
			clear(attempts)
		} else {
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
		}
	}
}
