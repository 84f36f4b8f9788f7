package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// stopRunsVersion gates stopping runs on cancellation and timeout: runs
// that began before it keep waiting the old way when replayed.
const stopRunsVersion = "stop-runs-on-cancel"

// runLimits are a run's wait bound and stop grace. When the workflow has
// its own execution or run timeout, the wait ends early enough for the
// stop to fit before Temporal ends the workflow (and could no longer stop
// anything).
type runLimits struct {
	wait, grace time.Duration
	stopBudget  time.Duration // the stop activity's schedule-to-close bound
	windDown    time.Duration // how long the cancelled wait is given to end after the stop
}

func limitsOf(ctx workflow.Context, timeout, grace contract.Duration) runLimits {
	l := runLimits{wait: contract.WaitBound(timeout), grace: grace.D()}
	if l.grace <= 0 {
		l.grace = contract.DefaultStopGrace
	}
	l.stopBudget = l.grace + killGraceBudget + 10*time.Minute
	l.windDown = time.Minute
	info := workflow.GetInfo(ctx)
	elapsed := workflow.Now(ctx).Sub(info.WorkflowStartTime)
	var left time.Duration
	for _, t := range []time.Duration{info.WorkflowExecutionTimeout, info.WorkflowRunTimeout} {
		if t > 0 && (left == 0 || t-elapsed < left) {
			left = t - elapsed
		}
	}
	if left > 0 {
		reserve := min(l.grace+killGraceBudget+30*time.Second, left/2)
		l.wait = max(min(l.wait, left-reserve), time.Second)
		if reserve < l.grace+killGraceBudget+30*time.Second {
			l.grace = max(reserve/3, time.Second)
		}
		l.stopBudget = reserve - time.Second
		l.windDown = min(l.windDown, reserve/8)
	}
	return l
}

// killGraceBudget covers a killed job's last watch (activities.killGrace).
const killGraceBudget = time.Minute

// watch waits for the run's wait (started by start under a context this
// function can cancel), the wait bound, or the workflow's cancellation.
// reason is "" when the wait ended by itself, else StopCancelled or
// StopTimedOut; the wait has then been asked to stop.
func watch(ctx workflow.Context, bound time.Duration, start func(workflow.Context) workflow.Future) (workflow.Future, string) {
	waitCtx, cancelWait := workflow.WithCancel(ctx)
	f := start(waitCtx)
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timedOut := false
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(f, func(workflow.Future) {})
	sel.AddFuture(workflow.NewTimer(timerCtx, bound), func(t workflow.Future) { timedOut = t.Get(ctx, nil) == nil })
	sel.AddReceive(ctx.Done(), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.Select(ctx)
	if f.IsReady() {
		if err := f.Get(ctx, nil); err == nil || !temporal.IsCanceledError(err) {
			return f, "" // the run ended first: its outcome stands
		}
	}
	cancelWait()
	if ctx.Err() != nil {
		return f, contract.StopCancelled
	}
	if timedOut {
		return f, contract.StopTimedOut
	}
	return f, ""
}

// supervise waits for a started run. Runs of the shape before stops
// existed just wait (for timeout). Otherwise the wait is watched until the
// run ends, the workflow is cancelled or the timeout passes; in the last two
// cases the run is stopped on the platform and the outcome of the stop is
// returned instead of a future.
func supervise(ctx workflow.Context, stopping bool, timeout time.Duration, l runLimits,
	wait func(ctx workflow.Context, scheduleToClose time.Duration) workflow.Future,
	stop func(wait workflow.Future, reason string) contract.RunStop) (workflow.Future, *contract.RunStop) {
	if !stopping {
		return wait(ctx, timeout), nil
	}
	reason := contract.StopCancelled
	var f workflow.Future
	if ctx.Err() == nil {
		f, reason = watch(ctx, l.wait, func(c workflow.Context) workflow.Future { return wait(c, l.wait+10*time.Minute) })
	}
	if reason == "" {
		return f, nil
	}
	st := stop(f, reason)
	return nil, &st
}

// stopRun runs the stop activity in a context the cancellation does not
// reach, retried (stopping is idempotent), then gives the cancelled wait
// a little time (a minute, less under a workflow timeout) to wind down so
// nothing polls after the workflow ends.
func stopRun(ctx workflow.Context, l runLimits, wait workflow.Future, reason, runID string, activity, in any) contract.RunStop {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	actx := workflow.WithActivityOptions(dctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: l.stopBudget,
		StartToCloseTimeout:    l.grace + killGraceBudget + 2*time.Minute,
		HeartbeatTimeout:       20 * time.Second, // a crashed worker's stop moves on quickly
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 20 * time.Second, NonRetryableErrorTypes: contract.NonRetryableTypes(true)},
	})
	var out contract.RunStop
	if err := workflow.ExecuteActivity(actx, activity, in).Get(dctx, &out); err != nil {
		out = contract.RunStop{Reason: reason, RunID: runID, Message: "stopping the run failed; it may still be running: " + err.Error()}
	}
	workflow.GetLogger(ctx).Info("run stopped", "reason", out.Reason, "runId", out.RunID, "finalStatus", out.FinalStatus, "terminal", out.Terminal)
	if wait != nil && !wait.IsReady() {
		sel := workflow.NewSelector(dctx)
		sel.AddFuture(wait, func(workflow.Future) {})
		sel.AddFuture(workflow.NewTimer(dctx, l.windDown), func(workflow.Future) {})
		sel.Select(dctx)
	}
	return out
}

// stoppedError ends the workflow as cancelled, or failed with TimedOut,
// with what the platform said in the failure's details.
func stoppedError(what string, bound time.Duration, s contract.RunStop) error {
	if s.Reason == contract.StopCancelled {
		return temporal.NewCanceledError(s)
	}
	msg := fmt.Sprintf("%s did not end within %s; stopped at the platform: %s", what, bound.Round(time.Second), describeStop(s))
	return contract.NewTimedOut(msg, s)
}

func describeStop(s contract.RunStop) string {
	switch {
	case s.RunID == "":
		return "no run was created"
	case s.AlreadyFinished:
		return "it had already ended " + s.FinalStatus
	case s.Terminal:
		return "it ended " + s.FinalStatus
	case s.FinalStatus != "":
		return "still " + s.FinalStatus + " (" + s.Message + ")"
	}
	return s.Message
}
