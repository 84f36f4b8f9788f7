package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
)

func TestKebabAndDefaultID(t *testing.T) {
	for in, want := range map[string]string{
		contract.DeployAPITaskWorkflow:           "deploy-api-task",
		contract.DeployBotWorkflow:               "deploy-bot",
		contract.StartJobWorkflow:                "start-job",
		contract.AddQueueItemWorkflow:            "add-queue-item",
		contract.AutomationHubTokenWatchWorkflow: "automation-hub-token-watch",
		"HTTPServer2Go":                          "http-server2-go",
		"X":                                      "x",
	} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
	re := regexp.MustCompile(`^deploy-api-task-[a-z2-7]{12}$`)
	a, b := DefaultID(contract.DeployAPITaskWorkflow), DefaultID(contract.DeployAPITaskWorkflow)
	if !re.MatchString(a) || !re.MatchString(b) {
		t.Errorf("DefaultID = %q, %q; want deploy-api-task-<12 random>", a, b)
	}
	if a == b {
		t.Errorf("DefaultID repeated %q", a)
	}
}

func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.json")
	if err := os.WriteFile(file, []byte(`{"botId":87}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec, stdin, want string
		code              int
	}{
		{spec: "", want: "{}"},
		{spec: "  ", want: "{}"},
		{spec: `{"a":1}`, want: `{"a":1}`},
		{spec: "@" + file, want: `{"botId":87}`},
		{spec: "-", stdin: `{"s":true}`, want: `{"s":true}`},
		{spec: "@" + filepath.Join(dir, "missing.json"), code: ExitUsage},
		{spec: "@", code: ExitUsage},
	} {
		got, err := readInput(tc.spec, strings.NewReader(tc.stdin))
		if code := ExitCode(err); code != tc.code {
			t.Errorf("readInput(%q) exit %d (%v), want %d", tc.spec, code, err, tc.code)
			continue
		}
		if err == nil && string(got) != tc.want {
			t.Errorf("readInput(%q) = %s, want %s", tc.spec, got, tc.want)
		}
	}
}

func TestMergeInput(t *testing.T) {
	for _, tc := range []struct {
		name, raw, flag string
		wantProfile     string
		wantWarning     bool
		wantErr         string
	}{
		{name: "flag fills missing profile", raw: `{"botId":87}`, flag: "cr", wantProfile: "cr"},
		{name: "flag fills empty profile", raw: `{"profile":""}`, flag: "cr", wantProfile: "cr"},
		{name: "flag fills null profile", raw: `{"profile":null}`, flag: "cr", wantProfile: "cr"},
		{name: "input wins", raw: `{"profile":"orch"}`, flag: "cr", wantProfile: "orch", wantWarning: true},
		{name: "same profile, no warning", raw: `{"profile":"cr"}`, flag: "cr", wantProfile: "cr"},
		{name: "input only", raw: `{"profile":"cr"}`, wantProfile: "cr"},
		{name: "empty input", raw: ``, flag: "cr", wantProfile: "cr"},
		{name: "null input", raw: `null`, flag: "cr", wantProfile: "cr"},
		{name: "no profile", raw: `{}`, wantErr: "no profile"},
		{name: "bad profile name", raw: `{}`, flag: "Bad_Name", wantErr: "not a profile name"},
		{name: "profile not a string", raw: `{"profile":3}`, flag: "cr", wantErr: "must be a string"},
		{name: "array", raw: `[1]`, flag: "cr", wantErr: "not a JSON object"},
		{name: "string", raw: `"x"`, flag: "cr", wantErr: "not a JSON object"},
		{name: "malformed", raw: `{"a":`, flag: "cr", wantErr: "not a JSON object"},
		{name: "trailing data", raw: `{} {}`, flag: "cr", wantErr: "after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, profile, warning, err := mergeInput([]byte(tc.raw), tc.flag)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || ExitCode(err) != ExitUsage {
					t.Fatalf("err = %v (exit %d), want %q with exit 2", err, ExitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if profile != tc.wantProfile || string(obj["profile"]) != fmt.Sprintf("%q", tc.wantProfile) {
				t.Errorf("profile = %q, obj[profile] = %s; want %q", profile, obj["profile"], tc.wantProfile)
			}
			if (warning != "") != tc.wantWarning {
				t.Errorf("warning = %q, want one: %v", warning, tc.wantWarning)
			}
		})
	}
}

func TestMergeInputKeepsOtherFieldsVerbatim(t *testing.T) {
	obj, _, _, err := mergeInput([]byte(`{"botInput":{"n":12345678901234567890,"d":{"type":"DATETIME","string":"x"}},"botId":87}`), "cr")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(obj["botInput"]); got != `{"n":12345678901234567890,"d":{"type":"DATETIME","string":"x"}}` {
		t.Errorf("botInput = %s", got)
	}
}

func TestCheckFields(t *testing.T) {
	ok := map[string]json.RawMessage{"profile": json.RawMessage(`"cr"`), "botId": json.RawMessage(`87`)}
	if err := checkFields(ok, new(contract.DeployBotInput)); err != nil {
		t.Errorf("valid input: %v", err)
	}
	unknown := map[string]json.RawMessage{"profile": json.RawMessage(`"cr"`), "botIdd": json.RawMessage(`87`)}
	if err := checkFields(unknown, new(contract.DeployBotInput)); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "botIdd") {
		t.Errorf("unknown field: %v (exit %d)", err, ExitCode(err))
	}
	wrongType := map[string]json.RawMessage{"profile": json.RawMessage(`"cr"`), "botId": json.RawMessage(`"87"`)}
	if err := checkFields(wrongType, new(contract.DeployBotInput)); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "botId") {
		t.Errorf("wrong type: %v (exit %d)", err, ExitCode(err))
	}
}

func TestExitCode(t *testing.T) {
	app := temporal.NewApplicationError("bad botId", string(contract.ErrInvalidInput))
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", usageErrorf("x"), ExitUsage},
		{"explicit", withCode(ExitUnreachable, errors.New("cfg")), ExitUnreachable},
		{"config error", withCode(ExitUnreachable, &config.Error{Problems: []string{"x"}}), ExitUnreachable},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), ExitTimeout},
		{"interrupted", context.Canceled, ExitTimeout},
		{"grpc deadline", status.Error(codes.DeadlineExceeded, "slow"), ExitTimeout},
		{"application error", app, ExitFailed},
		{"wrapped application error", fmt.Errorf("update: %w", app), ExitFailed},
		{"workflow execution error", &temporal.WorkflowExecutionError{}, ExitFailed},
		{"workflow canceled", temporal.NewCanceledError(), ExitFailed},
		{"timeout", temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil), ExitTimeout},
		{"query failed", serviceerror.NewQueryFailed("no handler"), ExitFailed},
		{"not found", serviceerror.NewNotFound("workflow not found"), ExitUsage},
		{"already started", serviceerror.NewWorkflowExecutionAlreadyStarted("dup", "", "r"), ExitUsage},
		{"invalid argument", serviceerror.NewInvalidArgument("bad"), ExitUsage},
		{"unavailable", serviceerror.NewUnavailable("down"), ExitUnreachable},
		{"grpc unavailable", status.Error(codes.Unavailable, "connection refused"), ExitUnreachable},
		{"permission denied", serviceerror.NewPermissionDenied("no", ""), ExitUnreachable},
		{"namespace not found", serviceerror.NewNamespaceNotFound("ns"), ExitUnreachable},
		{"other", errors.New("boom"), ExitFailed},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestDescribeError(t *testing.T) {
	err := fmt.Errorf("workflow: %w", temporal.NewNonRetryableApplicationError("profile \"x\" is unknown", string(contract.ErrInvalidInput), nil))
	info := describeError(err)
	if info.Type != string(contract.ErrInvalidInput) || !strings.Contains(info.Message, `profile "x" is unknown`) || !info.NonRetryable {
		t.Errorf("describeError = %+v", info)
	}
	if info := describeError(temporal.NewCanceledError()); info.Type != "Canceled" {
		t.Errorf("canceled: %+v", info)
	}
}

func TestUsage(t *testing.T) {
	h := newHarness(t, &fakeClient{})
	for _, tc := range []struct {
		args       []string
		code       int
		stdoutHas  string
		stderrHas  string
		noConnects bool
	}{
		{args: nil, code: ExitUsage, stderrHas: "Exit codes"},
		{args: []string{"--help"}, code: ExitOK, stdoutHas: "4  timeout"},
		{args: []string{"bogus"}, code: ExitUsage, stderrHas: `unknown command "bogus"`},
		{args: []string{"deploy-bot", "--help"}, code: ExitOK, stdoutHas: "--wait"},
		{args: []string{"deploy-bot", "-h"}, code: ExitOK, stdoutHas: "Exit codes"},
		{args: []string{"deploy-bot", "--nope"}, code: ExitUsage, stderrHas: "nope"},
		{args: []string{"deploy-bot", "--profile", "cr", "extra"}, code: ExitUsage, stderrHas: `unexpected argument "extra"`},
		{args: []string{"deploy-bot", "--timeout", "soon"}, code: ExitUsage, stderrHas: "timeout"},
		{args: []string{"deploy-bot", "--input", `{"botId":87}`}, code: ExitUsage, stderrHas: "no profile"},
		{args: []string{"deploy-bot", "--profile", "cr", "--input", `{"botID":87,"bogus":1}`}, code: ExitUsage, stderrHas: "bogus"},
		{args: []string{"session"}, code: ExitUsage, stderrHas: "missing action"},
		{args: []string{"session", "--help"}, code: ExitOK, stdoutHas: "logout"},
		{args: []string{"session", "refresh"}, code: ExitUsage, stderrHas: `unknown session action "refresh"; use status, token or logout`},
		{args: []string{"pool"}, code: ExitUsage, stderrHas: "missing action"},
		{args: []string{"pool", "help"}, code: ExitOK, stdoutHas: "starter pool status"},
		{args: []string{"pool", "drain"}, code: ExitUsage, stderrHas: `unknown pool action "drain"; use status`},
		{args: []string{"pool", "status", "--help"}, code: ExitOK, stdoutHas: "--pool"},
		{args: []string{"schedule", "update"}, code: ExitUsage, stderrHas: "use create, list, describe, pause, unpause, trigger or delete"},
		{args: []string{"session", "token", "--help"}, code: ExitOK, stdoutHas: "--min-validity"},
		{args: []string{"session", "status", "--profile", "cr", "--kind", "sap"}, code: ExitUsage, stderrHas: "--kind"},
		{args: []string{"session", "status"}, code: ExitUsage, stderrHas: "--profile is required"},
		{args: []string{"session", "status", "--profile", "CR"}, code: ExitUsage, stderrHas: `error: profile: "CR" is not a profile name`},
		{args: []string{"session", "status", "--min-validity", "1m", "--profile", "cr"}, code: ExitUsage, stderrHas: "min-validity"},
		{args: []string{"result"}, code: ExitUsage, stderrHas: "--id is required"},
	} {
		h.cfg = nil
		code, stdout, stderr := h.run(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdoutHas) || !strings.Contains(stderr, tc.stderrHas) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, trunc(stdout), trunc(stderr), tc.code, tc.stdoutHas, tc.stderrHas)
		}
		if tc.code != ExitOK && h.cfg != nil {
			t.Errorf("%q: connected despite bad usage", tc.args)
		}
	}
	if len(h.fc.started) != 0 {
		t.Errorf("started %d workflows during usage errors", len(h.fc.started))
	}
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func decodeOne(t *testing.T, stdout string) Output {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var o Output
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return o
}

func TestStartNoWait(t *testing.T) {
	fc := &fakeClient{}
	h := newHarness(t, fc)
	h.env["RPAFLOW_TASK_QUEUE"] = "rpa-q"
	code, stdout, stderr := h.run("deploy-api-task", "--profile", "cr", "--json",
		"--input", `{"botRepositoryPath":"Automation Anywhere\\Bots\\Zip","botInput":{"iStrZipCode":"95134"}}`)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	o := decodeOne(t, stdout)
	if o.WorkflowID != "deploy-api-task-test" || o.RunID != "run-1" || o.TaskQueue != "rpa-q" || o.WorkflowType != "DeployAPITask" || o.Error != nil {
		t.Errorf("output = %+v", o)
	}
	if len(fc.started) != 1 {
		t.Fatalf("started %d", len(fc.started))
	}
	s := fc.started[0]
	if s.workflow != contract.DeployAPITaskWorkflow || s.opts.ID != "deploy-api-task-test" || s.opts.TaskQueue != "rpa-q" || !s.opts.WorkflowExecutionErrorWhenAlreadyStarted {
		t.Errorf("start = %+v", s)
	}
	var in contract.DeployAPITaskInput
	if err := encodeInto(s.args[0], &in); err != nil {
		t.Fatal(err)
	}
	if in.Profile != "cr" || in.BotRepositoryPath != `Automation Anywhere\Bots\Zip` || string(in.BotInput["iStrZipCode"]) != `"95134"` {
		t.Errorf("input sent = %+v", in)
	}
}

func TestStartHumanAndStdin(t *testing.T) {
	fc := &fakeClient{}
	h := newHarness(t, fc)
	h.stdin = `{"profile":"orch","folder":"Shared","queue":"Orders","reference":"PO-1"}`
	code, stdout, stderr := h.run("add-queue-item", "--profile", "other", "--input", "-", "--id", "po-1")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "po-1") || !strings.Contains(stdout, "starter result --id po-1") {
		t.Errorf("stdout = %q", stdout)
	}
	if !strings.Contains(stderr, `the input's profile "orch" is used`) {
		t.Errorf("no warning about --profile: %q", stderr)
	}
	if h.cfg == nil || h.cfg.TaskQueue != contract.DefaultTaskQueue {
		t.Errorf("config = %+v", h.cfg)
	}
	var in contract.AddQueueItemInput
	_ = encodeInto(fc.started[0].args[0], &in)
	if in.Profile != "orch" || in.Queue != "Orders" || fc.started[0].opts.ID != "po-1" {
		t.Errorf("sent %+v with id %s", in, fc.started[0].opts.ID)
	}
}

func TestStartWaitResult(t *testing.T) {
	fc := &fakeClient{result: map[string]any{"jobId": 1, "state": "Successful"}}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("start-job", "--profile", "orch", "--wait", "--input", `{"folder":"Shared","process":"Invoices"}`)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	want := "{\n  \"jobId\": 1,\n  \"state\": \"Successful\"\n}\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "started StartJob start-job-test") {
		t.Errorf("stderr = %q", stderr)
	}

	code, stdout, _ = h.run("start-job", "--profile", "orch", "--wait", "--json", "--input", `{"folder":"Shared","process":"Invoices"}`)
	o := decodeOne(t, stdout)
	if code != ExitOK || string(o.Result) != `{"jobId":1,"state":"Successful"}` || o.ExitCode != 0 {
		t.Errorf("exit %d, output %+v", code, o)
	}
}

func TestStartWaitFailure(t *testing.T) {
	fc := &fakeClient{runErr: fmt.Errorf("workflow execution error: %w",
		temporal.NewNonRetryableApplicationError("bot 87 failed: disk full", string(contract.ErrRunFailed), nil))}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("deploy-bot", "--profile", "cr", "--wait", "--input", `{"botId":87}`)
	if code != ExitFailed || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, "bot 87 failed: disk full") || !strings.Contains(stderr, "type: RunFailed") {
		t.Errorf("stderr = %q", stderr)
	}
	code, stdout, _ = h.run("deploy-bot", "--profile", "cr", "--wait", "--json", "--input", `{"botId":87}`)
	o := decodeOne(t, stdout)
	if code != ExitFailed || o.ExitCode != ExitFailed || o.Error == nil || o.Error.Type != string(contract.ErrRunFailed) || o.WorkflowID != "deploy-bot-test" {
		t.Errorf("exit %d, output %+v", code, o)
	}
}

func TestStartWaitProgress(t *testing.T) {
	fc := &fakeClient{
		result: map[string]any{"status": "COMPLETED"},
		block:  true,
		progress: []contract.PollProgress{
			{Polls: 1, Status: "PENDING_EXECUTION"},
			{Polls: 1, Status: "PENDING_EXECUTION"}, // unchanged: printed once
			{Polls: 2, Status: "RUNNING"},
			{Polls: 4, Status: "RUNNING", Failures: 1},
		},
		drained: make(chan struct{}),
	}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("deploy-bot", "--profile", "cr", "--wait", "--input", `{"botId":87}`)
	if code != ExitOK || !strings.Contains(stdout, `"COMPLETED"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	want := "status: PENDING_EXECUTION (poll 1)\nstatus: RUNNING (poll 2)\nstatus: RUNNING (poll 4, 1 failed)\n"
	if i := strings.Index(stderr, "status:"); i < 0 || stderr[i:] != want {
		t.Errorf("progress on stderr:\n%s\nwant:\n%s", stderr, want)
	}

	// --json: no progress, stdout only the object
	fc.describes, fc.drained, fc.block = 0, nil, false
	_, stdout, stderr = h.run("deploy-bot", "--profile", "cr", "--wait", "--json", "--input", `{"botId":87}`)
	decodeOne(t, stdout)
	if strings.Contains(stderr, "status:") || fc.describes != 0 {
		t.Errorf("progress in --json mode: %q (%d describes)", stderr, fc.describes)
	}
}

func TestStartWaitTimeout(t *testing.T) {
	fc := &fakeClient{block: true}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("deploy-bot", "--profile", "cr", "--wait", "--timeout", "30ms", "--json", "--input", `{"botId":87}`)
	o := decodeOne(t, stdout)
	if code != ExitTimeout || o.ExitCode != ExitTimeout || o.RunID != "run-1" {
		t.Errorf("exit %d, output %+v", code, o)
	}
	if !strings.Contains(stderr, "starter result --id deploy-bot-test") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestStartAlreadyRunning(t *testing.T) {
	fc := &fakeClient{executeErr: serviceerror.NewWorkflowExecutionAlreadyStarted("dup", "", "run-0")}
	h := newHarness(t, fc)
	code, _, stderr := h.run("deploy-bot", "--profile", "cr", "--id", "order-7", "--input", `{"botId":87}`)
	if code != ExitUsage || !strings.Contains(stderr, "order-7 is already running") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestStartUnreachable(t *testing.T) {
	fc := &fakeClient{executeErr: serviceerror.NewUnavailable("connection refused")}
	h := newHarness(t, fc)
	if code, _, _ := h.run("deploy-bot", "--profile", "cr", "--input", `{"botId":87}`); code != ExitUnreachable {
		t.Errorf("unavailable: exit %d", code)
	}
	h.fc = &fakeClient{}
	h.connErr = errors.New("dial tcp: connection refused")
	h.env["TEMPORAL_ADDRESS"] = "temporal:7233"
	code, stdout, stderr := h.run("deploy-bot", "--profile", "cr", "--json", "--input", `{"botId":87}`)
	if o := decodeOne(t, stdout); code != ExitUnreachable || o.ExitCode != ExitUnreachable {
		t.Errorf("connect failure: exit %d, %+v", code, o)
	}
	if !strings.Contains(stderr, "TEMPORAL_ADDRESS=temporal:7233") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestConfigErrorExit3(t *testing.T) {
	h := newHarness(t, &fakeClient{})
	delete(h.env, "RPAFLOW_INSECURE_PLAINTEXT") // no codec key, no plaintext: the worker refuses too
	code, _, stderr := h.run("deploy-bot", "--profile", "cr", "--input", `{"botId":87}`)
	if code != ExitUnreachable || !strings.Contains(stderr, "RPAFLOW_CODEC_KEY") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestLoadConfigWithoutProfiles(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"profiles unset": {"RPAFLOW_INSECURE_PLAINTEXT": "true"},
		"profiles blank": {"RPAFLOW_INSECURE_PLAINTEXT": "true", "RPAFLOW_PROFILES": " "},
		"profile broken": {"RPAFLOW_INSECURE_PLAINTEXT": "true", "RPAFLOW_PROFILES": "cr", "RPAFLOW_CR_KIND": "nope"},
		"profile secret file missing": {"RPAFLOW_INSECURE_PLAINTEXT": "true", "RPAFLOW_PROFILES": "cr", "RPAFLOW_CR_KIND": "automationanywhere",
			"RPAFLOW_CR_URL": "https://cr.example.com", "RPAFLOW_CR_USERNAME": "u", "RPAFLOW_CR_API_KEY_FILE": "/nonexistent/rpaflow/key"},
	} {
		cfg, err := LoadConfig(env)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(cfg.Profiles) != 0 || len(cfg.Secrets()) != 0 || cfg.TaskQueue != "rpaflow" {
			t.Errorf("%s: profiles %v, secrets %d, queue %q", name, cfg.ProfileNames(), len(cfg.Secrets()), cfg.TaskQueue)
		}
	}
	var ce *config.Error
	if _, err := LoadConfig(map[string]string{"RPAFLOW_INSECURE_PLAINTEXT": "maybe"}); !errors.As(err, &ce) || len(ce.Problems) != 2 {
		// the bad boolean, and then no key without plaintext
		t.Errorf("bad config: %v", err)
	}
}

func TestHubWatch(t *testing.T) {
	fc := &fakeClient{}
	h := newHarness(t, fc)
	if code, _, stderr := h.run("hub-watch", "--profile", "hub"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := fc.started[0].opts
	if o.ID != "hub-watch:hub" || o.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING || o.WorkflowExecutionErrorWhenAlreadyStarted {
		t.Errorf("options = %+v", o)
	}
	if fc.started[0].workflow != contract.AutomationHubTokenWatchWorkflow {
		t.Errorf("workflow = %v", fc.started[0].workflow)
	}
}

func TestSessionToken(t *testing.T) {
	expiry := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	fc := &fakeClient{updateValue: contract.TokenResult{Token: "tok", Expiry: expiry, Generation: 3}}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("session", "token", "--profile", "cr")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res contract.TokenResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Token != "tok" || res.Generation != 3 {
		t.Errorf("stdout %q: %v", stdout, err)
	}
	ws := fc.withStart[0]
	if ws.opts.ID != "aa-session:cr" || ws.opts.TaskQueue != "rpaflow" ||
		ws.opts.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING ||
		ws.opts.WorkflowIDReusePolicy != enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE ||
		ws.workflow != contract.ControlRoomSessionWorkflow || ws.args[0] != (contract.SessionInput{Profile: "cr"}) {
		t.Errorf("with-start = %+v", ws)
	}
	u := fc.uws[0].UpdateOptions
	if u.UpdateName != contract.UpdateToken || u.WaitForStage != client.WorkflowUpdateStageCompleted ||
		u.Args[0] != (contract.TokenRequest{MinValidity: contract.Duration(30 * time.Second)}) {
		t.Errorf("update = %+v", u)
	}

	code, stdout, _ = h.run("session", "token", "--profile", "orch", "--kind", "uipath", "--min-validity", "2m", "--json")
	o := decodeOne(t, stdout)
	if code != ExitOK || o.WorkflowID != "uipath-session:orch" || o.RunID != "session-run" || o.WorkflowType != contract.OrchestratorSessionWorkflow {
		t.Errorf("exit %d, %+v", code, o)
	}
	if fc.withStart[1].workflow != contract.OrchestratorSessionWorkflow ||
		fc.uws[1].UpdateOptions.Args[0] != (contract.TokenRequest{MinValidity: contract.Duration(2 * time.Minute)}) {
		t.Errorf("uipath: %+v / %+v", fc.withStart[1], fc.uws[1].UpdateOptions)
	}

	fc.outcomeErr = temporal.NewNonRetryableApplicationError("login refused", string(contract.ErrAuthFailed), nil)
	code, _, stderr = h.run("session", "token", "--profile", "cr")
	if code != ExitFailed || !strings.Contains(stderr, "login refused") || !strings.Contains(stderr, "type: AuthFailed") {
		t.Errorf("failure: exit %d, stderr %q", code, stderr)
	}
}

// Through the codec endpoint alone the token cannot be read: the starter
// refuses before it starts or renews anything.
func TestSessionTokenNeedsTheWorkerOnlyKey(t *testing.T) {
	fc := &fakeClient{updateValue: contract.TokenResult{Token: "tok"}}
	h := newHarness(t, fc)
	delete(h.env, "RPAFLOW_INSECURE_PLAINTEXT")
	h.env["RPAFLOW_CODEC_ENDPOINT"] = "http://127.0.0.1:8082/codec"
	code, stdout, stderr := h.run("session", "token", "--profile", "cr")
	if code != ExitUsage || !strings.Contains(stderr, "worker-only key") || !strings.Contains(stderr, "RPAFLOW_CODEC_KEY") || strings.Contains(stdout, "tok") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if len(fc.withStart)+len(fc.uws) != 0 {
		t.Error("the refused command still asked the session")
	}
}

func TestSessionStatusAndLogout(t *testing.T) {
	fc := &fakeClient{queryResult: contract.SessionStatus{Profile: "cr", State: "active", Generation: 2}}
	h := newHarness(t, fc)
	code, stdout, _ := h.run("session", "status", "--profile", "cr")
	if code != ExitOK || !strings.Contains(stdout, `"state": "active"`) || fc.queried[0] != "aa-session:cr/status" {
		t.Errorf("status: exit %d, stdout %q, queried %v", code, stdout, fc.queried)
	}

	fc.queryErr = serviceerror.NewNotFound("workflow not found")
	code, _, stderr := h.run("session", "status", "--profile", "cr")
	if code != ExitUsage || !strings.Contains(stderr, "no session aa-session:cr") {
		t.Errorf("status not found: exit %d, %q", code, stderr)
	}

	code, stdout, _ = h.run("session", "logout", "--profile", "orch", "--kind", "uipath")
	u := fc.updates[0]
	if code != ExitOK || u.WorkflowID != "uipath-session:orch" || u.UpdateName != contract.UpdateLogout || len(u.Args) != 0 ||
		!strings.Contains(stdout, "logged out") {
		t.Errorf("logout: exit %d, stdout %q, update %+v", code, stdout, u)
	}

	fc.updateErr = serviceerror.NewNotFound("workflow not found")
	if code, _, _ := h.run("session", "logout", "--profile", "cr"); code != ExitUsage {
		t.Errorf("logout not found: exit %d", code)
	}
}

// Right after a worker dies, a query can reach a task queue that no live
// worker has polled yet: status waits for a poller instead of failing.
func TestSessionStatusWaitsForPoller(t *testing.T) {
	defer func(d time.Duration) { noPollerRetry = d }(noPollerRetry)
	noPollerRetry = time.Millisecond
	noPoller := serviceerror.NewFailedPrecondition("no poller seen for task queue recently, worker may be down")

	fc := &fakeClient{queryResult: contract.SessionStatus{Profile: "cr", State: "active"}, queryErr: noPoller, queryErrN: 3}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("session", "status", "--profile", "cr")
	if code != ExitOK || !strings.Contains(stdout, `"state": "active"`) || len(fc.queried) != 4 {
		t.Errorf("status after 3 no-poller answers: exit %d, stdout %q, stderr %q, %d queries (want 4)", code, stdout, stderr, len(fc.queried))
	}

	fc = &fakeClient{queryErr: noPoller}
	h = newHarness(t, fc)
	code, _, stderr = h.run("session", "status", "--profile", "cr", "--timeout", "50ms")
	if code != ExitTimeout || !strings.Contains(stderr, "is a worker polling task queue") || len(fc.queried) < 2 {
		t.Errorf("no poller until --timeout: exit %d (want %d), stderr %q, %d queries", code, ExitTimeout, stderr, len(fc.queried))
	}

	fc = &fakeClient{queryErr: serviceerror.NewFailedPrecondition("something else")}
	h = newHarness(t, fc)
	if code, _, _ := h.run("session", "status", "--profile", "cr"); code != ExitUsage || len(fc.queried) != 1 {
		t.Errorf("other FailedPrecondition: exit %d, %d queries; want exit %d after one query", code, len(fc.queried), ExitUsage)
	}
}

func TestSessionTimeoutHint(t *testing.T) {
	fc := &fakeClient{updateErr: status.Error(codes.DeadlineExceeded, "context deadline exceeded")}
	h := newHarness(t, fc)
	code, _, stderr := h.run("session", "token", "--profile", "cr", "--timeout", "1s")
	if code != ExitTimeout || !strings.Contains(stderr, `is a worker polling task queue "rpaflow"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestResult(t *testing.T) {
	fc := &fakeClient{result: map[string]any{"deploymentId": "d1"}}
	h := newHarness(t, fc)
	code, stdout, _ := h.run("result", "--id", "deploy-bot-x", "--json")
	o := decodeOne(t, stdout)
	if code != ExitOK || string(o.Result) != `{"deploymentId":"d1"}` || fc.getCalls[0] != "deploy-bot-x/" {
		t.Errorf("exit %d, %+v, calls %v", code, o, fc.getCalls)
	}

	fc.result = nil // a workflow without a result (hub-watch)
	if code, stdout, _ := h.run("result", "--id", "hub-watch:hub"); code != ExitOK || stdout != "null\n" {
		t.Errorf("no result: exit %d, stdout %q", code, stdout)
	}

	fc.runErr = serviceerror.NewNotFound("workflow not found")
	if code, _, stderr := h.run("result", "--id", "nope"); code != ExitUsage || !strings.Contains(stderr, "no workflow with ID nope") {
		t.Errorf("not found: exit %d, %q", code, stderr)
	}
}

func TestProgressLinesIgnoresOtherHeartbeats(t *testing.T) {
	other, _ := dc.ToPayloads(map[string]string{"phase": "upload"})
	mine, _ := dc.ToPayloads(contract.PollProgress{Polls: 3, Status: "RUNNING"})
	desc := &workflowservice.DescribeWorkflowExecutionResponse{PendingActivities: []*workflowpb.PendingActivityInfo{
		{ActivityId: "1", HeartbeatDetails: other},
		{ActivityId: "2", HeartbeatDetails: mine, Attempt: 2},
	}}
	last := map[string]string{}
	if got := progressLines(desc, dc, last); len(got) != 1 || got[0] != "status: RUNNING (poll 3, attempt 2)" {
		t.Errorf("lines = %q", got)
	}
	if got := progressLines(desc, dc, last); len(got) != 0 {
		t.Errorf("unchanged progress printed again: %q", got)
	}
}

// A token the session's token query already has is printed without an
// update; one too close to expiry for --min-validity goes to the update.
func TestSessionTokenReadsTheQueryFirst(t *testing.T) {
	now := time.Now()
	current := contract.TokenResult{Token: "current", Expiry: now.Add(10 * time.Minute), UsableUntil: now.Add(10*time.Minute - 5*time.Second), Generation: 4}
	fc := &fakeClient{queryResult: current, updateValue: contract.TokenResult{Token: "renewed", Expiry: now.Add(20 * time.Minute), Generation: 5}}
	h := newHarness(t, fc)

	code, stdout, stderr := h.run("session", "token", "--profile", "cr", "--min-validity", "1m")
	var res contract.TokenResult
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil || res.Token != "current" || res.Generation != 4 {
		t.Fatalf("exit %d, stdout %q, stderr %q: want the queried token", code, stdout, stderr)
	}
	if len(fc.uws) != 0 || len(fc.queried) != 1 || fc.queried[0] != "aa-session:cr/"+contract.QueryToken {
		t.Fatalf("queried %v and sent %d updates; want one token query and no update", fc.queried, len(fc.uws))
	}

	code, stdout, stderr = h.run("session", "token", "--profile", "cr", "--min-validity", "11m")
	res = contract.TokenResult{}
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil || res.Token != "renewed" || len(fc.uws) != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q, %d updates: want the update's renewed token", code, stdout, stderr, len(fc.uws))
	}
}

func TestPoolStatus(t *testing.T) {
	fc := &fakeClient{queryResult: contract.PoolStatus{Profile: "cr", Pool: "apitask", Limit: 2, InUse: 2, Waiting: 5,
		Queues: []contract.PoolKeyQueue{{Priority: 3, Key: "orders", Waiting: 5}}}}
	h := newHarness(t, fc)
	code, stdout, _ := h.run("pool", "status", "--profile", "cr")
	if code != ExitOK || !strings.Contains(stdout, `"waiting": 5`) || !strings.Contains(stdout, `"key": "orders"`) ||
		fc.queried[0] != "rpaflow-pool:cr:apitask/status" {
		t.Errorf("status: exit %d, stdout %q, queried %v", code, stdout, fc.queried)
	}
	if code, _, _ := h.run("pool", "status", "--profile", "orch", "--pool", "Finance/Invoices"); code != ExitOK || fc.queried[1] != "rpaflow-pool:orch:Finance/Invoices/status" {
		t.Errorf("folder pool: exit %d, queried %v", code, fc.queried)
	}
	fc.queryErr = serviceerror.NewNotFound("workflow not found")
	code, _, stderr := h.run("pool", "status", "--profile", "cr", "--pool", "runners")
	if code != ExitUsage || !strings.Contains(stderr, "no pool rpaflow-pool:cr:runners") {
		t.Errorf("not found: exit %d, %q", code, stderr)
	}
	if code, _, stderr := h.run("pool", "status", "--pool", "apitask"); code != ExitUsage || !strings.Contains(stderr, "profile") {
		t.Errorf("no profile: exit %d, %q", code, stderr)
	}
}

// A deployment's admission priority is its Temporal priority too; without
// one the start leaves Temporal's default.
func TestStartPassesAdmissionPriority(t *testing.T) {
	for _, c := range []struct {
		input string
		want  int
	}{
		{`{"profile":"cr","botRepositoryPath":"x","admission":{"priority":1,"fairnessKey":"orders"}}`, 1},
		{`{"profile":"cr","botRepositoryPath":"x"}`, 0},
	} {
		fc := &fakeClient{}
		h := newHarness(t, fc)
		if code, _, stderr := h.run("deploy-api-task", "--json", "--input", c.input); code != ExitOK {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		if got := fc.started[0].opts.Priority.PriorityKey; got != c.want {
			t.Errorf("%s: started with priority key %d, want %d", c.input, got, c.want)
		}
	}
}
