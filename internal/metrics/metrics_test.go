package metrics

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
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

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)

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
		`(?m)^go_goroutines `,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("metrics output has no line matching %s", re)
		}
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
