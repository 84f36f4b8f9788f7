package activities_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// deployEnv is a Control Room whose clock moves step per activity-list
// call, so a deployment's life is a number of polls, not wall time.
func deployEnv(t *testing.T, step time.Duration, bot func(*aasim.Bot)) (*aaEnv, *recLogger, *testsuite.TestActivityEnvironment) {
	t.Helper()
	clk := newFakeClock()
	e := newAAEnv(t, aaSetup{
		sim: func(o *aasim.Options) {
			o.Clock = clk.Now
			if bot != nil {
				bot(&o.Bots[0])
			}
		},
		wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/activity/list") {
					clk.Advance(step)
				}
				h.ServeHTTP(w, r)
			})
		},
	})
	logs := &recLogger{}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(logs)
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(e.cr)
	return e, logs, env
}

func deploy(t *testing.T, e *aaEnv, env *testsuite.TestActivityEnvironment, input string) string {
	t.Helper()
	val, err := env.ExecuteActivity(e.cr.AADeployBot, activities.DeployInput{DeployBotInput: contract.DeployBotInput{Profile: "cr",
		BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID},
		BotInput: map[string]json.RawMessage{"sInput1": json.RawMessage(strconv.Quote(input))}}})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := val.Get(&id); err != nil || id == "" {
		t.Fatalf("deployment id %q (%v)", id, err)
	}
	return id
}

func wait(t *testing.T, e *aaEnv, env *testsuite.TestActivityEnvironment, id string, initial time.Duration) (activities.DeploymentResult, error) {
	t.Helper()
	val, err := env.ExecuteActivity(e.cr.AAWaitDeployment, activities.WaitDeploymentInput{Profile: "cr", DeploymentID: id,
		PollInitial: initial, PollMax: 4 * initial})
	if err != nil {
		return activities.DeploymentResult{}, err
	}
	var res activities.DeploymentResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func TestDeployBotAndWait(t *testing.T) {
	// 400 ms of Control Room time per poll: not listed at 0.4 s (ListDelay
	// 0.6 s), DEPLOYED at 0.8, RUNNING from 1.2 (Deployed 1 s), COMPLETED at
	// 3.2 (Running 2 s): exactly 8 polls.
	e, logs, env := deployEnv(t, 400*time.Millisecond, func(b *aasim.Bot) { b.ListDelay = 600 * time.Millisecond })
	id := deploy(t, e, env, "INV-7")
	res, err := wait(t, e, env, id, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "COMPLETED" || res.DeploymentID != id || res.BotOutput["sOutput"].String != "done: INV-7" {
		t.Errorf("result = %+v", res)
	}
	if got := logs.values("deployment status", "status"); !slices.Equal(got, []string{"DEPLOYED", "RUNNING", "COMPLETED"}) {
		t.Errorf("status changes = %v, want DEPLOYED, RUNNING, COMPLETED", got)
	}
	c := e.sim.Counters()
	if c.Get("activity.list") != 8 || c.Get("deploy") != 1 || c.Get("login") != 1 {
		t.Errorf("list calls %d, deploys %d, logins %d; want 8, 1, 1", c.Get("activity.list"), c.Get("deploy"), c.Get("login"))
	}
	if got := e.sessions.count(contract.UpdateToken); got != 2 {
		t.Errorf("token updates = %d, want 2 (deploy, then one for the whole wait)", got)
	}
}

// A bot that fails is a result, not an activity error: the workflow decides.
func TestWaitDeploymentRunFailedIsAResult(t *testing.T) {
	e, _, env := deployEnv(t, time.Second, func(b *aasim.Bot) { b.Final, b.Message = "RUN_FAILED", "Invoice file missing" })
	id := deploy(t, e, env, "x")
	res, err := wait(t, e, env, id, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "RUN_FAILED" || res.Message != "Invoice file missing" || len(res.BotOutput) != 0 {
		t.Errorf("result = %+v", res)
	}
}

// A retried wait resumes from its heartbeat: the interval it had reached
// and the status it had seen, instead of starting over.
func TestWaitDeploymentResumesFromHeartbeat(t *testing.T) {
	e, _, env := deployEnv(t, 400*time.Millisecond, func(b *aasim.Bot) { b.Deployed, b.Running = 0, time.Second })
	id := deploy(t, e, env, "resume")
	var first contract.PollProgress
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
		if first.Polls == 0 {
			_ = d.Get(&first)
		}
	})
	since := time.Now().Add(-time.Hour).UTC()
	env.SetHeartbeatDetails(contract.PollProgress{Polls: 5, Status: "RUNNING", Interval: 5 * time.Millisecond, Since: since})
	// A fresh wait would poll again only after PollInitial (an hour); the
	// resumed one keeps its 5 ms interval because RUNNING is no news.
	done := make(chan struct{})
	var res activities.DeploymentResult
	var err error
	go func() {
		defer close(done)
		res, err = wait(t, e, env, id, time.Hour)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the wait did not resume from its heartbeat (it restarted the backoff)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "COMPLETED" || res.BotOutput["sOutput"].String != "done: resume" {
		t.Errorf("result = %+v", res)
	}
	if first.Polls != 6 || first.Status != "RUNNING" || !first.Since.Equal(since) {
		t.Errorf("first heartbeat = %+v, want polls 6 continuing from the recorded RUNNING", first)
	}
	if got := e.sim.Counters().Get("activity.list"); got != 3 {
		t.Errorf("list calls = %d, want 3 (RUNNING at 0.4 s and 0.8 s, COMPLETED at 1.2 s)", got)
	}
}

func TestDeployBotErrors(t *testing.T) {
	e, _, env := deployEnv(t, time.Second, nil)
	// Unknown bot: the Control Room answers 400; never retried.
	_, err := env.ExecuteActivity(e.cr.AADeployBot, activities.DeployInput{DeployBotInput: contract.DeployBotInput{Profile: "cr"},
		Request: &aa.DeployRequest{BotID: 999, RunAsUserIDs: []int64{3}}})
	wantClass(t, err, contract.ErrInvalidRequest)

	// Throttled: retryable after the Retry-After the Control Room gave.
	e.sim.Faults().Throttle(1, 3*time.Second)
	_, err = env.ExecuteActivity(e.cr.AADeployBot, activities.DeployInput{DeployBotInput: contract.DeployBotInput{Profile: "cr"},
		Request: &aa.DeployRequest{BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{3}}})
	if app := wantClass(t, err, contract.ErrThrottled); app.NextRetryDelay() != 3*time.Second {
		t.Errorf("NextRetryDelay = %v, want 3s", app.NextRetryDelay())
	}

	// A 502 from a gateway: the platform answered, so the deploy is retryable.
	e.sim.Faults().Fail(1, http.StatusBadGateway)
	_, err = env.ExecuteActivity(e.cr.AADeployBot, activities.DeployInput{DeployBotInput: contract.DeployBotInput{Profile: "cr"},
		Request: &aa.DeployRequest{BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{3}}})
	if app := wantClass(t, err, contract.ErrUnavailable); app.NonRetryable() {
		t.Error("502 is non-retryable")
	}
	if got := e.sim.Counters().Get("deploy"); got != 1 {
		t.Errorf("deploys reaching the Control Room = %d, want only the unknown bot's", got)
	}

	// A revoked session token is reported once and the deploy repeated.
	e.sim.RevokeAll()
	deploy(t, e, env, "after revoke")
	if got := e.sessions.invalidations(); len(got) != 1 || got[0] != 1 {
		t.Errorf("invalidate reports = %v, want [1]", got)
	}
}
