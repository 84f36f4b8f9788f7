package activities_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/events"
	"github.com/rpaflow/rpaflow/profile"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

// OrchEnsureWebhook creates the webhook with the profile's secret and the
// job and queue-item events, reports an unchanged one as such and an
// update with what changed; the answer holds no secret. A profile without
// a webhook secret is refused, naming the variable to set.
func TestOrchEnsureWebhook(t *testing.T) {
	const secret = "ensure-webhook-secret-0123456789"
	sim := orchsim.New(orchsim.DefaultOptions())
	srv := httptest.NewServer(sim)
	defer srv.Close()
	orch := func(name, secret string) profile.Profile {
		return profile.Profile{Name: name, Kind: profile.KindOrchestrator, URL: srv.URL, ClientID: orchsim.DemoClientID,
			ClientSecret: orchsim.DemoClientSecret, Scopes: []string{"OR.Webhooks"}, AllowHTTP: true, WebhookSecret: secret}
	}
	reg, err := activities.BuildRegistry([]profile.Profile{orch("orch", secret), orch("plain", "")}, activities.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Orchestrator("orch")
	fs := &fakeSessions{login: func(ctx context.Context) (string, time.Time, error) {
		tok, err := c.Authenticate(ctx)
		return tok.Value, tok.Expiry, err
	}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a := &activities.Orchestrator{Registry: reg, Sessions: fs, Budget: &activities.Budget{PerMinute: 600}}
	env.RegisterActivity(a)
	ensure := func(in contract.EnsureWebhookInput) (contract.EnsureWebhookResult, error) {
		t.Helper()
		val, err := env.ExecuteActivity(a.OrchEnsureWebhook, in)
		var res contract.EnsureWebhookResult
		if err == nil {
			err = val.Get(&res)
		}
		return res, err
	}
	in := contract.EnsureWebhookInput{Profile: "orch", URL: "http://127.0.0.1:1/events/uipath/orch"}
	for i, want := range []string{contract.WebhookCreated, contract.WebhookUnchanged} {
		res, err := ensure(in)
		if err != nil || res.Outcome != want || res.ID == 0 || res.Name != "rpaflow-orch" || !res.Enabled ||
			len(res.Events) != len(events.UiPathSubscriptions) || len(res.Changed) != 0 {
			t.Fatalf("ensure #%d: %+v %v; want %s", i+1, res, err, want)
		}
	}
	in.URL = "http://127.0.0.1:2/events/uipath/orch"
	res, err := ensure(in)
	if err != nil || res.Outcome != contract.WebhookUpdated || strings.Join(res.Changed, ",") != "url" || res.URL != in.URL {
		t.Fatalf("update: %+v %v", res, err)
	}
	hooks := sim.Webhooks()
	if len(hooks) != 1 || hooks[0].Secret != secret || hooks[0].URL != in.URL || !hooks[0].Enabled {
		t.Fatalf("webhooks in Orchestrator: %+v", hooks)
	}
	if _, err := env.ExecuteActivity(a.OrchPingWebhook, activities.PingWebhookInput{Profile: "orch", ID: res.ID}); err != nil {
		t.Fatal(err)
	}
	if got := sim.Counters().Get("webhooks.ping"); got != 1 {
		t.Errorf("pings = %d, want 1", got)
	}

	_, err = ensure(contract.EnsureWebhookInput{Profile: "plain", URL: "http://127.0.0.1:1/events/uipath/plain"})
	if app := wantClass(t, err, contract.ErrInvalidInput); !strings.Contains(app.Error(), "RPAFLOW_PLAIN_WEBHOOK_SECRET") {
		t.Errorf("no secret: %v", err)
	}
	_, err = ensure(contract.EnsureWebhookInput{Profile: "nope", URL: "http://127.0.0.1:1/events/uipath/nope"})
	if app := wantClass(t, err, contract.ErrInvalidInput); !strings.Contains(app.Error(), `"nope" is not configured`) {
		t.Errorf("unknown profile: %v", err)
	}
	if len(sim.Webhooks()) != 1 {
		t.Error("a refused ensure wrote a webhook")
	}
}
