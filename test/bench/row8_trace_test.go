package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
)

// handoffs reads where row 8's time went from the histories: how fast the
// burst reached the pool, and each step between a run's end and the start
// of the run that got its slot. Every figure is a p50 in milliseconds over
// the burst's requests (events before since are left out).
type handoffs struct {
	intakeP50, intakeAll  float64 // burst start → acquire signal accepted (half, all)
	firstQueue, firstTask float64 // a deployment's first workflow task (it sends the acquire): scheduled → started, started → completed
	// by priority (1 and 3): the first workflow task queued, the intake to the pool
	firstQueueP1, firstQueueP3, intakeP1, intakeP3 float64
	// a request's wait by priority (1, 3), p50 of each part: submitted → at
	// the pool, → grant sent, → platform run
	waitParts           [2][3]float64
	poolQueue, poolTask float64 // a pool workflow task: scheduled → started, started → completed
	activityEnd         float64 // platform run ended → execute activity completed
	toPool              float64 // platform run ended → release at the pool
	byActivity, byRun   int     // releases sent by the execute activity, by the deployment's workflow task
	releaseTask         float64 // (by the workflow) execute completed → release sent (deployment workflow task)
	releaseHop          float64 // (by the workflow) release sent → release at the pool
	poolGrant           float64 // release at the pool → grant sent (pool workflow task)
	grantHop            float64 // grant sent → grant at the deployment
	grantTask           float64 // grant at the deployment → execute scheduled (deployment workflow task)
	grantQueue          float64 // of which: grant at the deployment → its workflow task started
	dispatch            float64 // execute scheduled → started (activity task dispatch)
	preCall             float64 // execute started → platform run started
	// gap: a run's end → the start of the run granted its slot (p50, p90,
	// mean); utilisation is about run / (run + mean gap).
	gapP50, gapP90, gapMean float64
}

func (h handoffs) String() string {
	byRun := ""
	if h.byRun > 0 {
		byRun = fmt.Sprintf(" (those by the workflow: execute completed → release sent %.0f, → at the pool %.0f)", h.releaseTask, h.releaseHop)
	}
	return fmt.Sprintf("intake to the pool p50 %.0f ms, all %.0f ms (p50 priority 1 %.0f ms, 3 %.0f ms); "+
		"a deployment's first workflow task queued %.0f ms (priority 1 %.0f ms, 3 %.0f ms), ran %.0f ms; "+
		"pool workflow task queued %.0f ms, ran %.0f ms; releases sent by the execute activity %d, by the deployment's workflow task %d%s; "+
		"a slot's handoff (p50 ms): run end → activity completed %.0f; run end → release at the pool %.0f, → grant sent %.0f, "+
		"→ at the holder %.0f, → execute scheduled %.0f (its workflow task queued %.0f), → started %.0f, → platform run %.0f; in all p50 %.0f ms, p90 %.0f ms, mean %.0f ms",
		h.intakeP50, h.intakeAll, h.intakeP1, h.intakeP3, h.firstQueue, h.firstQueueP1, h.firstQueueP3, h.firstTask, h.poolQueue, h.poolTask, h.byActivity, h.byRun, byRun, h.activityEnd, h.toPool, h.poolGrant,
		h.grantHop, h.grantTask, h.grantQueue, h.dispatch, h.preCall, h.gapP50, h.gapP90, h.gapMean) +
		fmt.Sprintf("; a request's wait (p50 ms), priority 1: submitted → at the pool %.0f, → granted %.0f, → platform run %.0f; priority 3: %.0f, %.0f, %.0f",
			h.waitParts[0][0], h.waitParts[0][1], h.waitParts[0][2], h.waitParts[1][0], h.waitParts[1][1], h.waitParts[1][2])
}

func eventsOf(ctx context.Context, c client.Client, id, run string) ([]*historypb.HistoryEvent, error) {
	var evs []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// poolHistory is every run of the pool, oldest first.
func poolHistory(ctx context.Context, c client.Client, id string) ([]*historypb.HistoryEvent, error) {
	var all []*historypb.HistoryEvent
	run := ""
	for range 100 {
		evs, err := eventsOf(ctx, c, id, run)
		if err != nil {
			return nil, err
		}
		all = append(evs, all...)
		run = evs[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if run == "" {
			break
		}
	}
	return all, nil
}

func at(e *historypb.HistoryEvent) time.Time { return e.GetEventTime().AsTime() }

func p50ms(ds []time.Duration) float64 { return Percentile(Millis(ds), 50) }

// traceHandoffs: started is when each request's platform run began.
func traceHandoffs(ctx context.Context, c client.Client, dc converter.DataConverter, poolID string, since time.Time, ids []string,
	started, submitted map[string]time.Time, prio map[string]int, run time.Duration) (handoffs, error) {
	var h handoffs
	pevs, err := poolHistory(ctx, c, poolID)
	if err != nil {
		return h, err
	}
	var queue, task, toGrant []time.Duration
	grantSent := map[string]time.Time{}
	releaseAt := map[string]time.Time{}
	var scheduled, startedAt time.Time
	type release struct {
		at time.Time
		by string
	}
	var releases []release // releases not yet followed by a grant
	var gaps []time.Duration
	for _, e := range pevs {
		t := at(e)
		if t.Before(since) {
			continue
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			scheduled = t
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			startedAt = t
			if !scheduled.IsZero() {
				queue = append(queue, t.Sub(scheduled))
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if !startedAt.IsZero() {
				task = append(task, t.Sub(startedAt))
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a := e.GetWorkflowExecutionSignaledEventAttributes()
			switch a.GetSignalName() {
			case contract.SignalPoolRelease:
				// From a deployment's workflow task, or (no sender) from its
				// execute activity: then the payload names the holder.
				w := a.GetExternalWorkflowExecution().GetWorkflowId()
				if w == "" {
					var r contract.PoolRelease
					if err := dc.FromPayloads(a.GetInput(), &r); err != nil {
						return h, fmt.Errorf("decoding a release signal: %w", err)
					}
					w = r.Holder.WorkflowID
					h.byActivity++
				} else {
					h.byRun++
				}
				if w != "" {
					releaseAt[w] = t
				}
				releases = append(releases, release{t, w})
			}
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			a := e.GetSignalExternalWorkflowExecutionInitiatedEventAttributes()
			if a.GetSignalName() == contract.SignalPoolGrant {
				to := a.GetWorkflowExecution().GetWorkflowId()
				grantSent[to] = t
				if len(releases) > 0 {
					r := releases[0]
					toGrant = append(toGrant, t.Sub(r.at))
					releases = releases[1:]
					if end, ok := started[r.by]; ok && !started[to].IsZero() {
						gaps = append(gaps, started[to].Sub(end.Add(run)))
					}
				}
			}
		}
	}
	var firstQueue, firstTask []time.Duration
	var intake []time.Duration
	firstQueueBy, intakeBy := map[int][]time.Duration{}, map[int][]time.Duration{}
	parts := map[int]*[3][]time.Duration{1: {}, 3: {}}
	var grantQueue []time.Duration
	var actEnd, toPool, relTask, relHop, grantHop, grantTask, dispatch, preCall []time.Duration
	for _, id := range ids {
		evs, err := eventsOf(ctx, c, id, "")
		if err != nil {
			return h, err
		}
		var grantAt, grantStart, execSched, execStart, execDone, wftSched, wftStart, atPool time.Time
		acquired := false
		for _, e := range evs {
			t := at(e)
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				// The acquire's local activity: its signal was accepted.
				if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" && !acquired {
					acquired = true
					intake = append(intake, t.Sub(since))
					intakeBy[prio[id]] = append(intakeBy[prio[id]], t.Sub(since))
					atPool = t
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
				if wftSched.IsZero() {
					wftSched = t
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				if !grantAt.IsZero() && grantStart.IsZero() {
					grantStart = t
				}
				if wftStart.IsZero() {
					wftStart = t
					firstQueue = append(firstQueue, t.Sub(wftSched))
					firstQueueBy[prio[id]] = append(firstQueueBy[prio[id]], t.Sub(wftSched))
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				if len(firstTask) < len(firstQueue) {
					firstTask = append(firstTask, t.Sub(wftStart))
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
				if e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == contract.SignalPoolGrant {
					grantAt = t
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				if strings.HasSuffix(e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(), "ExecuteAPITask") {
					execSched = t
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if !execSched.IsZero() {
					execStart = t
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				if !execStart.IsZero() {
					execDone = t
				}
			case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
				if e.GetSignalExternalWorkflowExecutionInitiatedEventAttributes().GetSignalName() == contract.SignalPoolRelease && !execDone.IsZero() {
					relTask = append(relTask, t.Sub(execDone))
					if r, ok := releaseAt[id]; ok {
						relHop = append(relHop, r.Sub(t))
					}
				}
			}
		}
		if pp, ok := parts[prio[id]]; ok && !atPool.IsZero() && !grantSent[id].IsZero() && !started[id].IsZero() {
			pp[0] = append(pp[0], atPool.Sub(submitted[id]))
			pp[1] = append(pp[1], grantSent[id].Sub(atPool))
			pp[2] = append(pp[2], started[id].Sub(grantSent[id]))
		}
		if g, ok := grantSent[id]; ok && !grantAt.IsZero() {
			grantHop = append(grantHop, grantAt.Sub(g))
			grantTask = append(grantTask, execSched.Sub(grantAt))
			if !grantStart.IsZero() {
				grantQueue = append(grantQueue, grantStart.Sub(grantAt))
			}
		}
		if !execStart.IsZero() {
			dispatch = append(dispatch, execStart.Sub(execSched))
			if s, ok := started[id]; ok {
				preCall = append(preCall, s.Sub(execStart))
				actEnd = append(actEnd, execDone.Sub(s.Add(run)))
				if r, ok := releaseAt[id]; ok {
					toPool = append(toPool, r.Sub(s.Add(run)))
				}
			}
		}
	}
	var sum time.Duration
	for _, g := range gaps {
		sum += g
	}
	if len(gaps) > 0 {
		h.gapMean = float64(sum/time.Duration(len(gaps))) / float64(time.Millisecond)
	}
	h.gapP50, h.gapP90 = p50ms(gaps), Percentile(Millis(gaps), 90)
	var waitParts [2][3]float64
	for i, p := range []int{1, 3} {
		for j := range 3 {
			waitParts[i][j] = p50ms(parts[p][j])
		}
	}
	h = handoffs{waitParts: waitParts, grantQueue: p50ms(grantQueue), firstQueueP1: p50ms(firstQueueBy[1]), firstQueueP3: p50ms(firstQueueBy[3]), intakeP1: p50ms(intakeBy[1]), intakeP3: p50ms(intakeBy[3]),
		byActivity: h.byActivity, byRun: h.byRun, toPool: p50ms(toPool), gapP50: h.gapP50, gapP90: h.gapP90, gapMean: h.gapMean, intakeP50: p50ms(intake), intakeAll: Percentile(Millis(intake), 100), firstQueue: p50ms(firstQueue), firstTask: p50ms(firstTask), poolQueue: p50ms(queue), poolTask: p50ms(task),
		activityEnd: p50ms(actEnd), releaseTask: p50ms(relTask), releaseHop: p50ms(relHop), poolGrant: p50ms(toGrant),
		grantHop: p50ms(grantHop), grantTask: p50ms(grantTask), dispatch: p50ms(dispatch), preCall: p50ms(preCall)}
	return h, nil
}
