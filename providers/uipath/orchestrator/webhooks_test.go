package orchestrator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// EnsureWebhook creates the webhook once and updates it after; a ping is
// queued for delivery to its URL.
func TestEnsureWebhook(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, func(o *orchestrator.Options) { o.Scopes = []string{"OR.Webhooks"} })
	tok, err := c.Authenticate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	spec := orchestrator.WebhookSpec{Name: "rpaflow-orch", URL: "http://127.0.0.1:1/events/uipath/orch", Secret: "s-0123456789abcdef",
		Events: []string{"job.completed", "job.faulted"}}
	for i, want := range []string{"created", "", "url events"} {
		w, change, err := c.EnsureWebhook(context.Background(), tok.Value, spec)
		got := strings.Join(change.Changed, " ")
		if change.Created {
			got = "created"
		}
		if err != nil || got != want || w.ID == 0 || !w.Enabled || len(w.Events) != len(spec.Events) {
			t.Fatalf("ensure #%d: %+v %+v %v; want %q", i+1, w, change, err, want)
		}
		if err := c.PingWebhook(context.Background(), tok.Value, w.ID); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			spec.URL = "http://127.0.0.1:2/events/uipath/orch"
			spec.Events = append(spec.Events, "job.stopped")
		}
	}
	hooks := e.sim.Webhooks()
	if len(hooks) != 1 || hooks[0].Secret != spec.Secret || hooks[0].URL != spec.URL {
		t.Fatalf("webhooks in the simulator: %+v", hooks)
	}
	if _, _, err := c.EnsureWebhook(context.Background(), tok.Value, orchestrator.WebhookSpec{Name: "x", URL: "ftp://x", Secret: "s", Events: []string{"ping"}}); err == nil {
		t.Fatal("a non-http URL was accepted")
	}
}
