package automationanywhere

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

func TestDeployAndPollToCompleted(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) { o.Bots[0].ListDelay = 500 * time.Millisecond }, nil)
	tok := e.login(t).Value
	id, err := e.c.Deploy(ctx, tok, DeployRequest{BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{3},
		BotInput: map[string]botvalue.Value{"sInput1": botvalue.Str("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	// Right after deploy the activity may not be listed yet.
	if a, err := e.c.DeploymentActivity(ctx, tok, id); err != nil || a != nil {
		t.Fatalf("before ListDelay: %+v %v", a, err)
	}
	steps := []struct {
		advance time.Duration
		status  string
	}{{600 * time.Millisecond, "DEPLOYED"}, {time.Second, "RUNNING"}, {2 * time.Second, "COMPLETED"}}
	var a *Activity
	for _, s := range steps {
		e.clock.Advance(s.advance)
		a, err = e.c.DeploymentActivity(ctx, tok, id)
		if err != nil || a == nil || a.Status != s.status {
			t.Fatalf("after %v: %+v %v, want %s", s.advance, a, err, s.status)
		}
		if IsTerminal(a.Status) != (s.status == "COMPLETED") {
			t.Fatalf("IsTerminal(%s) wrong", a.Status)
		}
	}
	if !IsSuccess(a.Status) || a.Progress != 100 || a.DeploymentID != id || a.End.IsZero() || a.Start.IsZero() {
		t.Fatalf("final %+v", a)
	}
	if got := a.BotOutput["sOutput"]; got.String != "done: hello" {
		t.Fatalf("outputs %+v", a.BotOutput)
	}
	if e.sim.Counters().Get("deploy") != 1 || e.sim.Counters().Get("activity.list") != 4 {
		t.Fatalf("counters %v", e.sim.Counters().Snapshot())
	}
}

func TestDeployScriptedRunFailed(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) {
		o.Bots = append(o.Bots, aasim.Bot{ID: 5, Name: "Flaky", Running: time.Second, Final: "RUN_FAILED", Message: "boom"})
	}, nil)
	tok := e.login(t).Value
	id, err := e.c.Deploy(ctx, tok, DeployRequest{BotID: 5, RunAsUserIDs: []int64{3}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	a, err := e.c.DeploymentActivity(ctx, tok, id)
	if err != nil || a == nil {
		t.Fatalf("%+v %v", a, err)
	}
	if a.Status != "RUN_FAILED" || a.Message != "boom" || !IsTerminal(a.Status) || IsSuccess(a.Status) || a.BotOutput != nil {
		t.Fatalf("activity %+v", a)
	}
}

func TestDeployErrors(t *testing.T) {
	e := newEnv(t, nil, nil)
	tok := e.login(t).Value
	_, err := e.c.Deploy(ctx, tok, DeployRequest{BotID: 999, RunAsUserIDs: []int64{3}})
	apiErr(t, err, 400, "bot.not.found")

	for field, r := range map[string]DeployRequest{
		"botId":        {RunAsUserIDs: []int64{3}},
		"runAsUserIds": {BotID: 87},
		"priority":     {BotID: 87, RunAsUserIDs: []int64{3}, Priority: "URGENT"},
	} {
		_, err := e.c.Deploy(ctx, tok, r)
		var ie *apierror.InvalidError
		if !errors.As(err, &ie) || ie.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// TestDeployWireBody pins the v4 body shapes the reference documents.
func TestDeployWireBody(t *testing.T) {
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/automations/deploy" || r.Header.Get("X-Authorization") != "tok" {
			t.Errorf("request %s %v", r.URL.Path, r.Header)
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		bodies = append(bodies, m)
		_, _ = w.Write([]byte(`{"deploymentId":"d-1","automationName":"x"}`))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Username: "u", APIKey: "k", AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []DeployRequest{
		{BotID: 87, RunAsUserIDs: []int64{3}},
		{BotID: 87, RunAsUserIDs: []int64{3}, PoolIDs: []int64{4}, Priority: "PRIORITY_HIGH"},
		{BotID: 121, AutomationName: "SAMPLE", Headless: &HeadlessRequest{SharedRunAsUserID: 12}},
	} {
		if id, err := c.Deploy(ctx, "tok", r); err != nil || id != "d-1" {
			t.Fatalf("Deploy: %q %v", id, err)
		}
	}
	want := []string{
		`{"automationPriority":"PRIORITY_MEDIUM","botId":87,"unattendedRequest":{"deviceUsageType":"RUN_ONLY_ON_DEFAULT_DEVICE","runAsUserIds":[3]}}`,
		`{"automationPriority":"PRIORITY_HIGH","botId":87,"unattendedRequest":{"poolIds":[4],"runAsUserIds":[3]}}`,
		`{"automationName":"SAMPLE","automationPriority":"PRIORITY_MEDIUM","botId":121,"executionType":"RUN_NOW","headlessRequest":{"numberOfExecutions":1,"queueOnSlotsExhaustion":false,"sharedRunAsUserId":12}}`,
	}
	for i, w := range want {
		got, _ := json.Marshal(bodies[i])
		if string(got) != w {
			t.Errorf("body %d:\n got %s\nwant %s", i, got, w)
		}
	}
}
