package orchestrator_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

// SoftStop moves a running job to Stopping, then Stopped after the
// release's delay; Kill stops a job that ignores SoftStop at once; a stop
// after the end changes nothing.
func TestStopJobs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, err := c.Folder(ctx, tok, "Shared")
	if err != nil {
		t.Fatal(err)
	}
	start := func(process, ref string) orchestrator.Job {
		rel, err := c.Release(ctx, tok, f, process)
		if err != nil {
			t.Fatal(err)
		}
		j, err := c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: rel.Key, Reference: ref})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	state := func(id int64) string {
		j, err := c.Job(ctx, tok, f, id)
		if err != nil {
			t.Fatal(err)
		}
		return j.State
	}
	long := start("LongRunning", "ref-long")
	stubborn := start("Stubborn", "")
	done := start("Invoices", "")
	e.clock.Advance(5 * time.Second)
	if s := state(long.ID); s != "Running" {
		t.Fatalf("long job %s, want Running", s)
	}
	if err := c.StopJobs(ctx, tok, f, orchestrator.SoftStop, long.ID, stubborn.ID, done.ID); err != nil {
		t.Fatal(err)
	}
	if a, b, d := state(long.ID), state(stubborn.ID), state(done.ID); a != "Stopping" || b != "Stopping" || d != "Successful" {
		t.Fatalf("after SoftStop: %s %s %s, want Stopping Stopping Successful", a, b, d)
	}
	e.clock.Advance(3 * time.Second)
	if a, b := state(long.ID), state(stubborn.ID); a != "Stopped" || b != "Stopping" {
		t.Fatalf("3 s after SoftStop: %s %s, want Stopped Stopping", a, b)
	}
	if err := c.StopJobs(ctx, tok, f, orchestrator.Kill, stubborn.ID); err != nil {
		t.Fatal(err)
	}
	if s := state(stubborn.ID); s != "Stopped" {
		t.Fatalf("after Kill: %s, want Stopped", s)
	}
	if n := e.sim.Running(); n != 0 {
		t.Fatalf("%d jobs still running", n)
	}
	cnt := e.sim.Counters()
	if cnt.Get("stopJobs.SoftStop") != 3 || cnt.Get("stopJobs.Kill") != 1 {
		t.Fatalf("counters %v", cnt.Snapshot())
	}
	jobs, err := c.JobsByReference(ctx, tok, f, "ref-long")
	if err != nil || len(jobs) != 1 || jobs[0].ID != long.ID {
		t.Fatalf("by reference: %+v %v", jobs, err)
	}
	if err := c.StopJobs(ctx, tok, f, "Pause", long.ID); err == nil {
		t.Fatal("an unknown strategy was sent")
	}
}

// Queue items end Successful with output, Failed with the exception's
// reason and type, or Retried with a last retry that carries on.
func TestQueueItemResults(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, err := c.Folder(ctx, tok, "Shared")
	if err != nil {
		t.Fatal(err)
	}
	add := func(ref, outcome string) orchestrator.QueueItem {
		it, err := c.AddQueueItem(ctx, tok, f, orchestrator.QueueItemRequest{Queue: "Orders", Reference: ref,
			SpecificContent: map[string]any{"outcome": outcome, "order": ref}})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	ok, biz, retry := add("o-1", ""), add("o-2", "business"), add("o-3", "retry")
	get := func(id int64) orchestrator.QueueItemState {
		s, err := c.QueueItem(ctx, tok, f, id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := get(ok.ID); s.Status != "New" {
		t.Fatalf("new item %+v", s)
	}
	e.clock.Advance(1500 * time.Millisecond)
	if s := get(ok.ID); s.Status != "InProgress" {
		t.Fatalf("item after 1.5 s %+v", s)
	}
	e.clock.Advance(time.Second)
	if s := get(ok.ID); s.Status != "Successful" || s.Output["orderStatus"] != "processed" || s.Output["order"] != "o-1" {
		t.Fatalf("successful item %+v", s)
	}
	if s := get(biz.ID); s.Status != "Failed" || s.Exception == nil || s.Exception.Type != "BusinessException" ||
		s.Exception.Reason != "Order total exceeds the credit limit" {
		t.Fatalf("failed item %+v %+v", s, s.Exception)
	}
	if s := get(retry.ID); s.Status != "Retried" {
		t.Fatalf("retried item %+v", s)
	}
	last, err := c.LastRetry(ctx, tok, f, retry.ID)
	if err != nil || last.ID == retry.ID || last.RetryNumber != 1 || last.AncestorID != retry.ID {
		t.Fatalf("last retry %+v %v", last, err)
	}
	e.clock.Advance(3 * time.Second)
	if s := get(last.ID); s.Status != "Successful" {
		t.Fatalf("retry %+v", s)
	}
	byRef, found, err := c.QueueItemByReference(ctx, tok, f, "o-2")
	if err != nil || !found || byRef.ID != biz.ID {
		t.Fatalf("by reference %+v %v %v", byRef, found, err)
	}
}

// With a robot limit, jobs beyond it stay Pending until a robot frees; a
// stopped job frees its robot.
func TestFolderRobotsLimitJobs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(o *orchsim.Options) { o.Folders[0].Robots = 2 })
	c, tok := e.login(t, nil)
	f, err := c.Folder(ctx, tok, "Shared")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range []string{"LongRunning", "Invoices", "Invoices", "Invoices"} {
		rel, err := c.Release(ctx, tok, f, p)
		if err != nil {
			t.Fatal(err)
		}
		j, err := c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: rel.Key})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	states := func() []string {
		var out []string
		for _, id := range ids {
			j, err := c.Job(ctx, tok, f, id)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, j.State)
		}
		return out
	}
	e.clock.Advance(time.Second)
	if got := states(); !slices.Equal(got, []string{"Running", "Running", "Pending", "Pending"}) {
		t.Fatalf("at 1 s %v: want two running, two pending (two robots)", got)
	}
	for i, id := range ids {
		j, err := c.Job(ctx, tok, f, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := i >= 2; j.PendingForCapacity() != want || want && j.ErrorCode != "RobotBusy" {
			t.Errorf("job %d (%s, ErrorCode %q): pending for capacity %v, want %v", i, j.State, j.ErrorCode, j.PendingForCapacity(), want)
		}
	}
	e.clock.Advance(2 * time.Second) // the first Invoices job ended at 2.5 s
	if got := states(); !slices.Equal(got, []string{"Running", "Successful", "Running", "Pending"}) {
		t.Fatalf("at 3 s %v: want the third on the freed robot", got)
	}
	if err := c.StopJobs(ctx, tok, f, orchestrator.Kill, ids[0]); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(100 * time.Millisecond)
	if got := states(); !slices.Equal(got, []string{"Stopped", "Successful", "Running", "Running"}) {
		t.Fatalf("after killing the long job %v: want the last one running", got)
	}
	if n := e.sim.Counters().Get("jobs.pending.norobot"); n != 2 {
		t.Fatalf("jobs.pending.norobot %d, want 2", n)
	}
}

// Only a Pending job whose reason says the folder is full is a capacity
// answer; a job that can never start (no robot in the folder) is not.
func TestPendingForCapacity(t *testing.T) {
	for _, c := range []struct {
		state, code string
		want        bool
	}{
		{"Pending", "RobotBusy", true}, {"Pending", "templatefullcapacity", true}, {"Pending", "TemplateNoLicense", true},
		{"Pending", "RobotNotAssignedToFolder", false}, {"Pending", "RobotNoCredentials", false}, {"Pending", "", false},
		{"Running", "RobotBusy", false},
	} {
		if got := (orchestrator.Job{State: c.state, ErrorCode: c.code}).PendingForCapacity(); got != c.want {
			t.Errorf("%s with %q: %v, want %v", c.state, c.code, got, c.want)
		}
	}
}
