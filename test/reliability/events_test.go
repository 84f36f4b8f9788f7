package reliability

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

// testEventsWorkerKilled SIGKILLs the only worker, whose receiver takes the
// webhooks and callbacks, while runs end and their events arrive. The
// deliveries that meet no receiver fail (and Orchestrator's breaker then
// skips the rest for an hour); a new worker process finishes every run,
// those whose events were lost at its reconciliation, none started twice.
func testEventsWorkerKilled(t *testing.T) {
	n := pick(4, 10)
	reconcile := 20 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the worker process listens here
	const secret = "rel-events-secret-0123456789abcdef"
	oo := orchsim.DefaultOptions()
	oo.Folders[0].Releases = append(oo.Folders[0].Releases, orchsim.Release{Name: "Events", Pending: time.Second, Running: 10 * time.Second})
	oo.Webhooks = []orchsim.Webhook{{Name: "rpaflow", URL: "http://" + addr + "/events/uipath/orch", Secret: secret, Enabled: true,
		Events: []string{"job.completed", "job.faulted", "job.stopped"}}}
	ao := aasim.DefaultOptions()
	ao.Bots[0].Deployed, ao.Bots[0].Running = time.Second, 10*time.Second
	s := newStack(t, "events", stackOptions{Sims: simenv.Options{Orchestrator: &oo, AA: &ao}})
	for k, v := range map[string]string{"RPAFLOW_EVENTS_ADDR": addr, "RPAFLOW_ORCH_WEBHOOK_SECRET": secret,
		"RPAFLOW_ORCH_RECONCILE_INTERVAL": reconcile.String(), "RPAFLOW_CR_WEBHOOK_SECRET": secret,
		"RPAFLOW_CR_CALLBACK_URL": "http://" + addr, "RPAFLOW_CR_RECONCILE_INTERVAL": reconcile.String()} {
		s.env[k] = v
	}
	s.startWorker()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var runs []client.WorkflowRun
	for i := range n {
		// Staggered, so events keep arriving over a few seconds.
		runs = append(runs, s.start(ctx, fmt.Sprintf("events-job-%d", i), contract.StartJobWorkflow,
			contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Events"}))
		runs = append(runs, s.start(ctx, fmt.Sprintf("events-bot-%d", i), contract.DeployBotWorkflow, botInput(fmt.Sprintf("ev-%d", i))))
		time.Sleep(time.Second)
	}
	orchSent := s.Sims.Orchestrator.Deliveries().Counters()
	aaSent := s.Sims.AA.Deliveries().Counters()
	for orchSent.Get("sent")+aaSent.Get("sent") < 2 {
		if ctx.Err() != nil {
			t.Fatal("no event was sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.killWorker()
	time.Sleep(2 * time.Second) // deliveries in this gap meet no receiver
	restarted := time.Now()
	s.startWorker()
	for _, o := range waitAll(ctx, runs) {
		if o.err != nil {
			t.Errorf("%s: %v", o.id, o.err)
		}
	}
	if took := time.Since(restarted); took > reconcile+30*time.Second {
		t.Errorf("the runs took %s after the restart; every one should be found within one reconcile interval (%s)", took, reconcile)
	}
	if got := s.Sims.Orchestrator.Jobs(); got != n {
		t.Errorf("%d jobs started for %d workflows", got, n)
	}
	if got := s.Sims.AA.Counters().Get("deploy"); got != int64(n) {
		t.Errorf("%d deploys for %d workflows", got, n)
	}
	lost := orchSent.Get("failed") + orchSent.Get("skipped.breaker") + aaSent.Get("failed")
	if lost == 0 {
		t.Errorf("no delivery was lost to the kill (webhooks %v, callbacks %v): the case did not test recovery", orchSent.Snapshot(), aaSent.Snapshot())
	}
	t.Logf("webhooks %v, callbacks %v", orchSent.Snapshot(), aaSent.Snapshot())
}
