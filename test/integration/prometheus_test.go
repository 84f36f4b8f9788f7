package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/devserver"
)

// alertForInTest replaces the credentials alert's `for` in the test's copy of
// the rules, so the test waits seconds, not a minute.
const alertForInTest = 5 * time.Second

// A real Prometheus scrapes a worker with one profile whose credentials the
// Control Room refuses and one whose it accepts: RpaflowCredentialsRefused
// fires for the bad profile only, after its `for` window and within a
// bounded time of the refusal.
func TestPrometheusFiresCredentialsAlertForBadProfileOnly(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("RPAFLOW_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("no prometheus binary on PATH (Debian package prometheus; .ci/run installs it)")
		}
		t.Skip("no prometheus binary on PATH")
	}
	s := newStack(t, stackOptions{Extra: map[string]string{
		"RPAFLOW_PROFILES":       "cr,orch,hub,bad",
		"RPAFLOW_BAD_KIND":       "automationanywhere",
		"RPAFLOW_BAD_URL":        "{simURL}",
		"RPAFLOW_BAD_ALLOW_HTTP": "true",
		"RPAFLOW_BAD_USERNAME":   aasim.DemoUsername,
		"RPAFLOW_BAD_API_KEY":    "not-the-api-key",
	}})

	// The rules as shipped, the credentials alert's `for` shortened.
	rules, err := os.ReadFile("../../deploy/prometheus/rpaflow-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	forRe := regexp.MustCompile(`(?s)(alert: RpaflowCredentialsRefused\n.*?\n\s+for: )(\S+)`)
	if !forRe.Match(rules) {
		t.Fatal("rpaflow-alerts.yml: no `for:` found for RpaflowCredentialsRefused")
	}
	rules = forRe.ReplaceAll(rules, []byte("${1}"+alertForInTest.String()))
	dir := t.TempDir()
	promAddr, err := devserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: rpaflow
    static_configs: [{targets: ["%s"]}]
`, s.HTTPAddr)
	for name, body := range map[string][]byte{"rules.yml": rules, "prometheus.yml": []byte(cfg)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	prom := exec.CommandContext(ctx, promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr, "--log.level=warn")
	promLog := &lockedWriter{buf: &bytes.Buffer{}}
	prom.Stdout, prom.Stderr = promLog, promLog
	if err := prom.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = prom.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", tail(promLog.String(), 4000))
		}
	})

	// One session per profile; the bad one gives up at its first refusal.
	for _, in := range []contract.SessionInput{{Profile: "cr"}, {Profile: "bad", MaxAuthFailures: 1}} {
		id := "aa-session:" + in.Profile
		if _, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue},
			contract.ControlRoomSessionWorkflow, in); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Client.TerminateWorkflow(context.Background(), id, "", "test done") })
	}
	started := time.Now()

	type alert struct {
		Labels   map[string]string `json:"labels"`
		State    string            `json:"state"`
		ActiveAt time.Time         `json:"activeAt"`
	}
	alerts := func() []alert {
		resp, err := http.Get("http://" + promAddr + "/api/v1/alerts")
		if err != nil {
			return nil // not up yet
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil // starting: Prometheus answers 503 "Service Unavailable" until it is ready
		}
		var r struct {
			Data struct {
				Alerts []alert `json:"alerts"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatalf("prometheus /api/v1/alerts: %v", err)
		}
		return r.Data.Alerts
	}
	var firing *alert
	var firedAt time.Time
	for deadline := time.Now().Add(90 * time.Second); firing == nil && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		for _, a := range alerts() {
			if a.Labels["alertname"] != "RpaflowCredentialsRefused" {
				continue
			}
			if a.Labels["profile"] != "bad" {
				t.Fatalf("RpaflowCredentialsRefused is %s for profile %q: %v", a.State, a.Labels["profile"], a.Labels)
			}
			if a.State == "firing" {
				firing, firedAt = &a, time.Now()
			}
		}
	}
	if firing == nil {
		t.Fatalf("RpaflowCredentialsRefused did not fire for profile bad within 90 s; worker metrics:\n%s",
			filterRpaflow(scrape(t, "http://"+s.HTTPAddr+"/metrics")))
	}
	if held := firedAt.Sub(firing.ActiveAt); held < alertForInTest {
		t.Errorf("the alert fired %s after it became active, before its for window (%s)", held, alertForInTest)
	}
	// Session start, one refused login, a scrape, the for window and an
	// evaluation: well under half a minute on an idle machine.
	if took := firedAt.Sub(started); took > 45*time.Second {
		t.Errorf("the alert fired %s after the sessions started, want under 45 s", took)
	}
	t.Logf("RpaflowCredentialsRefused firing for profile bad %s after the sessions started (active at %s)", firedAt.Sub(started).Round(time.Second), firing.ActiveAt.Format(time.RFC3339))

	// The good profile's session logged in, was scraped, and stays silent.
	body := scrape(t, "http://"+s.HTTPAddr+"/metrics")
	if !strings.Contains(body, `profile="cr"`) {
		t.Errorf("the good profile's session has no series yet:\n%s", filterRpaflow(body))
	}
	time.Sleep(3 * time.Second)
	for _, a := range alerts() {
		if a.Labels["alertname"] == "RpaflowCredentialsRefused" && a.Labels["profile"] != "bad" {
			t.Errorf("RpaflowCredentialsRefused is %s for profile %q", a.State, a.Labels["profile"])
		}
	}
}

func filterRpaflow(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "rpaflow_session") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
