package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/test/badinput"
)

// testBadInput feeds every workflow, session update and the configuration
// bad input. Each must fail at once and for good (one attempt, or a
// validator rejection) with a message naming the field, and nothing may
// reach the platforms.
func testBadInput(t *testing.T) {
	s := newStack(t, "badinput", stackOptions{})
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Live sessions for the update validators; their logins happen before
	// the counters are read.
	aaID, orchID := contract.AASessionID("cr"), contract.OrchestratorSessionID("orch")
	s.startSession(ctx, contract.ControlRoomSessionWorkflow, aaID, "cr")
	s.startSession(ctx, contract.OrchestratorSessionWorkflow, orchID, "orch")
	for _, id := range []string{aaID, orchID} {
		if _, err := s.token(ctx, id, time.Second); err != nil {
			t.Fatalf("session %s: %v", id, err)
		}
	}
	before := platformCounters(s)

	tried := 0
	for i, c := range badinput.Workflows {
		tried++
		id := fmt.Sprintf("bad-%02d", i)
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.Queue}, c.Workflow, json.RawMessage(c.Input))
		if err != nil {
			t.Fatalf("%s: start: %v", id, err)
		}
		err = run.Get(ctx, nil)
		checkRejected(t, fmt.Sprintf("%s %s", c.Workflow, c.Input), err, c.Field)
		if attempts := activityAttempts(t, s, id); len(attempts) > 1 || (len(attempts) == 1 && attempts[0] != 1) {
			t.Errorf("%s %s: activity attempts %v, want at most one attempt", c.Workflow, c.Input, attempts)
		}
	}

	for _, c := range []struct {
		id, update, arg, field string
	}{
		{aaID, contract.UpdateToken, `{"minValidity":"-1s"}`, "minValidity"},
		{aaID, contract.UpdateToken, `{"minValidity":"13h"}`, "minValidity"},
		{aaID, contract.UpdateToken, `{"minValidity":"soon"}`, "soon"},
		{aaID, contract.UpdateAccessDetails, `{"paths":[]}`, "paths"},
		{aaID, contract.UpdateAccessDetails, `{"paths":[""]}`, "paths[0]"},
		{aaID, contract.UpdateAccessDetails, `{"paths":["a","a"]}`, "paths[1]"},
		{aaID, contract.UpdateAccessDetails, `{"paths":["a"],"minValidity":"1h"}`, "minValidity"},
		{aaID, contract.UpdateInvalidate, `{"generation":0}`, "generation"},
		{aaID, contract.UpdateInvalidate, `{"generation":-3}`, "generation"},
		{orchID, contract.UpdateToken, `{"minValidity":"24h"}`, "minValidity"},
		{orchID, contract.UpdateInvalidate, `{"generation":0}`, "generation"},
	} {
		tried++
		h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: c.id, UpdateName: c.update,
			Args: []any{json.RawMessage(c.arg)}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		checkRejected(t, fmt.Sprintf("update %s %s on %s", c.update, c.arg, c.id), err, c.field)
	}
	// The sessions are unharmed by the rejected updates.
	for _, id := range []string{aaID, orchID} {
		if st, err := s.status(ctx, id); err != nil || st.State != "active" || st.ConsecutiveFailures != 0 {
			t.Errorf("session %s after bad updates: %+v, %v", id, st, err)
		}
	}

	tried += badConfig(t)

	after := platformCounters(s)
	if !maps.Equal(before, after) {
		t.Errorf("bad input reached the platforms: counters before %v, after %v", before, after)
	}
	t.Logf("reliability: bad-input: tried %d bad inputs (workflows, session updates, configuration), each rejected at once naming its field; platform calls %d before = %d after; lost 0",
		tried, sum(before), sum(after))
}

// checkRejected: err is a non-retryable InvalidInput naming field, or a
// validator's rejection naming field.
func checkRejected(t *testing.T, what string, err error, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want a rejection naming %q", what, field)
		return
	}
	var app *temporal.ApplicationError
	switch {
	case strings.Contains(err.Error(), "unable to decode"):
		// An argument that does not decode is rejected by the SDK before
		// any handler runs; its message still has to say what is wrong.
	case !errors.As(err, &app):
		t.Errorf("%s: %T %v, want an application error", what, err, err)
	case contract.ErrorType(app.Type()) != contract.ErrInvalidInput || !app.NonRetryable():
		t.Errorf("%s: error type %q (non-retryable %v), want a non-retryable %s: %v", what, app.Type(), app.NonRetryable(), contract.ErrInvalidInput, err)
	}
	if !strings.Contains(err.Error(), field) {
		t.Errorf("%s: message does not name %q: %v", what, field, err)
	}
}

// activityAttempts lists the attempt of every started activity in id's history.
func activityAttempts(t *testing.T, s *stack, id string) []int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []int32
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			out = append(out, a.GetAttempt())
		}
	}
	return out
}

func platformCounters(s *stack) map[string]int64 {
	out := map[string]int64{}
	for prefix, snap := range map[string]map[string]int64{
		"aa.": s.Sims.AA.Counters().Snapshot(), "orch.": s.Sims.Orchestrator.Counters().Snapshot(), "hub.": s.Sims.Hub.Counters().Snapshot()} {
		for k, v := range snap {
			out[prefix+k] = v
		}
	}
	return out
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// badConfig checks that each bad environment fails config.LoadFrom with a
// message naming the variable and never echoing a secret, and that the
// worker binary refuses such a configuration at once.
func badConfig(t *testing.T) int {
	good := map[string]string{"RPAFLOW_CODEC_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "TEMPORAL_ADDRESS": "127.0.0.1:7233"}
	for _, kv := range simenv.WorkerEnv("http://127.0.0.1:1") {
		k, v, _ := strings.Cut(kv, "=")
		good[k] = v
	}
	if _, err := config.LoadFrom(good); err != nil {
		t.Fatalf("the base configuration is bad: %v", err)
	}
	cases := []struct {
		name string
		set  map[string]string // "" deletes
		want string
	}{
		{"unknown kind", map[string]string{"RPAFLOW_CR_KIND": "blueprism"}, "RPAFLOW_CR_KIND"},
		{"missing URL", map[string]string{"RPAFLOW_ORCH_URL": ""}, "RPAFLOW_ORCH_URL"},
		{"API key and password", map[string]string{"RPAFLOW_CR_PASSWORD": "pw-" + aasim.DemoAPIKey}, "RPAFLOW_CR_PASSWORD"},
		{"no AA credential", map[string]string{"RPAFLOW_CR_API_KEY": ""}, "RPAFLOW_CR_API_KEY"},
		{"codec key not base64", map[string]string{"RPAFLOW_CODEC_KEY": "not*base64"}, "RPAFLOW_CODEC_KEY"},
		{"codec key too short", map[string]string{"RPAFLOW_CODEC_KEY": "c2hvcnQ="}, "RPAFLOW_CODEC_KEY"},
		{"no codec key", map[string]string{"RPAFLOW_CODEC_KEY": ""}, "RPAFLOW_CODEC_KEY"},
		{"plain http", map[string]string{"RPAFLOW_HUB_ALLOW_HTTP": ""}, "RPAFLOW_HUB_URL"},
		{"bad profile name", map[string]string{"RPAFLOW_PROFILES": "cr,Orch_1"}, "Orch_1"},
		{"duplicate profile", map[string]string{"RPAFLOW_PROFILES": "cr,cr"}, "RPAFLOW_PROFILES"},
		{"empty profile list", map[string]string{"RPAFLOW_PROFILES": ""}, "RPAFLOW_PROFILES"},
		{"orchestrator secret without id", map[string]string{"RPAFLOW_ORCH_CLIENT_ID": ""}, "RPAFLOW_ORCH_CLIENT_ID"},
		{"orchestrator both logins", map[string]string{"RPAFLOW_ORCH_PASSWORD": orchsim.DemoPassword, "RPAFLOW_ORCH_USERNAME": "admin"}, "RPAFLOW_ORCH_USERNAME"},
		{"hub expiry not a date", map[string]string{"RPAFLOW_HUB_TOKEN_EXPIRES": "next year"}, "RPAFLOW_HUB_TOKEN_EXPIRES"},
		{"hub token missing", map[string]string{"RPAFLOW_HUB_TOKEN": ""}, "RPAFLOW_HUB_TOKEN"},
		{"URL with user info", map[string]string{"RPAFLOW_CR_URL": "https://u:" + aasim.DemoAPIKey + "@cr.example.com"}, "RPAFLOW_CR_URL"},
	}
	secrets := []string{aasim.DemoAPIKey, orchsim.DemoClientSecret, orchsim.DemoPassword, good["RPAFLOW_HUB_TOKEN"]}
	for _, c := range cases {
		env := maps.Clone(good)
		for k, v := range c.set {
			if v == "" {
				delete(env, k)
			} else {
				env[k] = v
			}
		}
		_, err := config.LoadFrom(env)
		var ce *config.Error
		switch {
		case err == nil:
			t.Errorf("config %s: accepted", c.name)
			continue
		case !errors.As(err, &ce):
			t.Errorf("config %s: %T %v, want a *config.Error", c.name, err, err)
		case !strings.Contains(err.Error(), c.want):
			t.Errorf("config %s: message does not name %s: %v", c.name, c.want, err)
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("config %s: message echoes a secret (%d chars)", c.name, len(sec))
			}
		}
	}

	// The worker itself refuses a bad configuration before connecting anywhere.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, workerBin)
	env := maps.Clone(good)
	env["RPAFLOW_CR_KIND"] = "blueprism"
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "RPAFLOW_CR_KIND") {
		t.Errorf("worker with RPAFLOW_CR_KIND=blueprism: %v, output %s; want exit code 2 naming the variable", err, out)
	}
	return len(cases) + 1
}
