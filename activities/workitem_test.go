package activities_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func addWorkItem(t *testing.T, e *aaEnv, in contract.AddWorkItemInput) (contract.AddWorkItemResult, error) {
	t.Helper()
	in.Profile = "cr"
	val, err := e.activityEnv(t).ExecuteActivity(e.cr.AAAddWorkItem, in)
	if err != nil {
		return contract.AddWorkItemResult{}, err
	}
	var res contract.AddWorkItemResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func TestAAAddWorkItemAndWait(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	res, err := addWorkItem(t, e, contract.AddWorkItemInput{Queue: "Invoices", Data: map[string]any{"invoice": "INV-9", "amount": 5}})
	if err != nil || res.ID == "" || res.QueueID != "11" || res.Status != "NEW" || res.Data["invoice"] != "INV-9" {
		t.Fatalf("add %+v %v", res, err)
	}
	val, err := e.activityEnv(t).ExecuteActivity(e.cr.AAWaitWorkItem, activities.WaitWorkItemInput{Profile: "cr", QueueID: res.QueueID, ID: res.ID,
		PollInitial: 100 * time.Millisecond, PollMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var fin contract.AddWorkItemResult
	if err := val.Get(&fin); err != nil {
		t.Fatal(err)
	}
	if fin.Status != contract.WorkItemCompleted || fin.Result != "booked INV-9" || fin.ID != res.ID {
		t.Fatalf("final %+v", fin)
	}
	// By id, without a queue lookup.
	before := e.sim.Counters().Get("wlm.queues")
	if res, err := addWorkItem(t, e, contract.AddWorkItemInput{Queue: "12", Data: map[string]any{"invoice": "INV-10"}}); err != nil || res.QueueID != "12" {
		t.Fatalf("add by id %+v %v", res, err)
	}
	if e.sim.Counters().Get("wlm.queues") != before {
		t.Fatal("a numeric queue was looked up by name")
	}
}

// A queue name is matched exactly; a miss names the queues that come close.
func TestAAAddWorkItemQueueNotFound(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	for _, c := range []struct{ queue, want string }{
		{"invoices", "queues with similar names: Invoices, Invoices Backlog, Invoices-EU"},
		{"Invoicez", "queues with similar names: Invoices, Invoices Backlog, Invoices-EU"},
		{"Payroll", "no queue has a similar name"},
	} {
		_, err := addWorkItem(t, e, contract.AddWorkItemInput{Queue: c.queue, Data: map[string]any{"a": "b"}})
		app := wantClass(t, err, contract.ErrNotFound)
		if !strings.Contains(app.Error(), c.want) || !strings.Contains(app.Error(), `"`+c.queue+`"`) {
			t.Errorf("%s: %v", c.queue, err)
		}
	}
	if n := e.sim.Counters().Get("wlm.add"); n != 0 {
		t.Fatalf("%d items added to unresolved queues", n)
	}
}

// A dropped answer after the add was sent is Ambiguous, unless idempotent.
func TestAAAddWorkItemAmbiguous(t *testing.T) {
	drop := true
	e := newAAEnv(t, aaSetup{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if drop && strings.HasSuffix(r.URL.Path, "/workitems") {
				panic(http.ErrAbortHandler) // the item was added; the answer is lost
			}
		})
	}})
	_, err := addWorkItem(t, e, contract.AddWorkItemInput{Queue: "Invoices", Data: map[string]any{"a": "b"}})
	wantClass(t, err, contract.ErrAmbiguous)
	_, err = addWorkItem(t, e, contract.AddWorkItemInput{Queue: "Invoices", Data: map[string]any{"a": "b"}, Idempotent: true})
	wantClass(t, err, contract.ErrUnavailable)
}
