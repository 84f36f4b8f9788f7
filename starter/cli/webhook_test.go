package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rpaflow/rpaflow/internal/events"
	"github.com/rpaflow/rpaflow/internal/simenv"
)

// webhook ensure creates the Orchestrator webhook once, updates it after,
// and its ping arrives at a receiver signed with the profile's secret.
func TestWebhookEnsure(t *testing.T) {
	const secret = "starter-webhook-secret-0123456789"
	sims := simenv.New(simenv.Options{})
	simSrv := httptest.NewServer(sims)
	defer simSrv.Close()
	var mu sync.Mutex
	verified := 0
	recv := httptest.NewServer(events.NewReceiver(events.Options{Logger: zerolog.Nop(),
		Profiles: []events.Profile{{Name: "orch", Platform: events.UiPath, Secret: []byte(secret)}},
		Observe: func(_ events.Platform, _, outcome, _ string) {
			if outcome == events.OutcomeVerified {
				mu.Lock()
				verified++
				mu.Unlock()
			}
		}}))
	defer recv.Close()
	env := map[string]string{}
	for _, kv := range simenv.WorkerEnv(simSrv.URL) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["RPAFLOW_ORCH_SCOPES"] = "OR.Jobs OR.Webhooks"
	env["RPAFLOW_ORCH_WEBHOOK_SECRET"] = secret
	url := recv.URL + "/events/uipath/orch"
	for i, wantCreated := range []bool{true, false} {
		var stdout, stderr bytes.Buffer
		r := &Runner{Stdout: &stdout, Stderr: &stderr, Env: env}
		if code := r.Run(context.Background(), []string{"webhook", "ensure", "--profile", "orch", "--url", url, "--ping", "--json"}); code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s%s", i, code, stdout.String(), stderr.String())
		}
		var out struct{ Result WebhookResult }
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if out.Result.Created != wantCreated || out.Result.Name != "rpaflow-orch" || out.Result.URL != url || !out.Result.Enabled ||
			len(out.Result.Events) != len(events.UiPathSubscriptions) || !out.Result.Pinged {
			t.Fatalf("run %d: %+v", i, out.Result)
		}
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Fatal("the output holds the secret")
		}
	}
	hooks := sims.Orchestrator.Webhooks()
	if len(hooks) != 1 || hooks[0].Secret != secret || hooks[0].URL != url {
		t.Fatalf("webhooks in Orchestrator: %+v", hooks)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := verified
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pings verified at the receiver: %d, want 2 (deliveries %v)", n, sims.Orchestrator.Deliveries().Counters().Snapshot())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Refusals name what to fix.
	for _, args := range [][]string{
		{"webhook", "ensure", "--profile", "orch", "--url", recv.URL + "/events/uipath/other"},
		{"webhook", "ensure", "--profile", "cr", "--url", recv.URL + "/events/uipath/cr"},
		{"webhook", "ensure", "--url", url},
	} {
		var stdout, stderr bytes.Buffer
		r := &Runner{Stdout: &stdout, Stderr: &stderr, Env: env}
		if code := r.Run(context.Background(), args); code != ExitUsage {
			t.Errorf("%v: exit %d %s", args, code, stderr.String())
		}
	}
}
