package workflows

import (
	"cmp"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// itemScript is a queue item (and its retries) that a mocked
// OrchCheckQueueItem reads: item i of ends ends at ends[i] (workflow time)
// with statuses[i]; every item but the last is Retried into the next.
type itemScript struct {
	ids      []int64
	ends     []time.Duration
	statuses []string
	reads    []time.Duration
	inputs   []activities.WaitQueueItemInput
	regs     []string // ids registered for events
}

func (s *itemScript) run(t *testing.T, add contract.AddQueueItemResult, register time.Duration,
	events map[time.Duration]contract.RunEvent) (contract.AddQueueItemResult, error, time.Duration) {
	t.Helper()
	env := newEnv(t)
	env.OnActivity(orch.OrchAddQueueItem, mock.Anything, mock.Anything).Return(activities.QueueItemRef{AddQueueItemResult: add,
		Events: &activities.EventPlan{Reconcile: 10 * time.Minute}}, nil).Once()
	env.OnActivity(orch.OrchWaitQueueItem, mock.Anything, mock.Anything).Return(contract.QueueItemFailure{}, nil).Never()
	env.OnActivity(ev.RegisterRunWaiter, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RegisterWaiterInput) error {
		if in.Run.Profile != "orch" || in.Run.Subject != contract.SubjectQueueItem || in.Waiter.WorkflowID == "" {
			t.Errorf("registration %+v", in)
		}
		s.regs = append(s.regs, in.Run.ID)
		return nil
	}).After(register)
	env.OnActivity(orch.OrchCheckQueueItem, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WaitQueueItemInput) (activities.Check[contract.QueueItemFailure], error) {
			at := env.Now().Sub(t0)
			s.reads = append(s.reads, at)
			s.inputs = append(s.inputs, in)
			// Mirror the activity: start from the last retry known and
			// follow retries that have ended.
			i := 0
			for k, id := range s.ids {
				if id == in.Last || (in.Last == 0 && id == in.ID) || (in.ID == 0 && k == 0) {
					i = k
				}
			}
			for i < len(s.ids)-1 && at >= s.ends[i] {
				i++
			}
			r := contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: cmp.Or(in.ID, s.ids[0]), Status: "InProgress"}}
			if s.ids[i] != r.ID {
				r.FinalID = s.ids[i]
			}
			if at < s.ends[i] {
				return activities.Check[contract.QueueItemFailure]{State: "InProgress", Result: r}, nil
			}
			r.Status = s.statuses[i]
			r.Output = map[string]any{"orderStatus": "processed"}
			return activities.Check[contract.QueueItemFailure]{Done: true, State: r.Status, End: t0.Add(s.ends[i]), Result: r}, nil
		})
	for at, e := range events {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.RunEventSignal, e) }, at)
	}
	env.ExecuteWorkflow(AddQueueItem, queueIn())
	var res contract.AddQueueItemResult
	err := env.GetWorkflowError()
	if err == nil {
		err = env.GetWorkflowResult(&res)
	}
	return res, err, env.Now().Sub(t0)
}

func itemEvent(eventID string, id int64, status string, terminal bool) contract.RunEvent {
	return contract.RunEvent{EventID: eventID, Type: "queueItem.transactionCompleted", State: status, RunID: strconv.FormatInt(id, 10), Terminal: terminal}
}

// With events on, the item's webhook ends the wait with one read, however
// long the reconcile interval.
func TestAddQueueItem_EventEndsWait(t *testing.T) {
	s := &itemScript{ids: []int64{5}, ends: []time.Duration{3 * time.Minute}, statuses: []string{"Successful"}}
	res, err, took := s.run(t, contract.AddQueueItemResult{ID: 5, Status: "New", Reference: "PO-1"}, 0,
		map[time.Duration]contract.RunEvent{3*time.Minute + time.Second: itemEvent("e1", 5, "Successful", true)})
	if err != nil || res.Status != "Successful" || res.Output["orderStatus"] != "processed" {
		t.Fatalf("result %+v, %v", res, err)
	}
	if took != 3*time.Minute+time.Second || len(s.reads) != 1 || len(s.regs) != 1 || s.regs[0] != "5" {
		t.Fatalf("took %s with reads at %v, registered %v; want one read at 3m1s, registered for 5", took, s.reads, s.regs)
	}
}

// A lost webhook costs one reconcile period and no read before it.
func TestAddQueueItem_LostEventReconciled(t *testing.T) {
	s := &itemScript{ids: []int64{5}, ends: []time.Duration{3 * time.Minute}, statuses: []string{"Failed"}}
	_, err, took := s.run(t, contract.AddQueueItemResult{ID: 5, Status: "New", Reference: "PO-1"}, 0, nil)
	requireAppErr(t, err, contract.ErrRunFailed, true, "queue item 5 ended Failed")
	if want := testReads(1)[0]; took != want || len(s.reads) != 1 {
		t.Fatalf("took %s with reads at %v; want one read at the reconciliation, %s", took, s.reads, want)
	}
}

// An event that reaches the wait before its registration is done (the
// events workflow forwards what it held the moment the wait registers) is
// taken as soon as the wait listens.
func TestAddQueueItem_EventBeforeRegistration(t *testing.T) {
	s := &itemScript{ids: []int64{5}, ends: []time.Duration{time.Second}, statuses: []string{"Successful"}}
	res, err, took := s.run(t, contract.AddQueueItemResult{ID: 5, Status: "New", Reference: "PO-1"}, 30*time.Second,
		map[time.Duration]contract.RunEvent{2 * time.Second: itemEvent("e1", 5, "Successful", true)})
	if err != nil || res.Status != "Successful" {
		t.Fatalf("result %+v, %v", res, err)
	}
	if took != 30*time.Second || len(s.reads) != 1 {
		t.Fatalf("took %s with reads at %v; want one read when the registration is done (30s)", took, s.reads)
	}
}

// A retried item ends as its retry, a new item with events of its own: the
// wait registers for the retry when a read shows it, and the retry's event
// ends the wait.
func TestAddQueueItem_EventsFollowRetries(t *testing.T) {
	s := &itemScript{ids: []int64{5, 8}, ends: []time.Duration{time.Minute, 4 * time.Minute}, statuses: []string{"Retried", "Successful"}}
	res, err, took := s.run(t, contract.AddQueueItemResult{ID: 5, Status: "New", Reference: "PO-1"}, 0, map[time.Duration]contract.RunEvent{
		time.Minute:                 itemEvent("e1", 5, "Retried", false),
		4*time.Minute + time.Second: itemEvent("e2", 8, "Successful", true)})
	if err != nil || res.Status != "Successful" || res.ID != 5 || res.FinalID != 8 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if took != 4*time.Minute+time.Second || len(s.reads) != 2 {
		t.Fatalf("took %s with reads at %v; want reads at 1m and 4m1s", took, s.reads)
	}
	if len(s.regs) != 2 || s.regs[0] != "5" || s.regs[1] != "8" || s.inputs[1].ID != 5 || s.inputs[1].Last != 8 {
		t.Fatalf("registered %v, second read %+v; want 5 then 8, reading from 8", s.regs, s.inputs[1])
	}
}

// A duplicate reference's item is not known before a first read, made at
// once; the wait then registers for the item found.
func TestAddQueueItem_EventsForDuplicate(t *testing.T) {
	s := &itemScript{ids: []int64{3}, ends: []time.Duration{2 * time.Minute}, statuses: []string{"Successful"}}
	res, err, took := s.run(t, contract.AddQueueItemResult{Status: "Duplicate", Reference: "PO-1", Duplicate: true}, 0,
		map[time.Duration]contract.RunEvent{2 * time.Minute: itemEvent("e1", 3, "Successful", true)})
	if err != nil || res.Status != "Successful" || res.ID != 3 || !res.Duplicate {
		t.Fatalf("result %+v, %v", res, err)
	}
	if took != 2*time.Minute || len(s.reads) != 2 || s.reads[0] > time.Second || len(s.regs) != 1 || s.regs[0] != "3" {
		t.Fatalf("took %s with reads at %v, registered %v; want reads at once and at 2m, registered for 3", took, s.reads, s.regs)
	}
	if s.inputs[0].ID != 0 || s.inputs[0].Reference != "PO-1" || s.inputs[1].ID != 3 {
		t.Fatalf("read inputs %+v", s.inputs)
	}
}
