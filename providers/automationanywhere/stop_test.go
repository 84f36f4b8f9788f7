package automationanywhere

import (
	"context"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// A stop request ends a running execution RUN_ABORTED; stopping a finished
// one is refused, and the client sees an error it can check against the status.
func TestStopExecution(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)
	tok := e.login(t).Value
	long, err := e.c.Deploy(ctx, tok, DeployRequest{BotID: aasim.LongBotID, RunAsUserIDs: []int64{aasim.DemoUserID}})
	if err != nil {
		t.Fatal(err)
	}
	short, err := e.c.Deploy(ctx, tok, DeployRequest{BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	act, err := e.c.DeploymentActivity(ctx, tok, long)
	if err != nil || act == nil || act.Status != "RUNNING" || act.ID == "" || act.ID == long {
		t.Fatalf("activity %+v %v", act, err)
	}
	if err := e.c.StopExecution(ctx, tok, act.ID); err != nil {
		t.Fatal(err)
	}
	if a, _ := e.c.DeploymentActivity(ctx, tok, long); a.Status != "RUNNING" {
		t.Fatalf("right after the stop: %s (the demo bot takes a second)", a.Status)
	}
	e.clock.Advance(time.Second)
	if a, _ := e.c.DeploymentActivity(ctx, tok, long); a.Status != "RUN_ABORTED" || !IsTerminal(a.Status) {
		t.Fatalf("after the stop delay: %+v", a)
	}
	done, _ := e.c.DeploymentActivity(ctx, tok, short)
	err = e.c.StopExecution(ctx, tok, done.ID)
	if ae, ok := err.(*apierror.Error); !ok || ae.Status != 400 {
		t.Fatalf("stopping a finished run: %v", err)
	}
	if n := e.sim.Running(); n != 0 {
		t.Fatalf("%d runs alive", n)
	}
	if e.sim.Counters().Get("activity.manage.stop") != 2 || e.sim.Aborted() != 1 {
		t.Fatalf("counters %v aborted %d", e.sim.Counters().Snapshot(), e.sim.Aborted())
	}
}

// Queues resolve by substring; work items go NEW → ACTIVE → COMPLETED or
// FAILED, with ids written as numbers or strings.
func TestWorkItems(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)
	tok := e.login(t).Value
	qs, err := e.c.WorkQueues(ctx, tok, "Invoices")
	if err != nil || len(qs) != 3 || qs[0].Name != "Invoices" || qs[0].ID != "11" {
		t.Fatalf("queues %+v %v", qs, err)
	}
	ok, err := e.c.AddWorkItem(ctx, tok, "11", map[string]any{"invoice": "INV-1", "amount": 10})
	if err != nil || ok.ID == "" || NormalizeWorkItemStatus(ok.Status) != "NEW" {
		t.Fatalf("add %+v %v", ok, err)
	}
	bad, err := e.c.AddWorkItem(ctx, tok, "11", map[string]any{"invoice": "INV-2", "amount": -1})
	if err != nil || bad.ID == ok.ID {
		t.Fatalf("add %+v %v", bad, err)
	}
	e.clock.Advance(1500 * time.Millisecond)
	if it, err := e.c.WorkItem(ctx, tok, "11", ok.ID); err != nil || it == nil || it.Status != "ACTIVE" {
		t.Fatalf("item %+v %v", it, err)
	}
	e.clock.Advance(time.Second)
	it, err := e.c.WorkItem(ctx, tok, "11", ok.ID)
	if err != nil || !IsTerminalWorkItem(it.Status) || !IsWorkItemSuccess(it.Status) || it.Result != "booked INV-1" || it.Data["invoice"] != "INV-1" {
		t.Fatalf("item %+v %v", it, err)
	}
	it, err = e.c.WorkItem(ctx, tok, "11", bad.ID)
	if err != nil || !IsTerminalWorkItem(it.Status) || IsWorkItemSuccess(it.Status) || it.Error != "amount must be positive" {
		t.Fatalf("item %+v %v", it, err)
	}
	if it, err := e.c.WorkItem(ctx, tok, "11", "999"); err != nil || it != nil {
		t.Fatalf("unknown item %+v %v", it, err)
	}
	if _, err := e.c.AddWorkItem(ctx, tok, "99", nil); err == nil {
		t.Fatal("added to an unknown queue")
	}
}
