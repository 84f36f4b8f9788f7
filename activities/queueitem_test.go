package activities_test

import (
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func addItem(t *testing.T, o *orchEnv, ref, outcome string) contract.AddQueueItemResult {
	t.Helper()
	val, err := orchActivityEnv(o).ExecuteActivity(o.orch.OrchAddQueueItem, contract.AddQueueItemInput{Profile: "orch", Folder: "Shared",
		Queue: "Orders", Reference: ref, SpecificContent: map[string]any{"outcome": outcome, "order": ref}})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.AddQueueItemResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func waitItem(t *testing.T, o *orchEnv, in activities.WaitQueueItemInput) contract.QueueItemFailure {
	t.Helper()
	in.Profile, in.Folder, in.PollInitial, in.PollMax = "orch", "Shared", 5*time.Millisecond, 10*time.Millisecond
	val, err := orchActivityEnv(o).ExecuteActivity(o.orch.OrchWaitQueueItem, in)
	if err != nil {
		t.Fatal(err)
	}
	var res contract.QueueItemFailure
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// Each item read moves the simulator by 500 ms; the demo robot takes 2 s.
func TestOrchWaitQueueItem(t *testing.T) {
	t.Run("Successful with output", func(t *testing.T) {
		o := newOrchEnv(t, 500*time.Millisecond, &activities.Budget{PerMinute: 60000})
		it := addItem(t, o, "PO-1", "")
		res := waitItem(t, o, activities.WaitQueueItemInput{ID: it.ID})
		if res.Status != "Successful" || res.ID != it.ID || res.Output["orderStatus"] != "processed" || res.Output["order"] != "PO-1" || res.Reason != "" {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("Failed with the exception's type", func(t *testing.T) {
		o := newOrchEnv(t, 500*time.Millisecond, &activities.Budget{PerMinute: 60000})
		it := addItem(t, o, "PO-2", "business")
		res := waitItem(t, o, activities.WaitQueueItemInput{ID: it.ID})
		if res.Status != "Failed" || res.Type != "BusinessException" || res.Reason != "Order total exceeds the credit limit" {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("Retried follows the last retry", func(t *testing.T) {
		o := newOrchEnv(t, 500*time.Millisecond, &activities.Budget{PerMinute: 60000})
		it := addItem(t, o, "PO-3", "retry")
		res := waitItem(t, o, activities.WaitQueueItemInput{ID: it.ID})
		if res.Status != "Successful" || res.ID != it.ID || res.FinalID == 0 || res.FinalID == it.ID {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("a duplicate reference watches the existing item", func(t *testing.T) {
		o := newOrchEnv(t, 500*time.Millisecond, &activities.Budget{PerMinute: 60000})
		first := addItem(t, o, "PO-4", "crash")
		dup := addItem(t, o, "PO-4", "")
		if !dup.Duplicate {
			t.Fatalf("second add %+v, want a duplicate", dup)
		}
		res := waitItem(t, o, activities.WaitQueueItemInput{Reference: "PO-4"})
		if res.ID != first.ID || !res.Duplicate || res.Status != "Failed" || res.Type != "ApplicationException" {
			t.Fatalf("result %+v", res)
		}
	})
}

// OrchCheckQueueItem reads once: an item still worked is not done; a
// Retried one names its retry (FinalID), read from there on (Last) until it
// ends, with the time its transaction ended.
func TestOrchCheckQueueItem(t *testing.T) {
	o := newOrchEnv(t, 500*time.Millisecond, &activities.Budget{PerMinute: 60000})
	it := addItem(t, o, "PO-5", "retry")
	in := activities.WaitQueueItemInput{Profile: "orch", Folder: "Shared", ID: it.ID, Reference: "PO-5"}
	check := func() activities.Check[contract.QueueItemFailure] {
		t.Helper()
		val, err := orchActivityEnv(o).ExecuteActivity(o.orch.OrchCheckQueueItem, in)
		if err != nil {
			t.Fatal(err)
		}
		var c activities.Check[contract.QueueItemFailure]
		if err := val.Get(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := check()
	if c.Done || c.Result.ID != it.ID || c.Result.FinalID != 0 {
		t.Fatalf("first read %+v; want the item still worked", c)
	}
	for range 10 {
		if c = check(); c.Result.FinalID != 0 {
			break
		}
	}
	if c.Done || c.Result.FinalID == 0 || c.Result.FinalID == it.ID || c.Result.ID != it.ID {
		t.Fatalf("read after the first attempt %+v; want its retry named, not done", c)
	}
	in.Last = c.Result.FinalID
	for range 10 {
		if c = check(); c.Done {
			break
		}
	}
	if !c.Done || c.State != "Successful" || c.Result.ID != it.ID || c.Result.FinalID != in.Last || c.End.IsZero() ||
		c.Result.Output["orderStatus"] != "processed" {
		t.Fatalf("last read %+v; want the retry Successful with its output and end", c)
	}
}
