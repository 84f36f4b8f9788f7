package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/test/promtext"
)

// After one API Task deployment, one Orchestrator job and one Automation Hub
// check, the worker's /metrics shows the SDK's series and rpaflow's own:
// provider calls by platform/op/status, session logins, deployments by
// outcome with their duration, access-details age and the Hub token's days
// to expiry. With tracing on, workflow and activity spans exist and each
// provider call is a span below its activity's.
func TestMetricsAfterDeployJobAndHubCheck(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	s := newStack(t, stackOptions{Extra: map[string]string{"RPAFLOW_TRACING": "true"}, SpanProcessor: spans})
	if _, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-metrics-zip", "--input", zipInput("95134"), "--codec-endpoint", s.codecEndpoint(), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cli("workflow", "execute", "--type", contract.StartJobWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-metrics-job", "--input", `{"profile":"orch","folder":"Shared","process":"Invoices"}`,
		"--codec-endpoint", s.codecEndpoint(), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	s.startHubWatch(t)

	// The watch checks right after it starts; wait for its gauge (bounded).
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		body = scrape(t, "http://"+s.HTTPAddr+"/metrics")
		if _, ok := promtext.First(body, "rpaflow_hub_token_days_to_expiry", map[string]string{"profile": "hub"}); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	now := float64(time.Now().Unix())

	type check struct {
		name   string
		labels map[string]string
		ok     func(v float64) bool
		want   string
	}
	atLeast := func(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }
	exactly := func(n float64) func(float64) bool { return func(v float64) bool { return v == n } }
	between := func(lo, hi float64) func(float64) bool { return func(v float64) bool { return v >= lo && v <= hi } }
	aa := func(op, status string) map[string]string {
		return map[string]string{"platform": "automationanywhere", "op": op, "status": status}
	}
	deploy := func(wf string) map[string]string {
		return map[string]string{"workflow_type": wf, "outcome": "success", "task_queue": s.TaskQueue}
	}
	for _, c := range []check{
		// The SDK's own, through the same OTel → Prometheus exporter.
		{"temporal_workflow_completed_total", map[string]string{"workflow_type": contract.DeployAPITaskWorkflow}, exactly(1), "1"},
		{"temporal_workflow_completed_total", map[string]string{"workflow_type": contract.StartJobWorkflow}, exactly(1), "1"},
		{"temporal_activity_execution_latency_seconds_count", map[string]string{"activity_type": "AAExecuteAPITask"}, atLeast(1), "≥ 1"},
		// Provider HTTP calls.
		{"rpaflow_provider_requests_total", aa("login", "200"), exactly(1), "1 (one session login)"},
		{"rpaflow_provider_requests_total", aa("accessDetails", "200"), exactly(1), "1"},
		{"rpaflow_provider_requests_total", aa("execute", "200"), exactly(1), "1"},
		{"rpaflow_provider_requests_total", map[string]string{"platform": "uipath-orchestrator", "op": "token", "status": "200"}, exactly(1), "1"},
		{"rpaflow_provider_requests_total", map[string]string{"platform": "uipath-orchestrator", "op": "startJobs", "status": "201"}, exactly(1), "1"},
		{"rpaflow_provider_requests_total", map[string]string{"platform": "uipath-automationhub", "op": "authinfo", "status": "200"}, atLeast(1), "≥ 1"},
		{"rpaflow_provider_request_duration_seconds_count", aa("execute", "200"), exactly(1), "1"},
		// Sessions.
		{"rpaflow_session_renewals_total", map[string]string{"profile": "cr", "session": contract.ControlRoomSessionWorkflow, "outcome": "login"}, exactly(1), "1"},
		{"rpaflow_session_renewals_total", map[string]string{"profile": "orch", "session": contract.OrchestratorSessionWorkflow, "outcome": "login"}, exactly(1), "1"},
		{"rpaflow_session_token_expiry_timestamp_seconds", map[string]string{"profile": "cr"}, between(now, now+3600), "in the coming hour"},
		{"rpaflow_access_details_age_seconds_count", map[string]string{"profile": "cr"}, exactly(1), "1"},
		// Deployments.
		{"rpaflow_deployments_total", deploy(contract.DeployAPITaskWorkflow), exactly(1), "1"},
		{"rpaflow_deployments_total", deploy(contract.StartJobWorkflow), exactly(1), "1"},
		{"rpaflow_deployment_duration_seconds_count", deploy(contract.DeployAPITaskWorkflow), exactly(1), "1"},
		{"rpaflow_deployment_duration_seconds_sum", deploy(contract.DeployAPITaskWorkflow), between(0, 120), "0..120 s"},
		{"rpaflow_deployment_duration_seconds_bucket", merge(deploy(contract.StartJobWorkflow), "le", "+Inf"), exactly(1), "1"},
		// Automation Hub: the demo token expires 30 days from today (a date).
		{"rpaflow_hub_token_days_to_expiry", map[string]string{"profile": "hub"}, between(29, 31), "about 30"},
	} {
		v, found := promtext.First(body, c.name, c.labels)
		if !found || !c.ok(v) {
			t.Errorf("%s%v = %v (found %v), want %s", c.name, c.labels, v, found, c.want)
		}
	}
	if _, found := promtext.First(body, "rpaflow_deployments_total", map[string]string{"outcome": "failure"}); found {
		t.Error("a failed deployment was counted; both succeeded")
	}
	if strings.Contains(body, "X-Authorization") || strings.Contains(body, "token=") {
		t.Error("/metrics mentions a header or URL query")
	}
	if t.Failed() {
		t.Logf("rpaflow series:\n%s", grepLines(body, "rpaflow_"))
	}
	checkSpans(t, spans.Ended(), s.SimURL)
}

// checkSpans: the deploy workflow ran under a workflow span, and each
// provider call hangs below the activity that made it, with its attributes.
func checkSpans(t *testing.T, ended []sdktrace.ReadOnlySpan, simURL string) {
	t.Helper()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	names := map[string]int{}
	for _, sp := range ended {
		byID[sp.SpanContext().SpanID()] = sp
		names[sp.Name()]++
	}
	for _, want := range []string{"RunWorkflow:" + contract.DeployAPITaskWorkflow, "RunWorkflow:" + contract.StartJobWorkflow,
		"RunActivity:AAExecuteAPITask", "RunActivity:OrchStartJob"} {
		if names[want] == 0 {
			t.Errorf("no span %q; spans: %v", want, names)
		}
	}
	for call, parent := range map[string]string{
		"automationanywhere execute":    "RunActivity:AAExecuteAPITask",
		"automationanywhere login":      "RunActivity:AARenewSession",
		"uipath-orchestrator startJobs": "RunActivity:OrchStartJob",
		"uipath-automationhub authinfo": "RunActivity:HubValidateToken",
	} {
		var found bool
		for _, sp := range ended {
			if sp.Name() != call {
				continue
			}
			found = true
			if p, ok := byID[sp.Parent().SpanID()]; !ok || p.Name() != parent {
				t.Errorf("span %q has parent %v, want %q", call, sp.Parent().SpanID(), parent)
			}
			attrs := map[string]string{}
			for _, kv := range sp.Attributes() {
				attrs[string(kv.Key)] = kv.Value.Emit()
				if strings.Contains(kv.Value.Emit(), simURL) {
					t.Errorf("span %q attribute %s carries the platform URL", call, kv.Key)
				}
			}
			platform, op, _ := strings.Cut(call, " ")
			if attrs["platform"] != platform || attrs["op"] != op || !strings.HasPrefix(attrs["http.status_code"], "20") {
				t.Errorf("span %q attributes = %v", call, attrs)
			}
		}
		if !found {
			t.Errorf("no provider span %q; spans: %v", call, names)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	body, err := promtext.Scrape(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func merge(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
