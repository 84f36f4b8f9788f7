package integration

import (
	"encoding/json"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/test/promtext"
)

// grafanaVars are the Grafana variables the dashboard's queries may use,
// replaced by a duration before parsing.
var grafanaVars = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)

// dashboardQueries returns every panel title with its PromQL expressions.
func dashboardQueries(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana/rpaflow.json")
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []panel `json:"panels"`
	}
	var d struct {
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("rpaflow.json: %v", err)
	}
	out := map[string][]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			if _, dup := out[p.Title]; dup {
				t.Errorf("two panels are titled %q", p.Title)
			}
			for _, tg := range p.Targets {
				out[p.Title] = append(out[p.Title], tg.Expr)
			}
		}
	}
	walk(d.Panels)
	return out
}

// metricNames parses expr with Prometheus' own parser and returns the
// metric names its selectors name.
func metricNames(expr string) ([]string, error) {
	e, err := parser.ParseExpr(grafanaVars.ReplaceAllString(expr, "5m"))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		names = append(names, name)
		return nil
	})
	return names, nil
}

func TestMetricNamesParser(t *testing.T) {
	got, err := metricNames(`sum by (p) (rate(a_total{x="1"}[$__rate_interval])) / on (i) group_left max(b) - time()`)
	if err != nil || !slices.Equal(got, []string{"a_total", "b"}) {
		t.Errorf("metricNames = %v, %v", got, err)
	}
	if _, err := metricNames(`rate(a_total[5m]`); err == nil {
		t.Error("a broken query parsed")
	}
}

// documentedSeries reads the series list in internal/metrics' package
// comment; histograms also export _bucket, _sum and _count.
func documentedSeries(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../../internal/metrics/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^//\s+(rpaflow_[a-z_]+)(\{[^}]*\})?\s+(.*)$`).FindAllStringSubmatch(string(raw), -1) {
		out[m[1]] = true
		if strings.Contains(m[3], "(histogram)") {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[m[1]+s] = true
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("internal/metrics documents only %d series", len(out))
	}
	return out
}

// Every panel's PromQL parses, and every metric it names is one the worker
// exports: rpaflow's own as internal/metrics documents them and as a live
// worker serves them after a deployment, a job and a Hub check; the SDK's
// as the live worker serves them. So the dashboard cannot drift from the code.
func TestDashboardQueriesNameExportedMetrics(t *testing.T) {
	queries := dashboardQueries(t)
	if len(queries) < 15 {
		t.Fatalf("the dashboard has %d panels", len(queries))
	}
	// Short AA tokens, so a scheduled renewal (and its lag) happens here.
	// The API Task goes through a pool, so the pool's series exist too.
	// The job ends by webhook, so the events series exist too.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	oo := orchsim.DefaultOptions()
	oo.Webhooks = []orchsim.Webhook{{Name: "rpaflow", URL: "http://" + ln.Addr().String() + "/events/uipath/orch", Secret: itWebhookSecret,
		Enabled: true, Events: []string{"job.completed", "job.faulted", "job.stopped"}}}
	s := newStack(t, stackOptions{Sims: simenv.Options{AATokenLifetime: 8 * time.Second, Orchestrator: &oo}, EventsListener: ln,
		Extra: map[string]string{"RPAFLOW_CR_POOLS": "apitask=2", "RPAFLOW_ORCH_WEBHOOK_SECRET": itWebhookSecret}})
	for _, args := range [][]string{
		{"--type", contract.DeployAPITaskWorkflow, "--workflow-id", "it-dash-zip", "--input", zipInput("95134")},
		{"--type", contract.StartJobWorkflow, "--workflow-id", "it-dash-job", "--input", `{"profile":"orch","folder":"Shared","process":"Invoices"}`},
	} {
		if _, err := s.cli(append(append([]string{"workflow", "execute", "--task-queue", s.TaskQueue}, args...), "--codec-endpoint", s.codecEndpoint())...); err != nil {
			t.Fatal(err)
		}
	}
	s.startHubWatch(t)
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		body = scrape(t, "http://"+s.HTTPAddr+"/metrics")
		_, hub := promtext.First(body, "rpaflow_hub_token_days_to_expiry", nil)
		_, lag := promtext.First(body, "rpaflow_session_renewal_lag_seconds_count", nil)
		if hub && lag || time.Now().After(deadline) {
			break
		}
	}
	live := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]`).FindAllStringSubmatch(body, -1) {
		live[m[1]] = true
	}
	documented := documentedSeries(t)

	// Series that appear only when something goes wrong.
	onlyOnTrouble := map[string]bool{"rpaflow_session_auth_failed_total": true, "rpaflow_run_events_unmatched_total": true}
	// The SDK records an activity's schedule-to-start only for an activity
	// it polled from the task queue; with eager activities on (the
	// recommended server configuration) an idle worker like this one gets
	// every activity with its workflow task's completion. The panel shows
	// the activities that waited, the ones it is for.
	onlyWhenQueued := map[string]bool{"temporal_activity_schedule_to_start_latency_seconds_bucket": true}
	for title, exprs := range queries {
		for _, expr := range exprs {
			names, err := metricNames(expr)
			if err != nil {
				t.Errorf("panel %q: %q does not parse: %v", title, expr, err)
				continue
			}
			if len(names) == 0 {
				t.Errorf("panel %q: %q names no metric", title, expr)
			}
			for _, n := range names {
				switch {
				case strings.HasPrefix(n, "rpaflow_") && !documented[n]:
					t.Errorf("panel %q names %s, which internal/metrics does not document", title, n)
				case strings.HasPrefix(n, "rpaflow_") && !live[n] && !onlyOnTrouble[n]:
					t.Errorf("panel %q names %s, which the live worker does not serve", title, n)
				case !strings.HasPrefix(n, "rpaflow_") && !live[n] && !onlyWhenQueued[n]:
					t.Errorf("panel %q names %s, which the live worker does not serve", title, n)
				}
			}
		}
	}
	if t.Failed() {
		var names []string
		for n := range live {
			if strings.HasPrefix(n, "temporal_") || strings.HasPrefix(n, "rpaflow_") {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		t.Logf("the live worker serves:\n%s", strings.Join(names, "\n"))
	}
}
