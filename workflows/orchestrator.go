package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// StartJob resolves folder and release, starts the job (once unless
// idempotent) and waits for Successful, Faulted or Stopped.
func StartJob(ctx workflow.Context, in contract.StartJobInput) (contract.StartJobResult, error) {
	return noPools.StartJob(ctx, in)
}

// StartJob is StartJob drawing a slot of the folder's pool, when the
// profile has one, from the start until the job is over (or its stop is
// confirmed).
func (d *Deployments) StartJob(ctx workflow.Context, in contract.StartJobInput) (_ contract.StartJobResult, err error) {
	defer observeDeployment(ctx, contract.StartJobWorkflow, in.Profile, workflow.Now(ctx))(&err)
	if err := in.Validate(); err != nil {
		return contract.StartJobResult{}, err
	}
	stopping := workflow.GetVersion(ctx, stopRunsVersion, workflow.DefaultVersion, 1) >= 1
	l, err := d.admit(ctx, admitRequest{workflowType: contract.StartJobWorkflow, profile: in.Profile, admission: in.Admission,
		folder: in.Folder, slots: 1})
	if err != nil {
		return contract.StartJobResult{}, err
	}
	defer l.Release(ctx)
	startCtx := ctx
	if stopping {
		// A cancel while the start is in flight must not lose its answer:
		// the job it created has to be stopped.
		startCtx, _ = workflow.NewDisconnectedContext(ctx)
	}
	startCtx = workflow.WithActivityOptions(startCtx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         l.retryPolicy(retryPolicy(in.Idempotent, 8)),
		Priority:            in.Admission.TaskPriority(),
	})
	var ref activities.JobRef
	for {
		err = workflow.ExecuteActivity(startCtx, orch.OrchStartJob, in).Get(startCtx, &ref)
		if !l.refused(ctx, err) {
			break
		}
		if err = l.requeue(ctx, err); err != nil {
			return contract.StartJobResult{}, err
		}
	}
	// Measured after the start, so a workflow timeout also counts its time.
	limits := limitsOf(ctx, in.Timeout, in.StopGrace)
	if err != nil {
		if stopping && ctx.Err() != nil {
			return contract.StartJobResult{}, cancelledWhileStarting(ctx, in, limits, err)
		}
		return contract.StartJobResult{}, err
	}
	workflow.GetLogger(ctx).Info("job started", "jobId", ref.ID, "jobKey", ref.Key, "adopted", ref.Adopted)
	waitIn := activities.WaitJobInput{Profile: in.Profile, Job: ref}
	wait, stop := supervise(ctx, stopping, in.Timeout.D(), limits,
		func(c workflow.Context, d time.Duration) workflow.Future {
			if ref.Events != nil {
				run := contract.RunEventsInput{Profile: in.Profile, Subject: contract.SubjectJob, ID: strconv.FormatInt(ref.ID, 10)}
				return reconcileWait[contract.StartJobResult](c, *ref.Events, run, d, func(c workflow.Context) workflow.Future {
					in := waitIn
					in.Event = eventRead(c)
					return l.watchCheck(c, workflow.ExecuteActivity(c, orch.OrchCheckJob, in))
				}, nil)
			}
			return l.waitPastPending(c, func(reportPending bool) workflow.Future {
				w := waitIn
				w.ReportNoCapacity = reportPending
				return workflow.ExecuteActivity(waitOptions(c, d), orch.OrchWaitJob, w)
			})
		},
		func(wait workflow.Future, reason string) contract.RunStop {
			return stopRun(ctx, limits, wait, reason, strconv.FormatInt(ref.ID, 10), orch.OrchStopJob, activities.StopJobInput{Profile: in.Profile,
				Job: ref, Reason: reason, Grace: limits.grace})
		})
	if stop != nil {
		return contract.StartJobResult{ID: ref.ID, Key: ref.Key, State: stop.FinalStatus, Adopted: ref.Adopted}, stoppedError(fmt.Sprintf("job %d", ref.ID), limits.wait, *stop)
	}
	var res contract.StartJobResult
	if err := wait.Get(ctx, &res); err != nil {
		return contract.StartJobResult{ID: ref.ID, Key: ref.Key, Adopted: ref.Adopted}, err
	}
	res.Adopted = ref.Adopted
	if res.State != contract.JobSuccessful {
		return res, contract.NewRunFailed(fmt.Sprintf("job %d ended %s: %s", res.ID, res.State, res.Info), res)
	}
	return res, nil
}

// AddQueueItem adds a queue item. Every item carries a reference (the
// caller's, or one derived from the workflow): a retry after a lost answer
// looks it up and adopts the item an earlier attempt added. With the
// caller's reference an unknown outcome is retried too (a repeat on a
// unique-reference queue is answered 409 and reported as duplicate);
// without, it is not. With wait, the item is watched until its transaction
// ends (a duplicate reference watches the existing item).
func AddQueueItem(ctx workflow.Context, in contract.AddQueueItemInput) (contract.AddQueueItemResult, error) {
	if err := in.Validate(); err != nil {
		return contract.AddQueueItemResult{}, err
	}
	addCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retryPolicy(in.Reference != "", 8),
	})
	var ref activities.QueueItemRef
	if err := workflow.ExecuteActivity(addCtx, orch.OrchAddQueueItem, in).Get(ctx, &ref); err != nil || !in.Wait {
		return ref.AddQueueItemResult, err
	}
	res := ref.AddQueueItemResult
	bound := contract.WaitBound(in.Timeout)
	waitIn := activities.WaitQueueItemInput{Profile: in.Profile, Folder: in.Folder, ID: res.ID, Reference: cmp.Or(res.Reference, in.Reference)}
	wait, reason := watch(ctx, bound, func(c workflow.Context) workflow.Future {
		if ref.Events != nil {
			return reconcileWait[contract.QueueItemFailure](c, *ref.Events, queueItemRun(in.Profile, res.ID), bound,
				func(c workflow.Context) workflow.Future {
					return workflow.ExecuteActivity(c, orch.OrchCheckQueueItem, waitIn)
				},
				func(r contract.QueueItemFailure) string {
					// A duplicate's item is known from the first read; a
					// retried item's end comes from its last retry.
					if waitIn.ID == 0 {
						waitIn.ID = r.ID
					}
					waitIn.Last = r.FinalID
					return queueItemRun(in.Profile, cmp.Or(r.FinalID, r.ID)).ID
				})
		}
		return workflow.ExecuteActivity(waitOptions(c, bound+10*time.Minute), orch.OrchWaitQueueItem, waitIn)
	})
	switch reason {
	case contract.StopCancelled:
		return res, temporal.NewCanceledError(res)
	case contract.StopTimedOut:
		return res, contract.NewTimedOut(fmt.Sprintf("queue item %d did not end within %s (it stays in the queue); last status %s", res.ID, bound, res.Status), res)
	}
	var fin contract.QueueItemFailure
	if err := wait.Get(ctx, &fin); err != nil {
		return res, err
	}
	out := fin.AddQueueItemResult
	out.Adopted = res.Adopted
	out.Duplicate = out.Duplicate || res.Duplicate
	if out.Status == contract.QueueItemSuccessful {
		return out, nil
	}
	msg := fmt.Sprintf("queue item %d ended %s", out.ID, out.Status)
	if out.FinalID != 0 {
		msg += fmt.Sprintf(" (its last retry, item %d)", out.FinalID)
	}
	if fin.Reason != "" {
		msg += fmt.Sprintf(": %s: %s", cmp.Or(fin.Type, "exception"), fin.Reason)
	}
	return out, contract.NewRunFailed(msg, fin)
}

// queueItemRun names the events of queue item id (0: not known yet).
func queueItemRun(profile string, id int64) contract.RunEventsInput {
	r := contract.RunEventsInput{Profile: profile, Subject: contract.SubjectQueueItem}
	if id != 0 {
		r.ID = strconv.FormatInt(id, 10)
	}
	return r
}

// cancelledWhileStarting ends a StartJob cancelled while its start failed.
// When the outcome is unknown, the jobs started under the job's reference
// (the caller's, or the one derived from the start activity) are looked up
// and stopped.
func cancelledWhileStarting(ctx workflow.Context, in contract.StartJobInput, l runLimits, startErr error) error {
	s := contract.RunStop{Reason: contract.StopCancelled, Message: "cancelled while starting, and the start failed: " + startErr.Error()}
	var actErr *temporal.ActivityError
	if !contract.IsType(startErr, contract.ErrAmbiguous) || (in.Reference == "" && !errors.As(startErr, &actErr)) {
		return temporal.NewCanceledError(s)
	}
	if in.Reference == "" {
		info := workflow.GetInfo(ctx)
		in.Reference = activities.JobReference(in, contract.StartKey{WorkflowID: info.WorkflowExecution.ID,
			RunID: info.WorkflowExecution.RunID, ActivityID: actErr.ActivityID()})
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: retryPolicy(true, 5)})
	var found []activities.JobRef
	if err := workflow.ExecuteActivity(dctx, orch.OrchFindJobs, activities.FindJobsInput{Profile: in.Profile,
		Folder: in.Folder, Reference: in.Reference}).Get(dctx, &found); err != nil {
		s.Message += "; looking the job up by its reference failed: " + err.Error()
		return temporal.NewCanceledError(s)
	}
	if len(found) == 0 {
		s.Message += "; no job with reference " + in.Reference + " was created"
		return temporal.NewCanceledError(s)
	}
	// Stop the newest: a reference names one start of this workflow.
	s = stopRun(ctx, l, nil, contract.StopCancelled, strconv.FormatInt(found[0].ID, 10), orch.OrchStopJob, activities.StopJobInput{Profile: in.Profile, Job: found[0],
		Reason: contract.StopCancelled, Grace: l.grace})
	s.Message = strings.TrimSpace("found by reference " + in.Reference + " after the start's answer was lost. " + s.Message)
	return temporal.NewCanceledError(s)
}

// A pooled job that Orchestrator leaves Pending for lack of a robot is
// its capacity answer: the pool learns of it once and shrinks, while the
// job (already created) keeps its slot and is waited for as any job; it is
// never started again.

// waitPastPending runs the job's wait so that it ends early the first time
// the job waits Pending for capacity, tells the pool, and waits on.
func (l *lease) waitPastPending(ctx workflow.Context, wait func(reportPending bool) workflow.Future) workflow.Future {
	if l == nil || l.pending {
		return wait(false)
	}
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var res contract.StartJobResult
		err := wait(true).Get(ctx, &res)
		if err == nil && res.State == "Pending" { // the only state the wait ends in early
			l.platformPending(ctx, res.Info)
			res = contract.StartJobResult{}
			err = wait(false).Get(ctx, &res)
		}
		set.Set(res, err)
	})
	return f
}

// watchCheck passes a reconciliation's read on, telling the pool the first
// time it finds the job Pending for capacity.
func (l *lease) watchCheck(ctx workflow.Context, check workflow.Future) workflow.Future {
	if l == nil || l.pending {
		return check
	}
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var c activities.Check[contract.StartJobResult]
		err := check.Get(ctx, &c)
		if err == nil && c.NoCapacity != "" {
			l.platformPending(ctx, c.NoCapacity)
		}
		set.Set(c, err)
	})
	return f
}
