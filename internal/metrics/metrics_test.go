package metrics

import (
	"fmt"
	"math"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/test/promtext"
)

func TestTemporalMetricsAppearOnHandler(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	h := m.Temporal().WithTags(map[string]string{"profile": "cr"})
	h.Counter("rpaflow_logins").Inc(2)
	h.Counter("rpaflow_logins").Inc(1)
	h.Gauge("rpaflow_token_remaining_seconds").Update(42.5)
	h.Timer("rpaflow_refresh_latency").Record(1500 * time.Millisecond)
	h.Timer("rpaflow_session_renewal_lag").Record(300 * time.Millisecond)

	body := scrape(t, m)

	for _, re := range []string{
		`(?m)^# TYPE rpaflow_logins_total counter$`,
		`(?m)^rpaflow_logins_total\{[^}]*profile="cr"[^}]*\} 3$`,
		`(?m)^# TYPE rpaflow_token_remaining_seconds gauge$`,
		`(?m)^rpaflow_token_remaining_seconds\{[^}]*profile="cr"[^}]*\} 42\.5$`,
		`(?m)^# TYPE rpaflow_refresh_latency_seconds histogram$`,
		`(?m)^rpaflow_refresh_latency_seconds_count\{[^}]*profile="cr"[^}]*\} 1$`,
		`(?m)^rpaflow_refresh_latency_seconds_sum\{[^}]*\} 1\.5$`,
		`(?m)^rpaflow_refresh_latency_seconds_bucket\{[^}]*le="2\.5"[^}]*\} 1$`,
		`(?m)^rpaflow_refresh_latency_seconds_bucket\{[^}]*le="1"[^}]*\} 0$`,
		// Renewal lag has its own doubling buckets (0.4 s = 2 % of a 20 s token).
		`(?m)^rpaflow_session_renewal_lag_seconds_bucket\{[^}]*le="0\.2"[^}]*\} 0$`,
		`(?m)^rpaflow_session_renewal_lag_seconds_bucket\{[^}]*le="0\.4"[^}]*\} 1$`,
		`(?m)^go_goroutines `,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("metrics output has no line matching %s", re)
		}
	}
	if n := strings.Count(body, "# TYPE rpaflow_session_renewal_lag_seconds histogram"); n != 1 {
		t.Errorf("renewal lag exported %d times, want once", n)
	}
	if strings.Contains(filterLines(body, "rpaflow_session_renewal_lag_seconds_bucket"), `le="0.25"`) {
		t.Error("renewal lag also has the general seconds buckets")
	}
	if t.Failed() {
		t.Log(filterLines(body, "rpaflow_"))
	}
	if err := m.Shutdown(t.Context()); err != nil {
		t.Error(err)
	}
}

func filterLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestProviderCallsByPlatformOpAndStatus(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	m.ProviderCall(ctx, httpobs.Call{Platform: "automationanywhere", Op: "login", Status: 200, Duration: 30 * time.Millisecond})
	m.ProviderCall(ctx, httpobs.Call{Platform: "automationanywhere", Op: "login", Status: 200, Duration: 70 * time.Millisecond})
	m.ProviderCall(ctx, httpobs.Call{Platform: "automationanywhere", Op: "login", Status: 401, Duration: 2 * time.Second})
	m.ProviderCall(ctx, httpobs.Call{Platform: "uipath-orchestrator", Op: "token", Status: 0, Duration: time.Second})

	body := scrape(t, m)
	for _, re := range []string{
		`(?m)^# TYPE rpaflow_provider_requests_total counter$`,
		`(?m)^# TYPE rpaflow_provider_request_duration_seconds histogram$`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("metrics output has no line matching %s", re)
		}
	}
	aaLogin := func(status string, more ...string) map[string]string {
		l := map[string]string{"platform": "automationanywhere", "op": "login", "status": status}
		for i := 0; i+1 < len(more); i += 2 {
			l[more[i]] = more[i+1]
		}
		return l
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rpaflow_provider_requests_total", aaLogin("200"), 2},
		{"rpaflow_provider_requests_total", aaLogin("401"), 1},
		{"rpaflow_provider_requests_total", map[string]string{"platform": "uipath-orchestrator", "op": "token", "status": "0"}, 1},
		{"rpaflow_provider_request_duration_seconds_sum", aaLogin("200"), 0.1},
		{"rpaflow_provider_request_duration_seconds_count", aaLogin("401"), 1},
		{"rpaflow_provider_request_duration_seconds_bucket", aaLogin("200", "le", "0.05"), 1},
		{"rpaflow_provider_request_duration_seconds_bucket", aaLogin("200", "le", "0.1"), 2},
		{"rpaflow_provider_request_duration_seconds_bucket", aaLogin("401", "le", "1"), 0},
	} {
		got, ok := promtext.First(body, c.name, c.labels)
		if !ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if t.Failed() {
		t.Log(filterLines(body, "rpaflow_provider"))
	}
}

// scrape serves m's handler and reads it once.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	body, err := promtext.Scrape(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// The poll budget's series: the configured budget, calls let through and
// their wait, per profile.
func TestPollBudgetSeries(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	observe, err := m.PollBudget(90)
	if err != nil {
		t.Fatal(err)
	}
	observe(t.Context(), "orch", 0)
	observe(t.Context(), "orch", 3*time.Second)
	observe(t.Context(), "cr", 0)
	body := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rpaflow_poll_budget_per_minute", nil, 90},
		{"rpaflow_poll_budget_calls_total", map[string]string{"profile": "orch"}, 2},
		{"rpaflow_poll_budget_calls_total", map[string]string{"profile": "cr"}, 1},
		{"rpaflow_poll_budget_wait_seconds_count", map[string]string{"profile": "orch"}, 2},
		{"rpaflow_poll_budget_wait_seconds_sum", map[string]string{"profile": "orch"}, 3},
		{"rpaflow_poll_budget_wait_seconds_bucket", map[string]string{"profile": "orch", "le": "2.5"}, 1},
	} {
		if v, ok := promtext.First(body, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if t.Failed() {
		t.Log(filterLines(body, "rpaflow_poll"))
	}
}

// Per-session series keep only the labels that tell sessions apart; the
// SDK's workflow tags and the OTel scope would repeat on every line.
func TestSessionSeriesLabels(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	sdkTags := map[string]string{"namespace": "default", "task_queue": "rpaflow", "workflow_type": "ControlRoomSession",
		"worker_type": "none", "activity_type": "none", "client_name": "temporal_go"}
	h := m.Temporal().WithTags(sdkTags).WithTags(map[string]string{"profile": "cr", "session": "ControlRoomSession"})
	h.Timer("rpaflow_session_renewal_lag").Record(300 * time.Millisecond)
	h.WithTags(map[string]string{"outcome": "refresh"}).Counter("rpaflow_session_renewals").Inc(1)
	h.Gauge("rpaflow_session_token_expiry_timestamp_seconds").Update(1e9)
	m.Temporal().WithTags(sdkTags).WithTags(map[string]string{"profile": "cr", "outcome": "success"}).Counter("rpaflow_deployments").Inc(1)
	body := scrape(t, m)

	want := map[string]string{
		"rpaflow_session_renewal_lag_seconds_bucket":     `{namespace="default",profile="cr",session="ControlRoomSession",task_queue="rpaflow",le="0.4"} 1`,
		"rpaflow_session_renewals_total":                 `{namespace="default",outcome="refresh",profile="cr",session="ControlRoomSession",task_queue="rpaflow"} 1`,
		"rpaflow_session_token_expiry_timestamp_seconds": `{namespace="default",profile="cr",session="ControlRoomSession",task_queue="rpaflow"} 1e+09`,
	}
	for name, line := range want {
		if !strings.Contains(body, name+line+"\n") {
			t.Errorf("no line %s%s in:\n%s", name, line, filterLines(body, name))
		}
	}
	// Other series keep their tags: deployments are grouped by workflow type.
	if !regexp.MustCompile(`(?m)^rpaflow_deployments_total\{[^}]*workflow_type="ControlRoomSession"[^}]*\} 1$`).MatchString(body) {
		t.Errorf("rpaflow_deployments_total lost its workflow_type:\n%s", filterLines(body, "rpaflow_deployments"))
	}
	if strings.Contains(body, "otel_scope_") {
		t.Errorf("scrape carries otel_scope_* labels:\n%s", filterLines(body, "otel_scope_"))
	}
}

// A workflow input's profile becomes a label only if it is configured:
// any other value shares one "unknown" series, so nobody can mint series.
func TestProfileLabelLimitedToConfiguredProfiles(t *testing.T) {
	m, err := New("cr", "orch")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		m.Temporal().WithTags(map[string]string{"profile": fmt.Sprintf("attacker-%d", i), "outcome": "failure"}).Counter("rpaflow_deployments").Inc(1)
	}
	m.Temporal().WithTags(map[string]string{"workflow_type": "StartJob"}).WithTags(map[string]string{"profile": "orch"}).Counter("rpaflow_deployments").Inc(1)
	body := filterLines(scrape(t, m), "rpaflow_deployments_total{")
	if strings.Contains(body, "attacker") || strings.Count(body, "\n")+1 != 2 ||
		!strings.Contains(body, `profile="unknown"`) || !regexp.MustCompile(`profile="unknown"[^}]*\} 50`).MatchString(body) || !strings.Contains(body, `profile="orch"`) {
		t.Errorf("series:\n%s\nwant one unknown series counting 50 and one for orch", body)
	}
}
