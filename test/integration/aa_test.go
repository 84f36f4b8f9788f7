package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/test/secretscan"
)

const zipTask = `Automation Anywhere\Bots\Zip Code API Task`

func zipInput(zip string) string {
	b, _ := json.Marshal(map[string]any{"profile": "cr", "botRepositoryPath": zipTask, "botInput": map[string]any{"iStrZipCode": zip}})
	return string(b)
}

// Three deployments from the Temporal CLI share one Control Room login, and
// the CLI reads their results through the worker's codec endpoint.
func TestDeployAPITaskFromTemporalCLI(t *testing.T) {
	s := newStack(t, stackOptions{})
	want := map[string]string{"95134": "California", "10001": "New York", "60601": "Illinois"}
	for zip, state := range want {
		out, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
			"--workflow-id", "it-zip-"+zip, "--input", zipInput(zip), "--codec-endpoint", s.codecEndpoint(), "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Result contract.DeployAPITaskResult `json:"result"`
			Status string                       `json:"status"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("CLI output is not the expected JSON: %v\n%s", err, out)
		}
		if got := res.Result.BotOutput["State"]; got != state {
			t.Errorf("zip %s: botOutput.State = %v, want %s (output %s)", zip, got, state, out)
		}
		if res.Result.RawBotOutput["State"].Type != "STRING" {
			t.Errorf("zip %s: rawBotOutput.State = %+v, want a typed STRING", zip, res.Result.RawBotOutput["State"])
		}
	}
	c := s.Sims.AA.Counters()
	if got := c.Get("login"); got != 1 {
		t.Errorf("logins = %d for 3 deployments, want 1", got)
	}
	if got := c.Get("execute"); got != 3 {
		t.Errorf("executions = %d, want 3", got)
	}
	if got := c.Get("accessdetails"); got != 1 {
		t.Errorf("access-details calls = %d, want 1 (cached for 5 minutes)", got)
	}
}

// An unknown input variable fails fast and non-retryably, executed at most once.
func TestBadVariableFailsCleanly(t *testing.T) {
	s := newStack(t, stackOptions{})
	in := `{"profile":"cr","botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"noSuchVariable":"x"}}`
	_, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-bad-variable", "--input", in, "--codec-endpoint", s.codecEndpoint(), "-o", "json")
	if err == nil {
		t.Fatal("deployment with an unknown variable succeeded")
	}
	if !strings.Contains(err.Error(), "InvalidRequest") && !strings.Contains(err.Error(), "noSuchVariable") {
		t.Errorf("failure does not name the problem: %v", err)
	}
	if got := s.Sims.AA.Counters().Get("execute"); got > 1 {
		t.Errorf("executed %d times, want at most 1", got)
	}
	// Unknown profiles and empty paths never reach the platform.
	for _, in := range []string{
		`{"profile":"nope","botRepositoryPath":"x"}`,
		`{"profile":"cr","botRepositoryPath":""}`,
		`{"profile":"cr","botRepositoryPath":"x","botInput":{"v":null}}`,
	} {
		if _, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
			"--input", in, "--codec-endpoint", s.codecEndpoint(), "-o", "json"); err == nil || !strings.Contains(err.Error(), "InvalidInput") {
			t.Errorf("input %s: want an InvalidInput failure, got %v", in, err)
		}
	}
	if got := s.Sims.AA.Counters().Get("execute"); got > 1 {
		t.Errorf("bad inputs executed something: %d executions", got)
	}
}

// Histories hold no plaintext secret; with the codec endpoint they decode.
func TestHistoryWithoutCodecHoldsNoSecret(t *testing.T) {
	s := newStack(t, stackOptions{})
	if _, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-secrets", "--input", zipInput("95134"), "--codec-endpoint", s.codecEndpoint()); err != nil {
		t.Fatal(err)
	}
	secrets := s.Sims.AA.IssuedSecrets()
	if len(secrets) < 3 {
		t.Fatalf("simulator issued %d secrets; expected the API key, a session token and a task token", len(secrets))
	}
	for _, id := range []string{"it-secrets", contract.AASessionID("cr")} {
		plain, err := s.cli("workflow", "show", "--workflow-id", id, "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets {
			if secretscan.Contains(plain, sec) {
				t.Errorf("history of %s without the codec contains a secret (%d chars)", id, len(sec))
			}
		}
		if !strings.Contains(plain, base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))) {
			t.Errorf("history of %s has no encrypted payloads", id)
		}
	}
	for _, id := range []string{"it-secrets", contract.AASessionID("cr")} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		raw, _, err := secretscan.HistoryBytes(ctx, s.plainClient(t), id, "")
		cancel()
		if err != nil || len(raw) == 0 {
			t.Fatalf("raw history of %s: %v (%d bytes)", id, err, len(raw))
		}
		for _, sec := range secrets {
			if secretscan.Contains(string(raw), sec) {
				t.Errorf("raw history of %s contains a secret (%d chars)", id, len(sec))
			}
		}
	}
	decoded, err := s.cli("workflow", "show", "--workflow-id", "it-secrets", "-o", "json", "--codec-endpoint", s.codecEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(secretscan.PayloadData(decoded), `"California"`) {
		t.Errorf("history decoded through the codec endpoint does not show the result:\n%.2000s", decoded)
	}
	for _, sec := range secrets {
		if strings.Contains(s.Logs.String(), sec) {
			t.Errorf("worker log contains a secret (%d chars)", len(sec))
		}
	}
}

// A session's status query and token update work from the CLI.
func TestSessionQueryAndTokenUpdateFromCLI(t *testing.T) {
	s := newStack(t, stackOptions{})
	if _, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
		"--input", zipInput("60601"), "--codec-endpoint", s.codecEndpoint()); err != nil {
		t.Fatal(err)
	}
	status, err := s.cli("workflow", "query", "--workflow-id", contract.AASessionID("cr"), "--type", contract.QueryStatus,
		"--codec-endpoint", s.codecEndpoint(), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, `"generation": 1`) && !strings.Contains(status, `"generation":1`) {
		t.Errorf("status does not show generation 1:\n%s", status)
	}
	for _, sec := range s.Sims.AA.IssuedSecrets() {
		if strings.Contains(status, sec) {
			t.Error("status query result contains a secret")
		}
	}
	// The token answer is sealed with the worker-only key: through the codec
	// endpoint the CLI gets it still sealed, refuses to show it, and no
	// token leaks.
	upd, err := s.cli("workflow", "update", "execute", "--workflow-id", contract.AASessionID("cr"), "--name", contract.UpdateToken,
		"--input", `{"minValidity":"30s"}`, "--codec-endpoint", s.codecEndpoint(), "-o", "json")
	requireSealed(t, "token update through the codec endpoint", upd, err, s.Sims.AA.IssuedSecrets())
}

// sealedMarks are how a sealed payload's encoding shows, in clear or as the
// base64 of its metadata value.
var sealedMarks = []string{codec.EncodingSealed, base64.StdEncoding.EncodeToString([]byte(codec.EncodingSealed))}

// requireSealed checks that the CLI's answer (out, or its refusal err)
// names a sealed payload and shows none of secrets.
func requireSealed(t *testing.T, what, out string, err error, secrets []string) {
	t.Helper()
	if err != nil {
		out += "\n" + err.Error()
	}
	if !slices.ContainsFunc(sealedMarks, func(m string) bool { return strings.Contains(out, m) }) {
		t.Errorf("%s shows no sealed payload:\n%s", what, out)
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(out, sec) {
			t.Errorf("%s shows a token the Control Room issued", what)
		}
	}
}

func rawInput(s string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}
