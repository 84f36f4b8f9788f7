package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
)

// The README's recipes for work items, queue item waits and cancelling a
// bot run as written and do what the README says.
func TestREADMEResultAndCancelRecipes(t *testing.T) {
	recipes := readmeRecipes(t)
	s := newStack(t, stackOptions{})
	run := func(name string) string {
		t.Helper()
		if recipes[name] == nil {
			t.Fatalf("README.md has no recipe %q", name)
		}
		out, err := s.cli(forStack(t, s, recipes[name])...)
		if err != nil {
			t.Fatalf("recipe %s: %v", name, err)
		}
		return out
	}
	if out := run("work-item"); !strings.Contains(out, "booked INV-1") || !strings.Contains(out, "COMPLETED") {
		t.Errorf("work-item: no COMPLETED item booked INV-1 in\n%s", out)
	}
	if out := run("queue-item-wait"); !strings.Contains(out, "processed") || !strings.Contains(out, "Successful") {
		t.Errorf("queue-item-wait: no Successful processed item in\n%s", out)
	}
	aaSim := s.Sims.AA
	run("start-long-bot")
	waitFor(t, time.Minute, "the long bot running", func() bool { return aaSim.Running() == 1 })
	run("cancel")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := s.Client.GetWorkflow(ctx, "long-bot", "").Get(ctx, nil)
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("long-bot ended with %v, want Canceled", err)
	}
	var stop contract.RunStop
	if err := ce.Details(&stop); err != nil || stop.FinalStatus != "RUN_ABORTED" {
		t.Errorf("stop %+v, %v", stop, err)
	}
	if aaSim.Running() != 0 || aaSim.Aborted() != 1 {
		t.Errorf("Control Room: %d running, %d aborted", aaSim.Running(), aaSim.Aborted())
	}
}
