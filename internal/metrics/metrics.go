// Package metrics exposes the Temporal SDK's and rpaflow's own metrics in
// Prometheus format, through OpenTelemetry.
//
// rpaflow's series on /metrics (OTel adds _total to counters and _seconds to
// second-valued histograms):
//
//	rpaflow_provider_requests_total{platform,op,status}            every provider HTTP call; status "0" = no answer
//	rpaflow_provider_request_duration_seconds{platform,op,status}  its latency (histogram)
//	rpaflow_session_renewals_total{profile,session,outcome}        outcome login | refresh | failure (session workflows)
//	rpaflow_session_auth_failed_total{profile,session}             credentials refused; a human must act
//	rpaflow_session_token_expiry_timestamp_seconds{profile,session} Unix time the current token expires; 0 once the session ended
//	rpaflow_session_renewal_lag_seconds{profile,session}           how late scheduled renewals start (histogram)
//	rpaflow_access_details_age_seconds{profile}                    age of the API Task access details at use (histogram)
//	rpaflow_deployments_total{workflow_type,profile,outcome}       DeployAPITask, DeployBot, StartJob; outcome success | failure | canceled
//	rpaflow_deployment_duration_seconds{workflow_type,profile,outcome} start to end in workflow time (histogram)
//	rpaflow_starts_adopted_total{start,profile}                    a retry found the job, queue item or deployment an earlier attempt started
//	rpaflow_hub_token_days_to_expiry{profile}                      Automation Hub Open API token
//	rpaflow_pool_limit{profile,pool}                               a capacity pool's configured limit (pool workflows)
//	rpaflow_pool_effective_limit{profile,pool}                     its limit after capacity answers
//	rpaflow_pool_in_use{profile,pool}                              slots held
//	rpaflow_pool_waiting{profile,pool}                             deployments queued
//	rpaflow_pool_oldest_wait_timestamp_seconds{profile,pool}       Unix time the oldest queued deployment joined; 0 when none waits
//	rpaflow_pool_grants_total{profile,pool,priority}               slots granted
//	rpaflow_pool_capacity_answers_total{profile,pool,answer}       the platform's capacity answers: refused | pending
//	rpaflow_pool_wait_seconds{profile,pool,priority}               queue to grant (histogram)
//	rpaflow_poll_budget_per_minute                                 RPAFLOW_POLL_BUDGET_PER_MINUTE of this worker
//	rpaflow_poll_budget_calls_total{profile}                       status calls the budget let through
//	rpaflow_poll_budget_wait_seconds{profile}                      how long each waited for the budget (histogram)
//	rpaflow_events_total{platform,profile,outcome,reason}          events receiver: received | verified | refused (reason) | duplicate | ignored | delivered
//	rpaflow_run_events_matched_total{profile,subject}              events forwarded to a waiting workflow (RunEvents workflows)
//	rpaflow_run_events_unmatched_total{profile,subject}            events no wait claimed
//	rpaflow_run_events_duplicate_total{profile,subject}            events dropped as seen before
//	rpaflow_run_reads_total{profile,subject,reason}                reads of event-driven waits: event | reconcile | recheck
//	rpaflow_run_end_to_known_seconds{profile,subject,via}          platform's end of a run to the wait knowing it, via event | reconcile (histogram)
//
// Seconds until a session token expires is a query, not a series:
//
//	(max by (profile, session) (rpaflow_session_token_expiry_timestamp_seconds) > 0) - time()
//
// (max: a session that moved between workers leaves an older series on the
// worker it left until that worker restarts.)
//
// Exporting the expiry timestamp (Prometheus' "timestamps, not time since")
// stays right between scrapes and renewals without the worker tracking
// sessions, and needs no state beyond what the session workflow already emits.
// Workflow-emitted series come from the worker that ran the workflow task;
// after a restart they reappear with the session's next renewal (replays
// emit nothing).
package metrics

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/rpaflow/rpaflow/providers/httpobs"
)

// MeterName is the instrumentation scope of every metric recorded here.
const MeterName = "rpaflow"

// secondsBuckets suit Temporal timers (seconds): task latencies are
// milliseconds, RPA runs take minutes. The OTel default buckets assume ms.
var secondsBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// lagBuckets double from 50 ms to 3.4 min: renewal lag is judged as a
// fraction of token lifetimes from seconds (tests) to an hour (UiPath), and
// 2 % of a 20 s or 20 min token (0.4 s, 24 s) lies on or near a boundary.
var lagBuckets = []float64{0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8}

// sessionLabels are the labels kept on per-session series. The SDK tags a
// workflow's metrics with its type, worker type, client and activity type
// too; for a series per session those add nothing (session names the
// workflow type) and were a third of a /metrics scrape at 1,000 sessions.
var sessionLabels = attribute.NewAllowKeysFilter("profile", "session", "outcome", "namespace", "task_queue")

// view gives second-valued histograms their buckets and per-session series
// their labels (one view, so no instrument is exported twice).
func view(i sdkmetric.Instrument) (sdkmetric.Stream, bool) {
	s := sdkmetric.Stream{Name: i.Name, Description: i.Description, Unit: i.Unit}
	matched := false
	if i.Kind == sdkmetric.InstrumentKindHistogram && i.Unit == "s" {
		b := secondsBuckets
		if i.Name == "rpaflow_session_renewal_lag" {
			b = lagBuckets
		}
		s.Aggregation = sdkmetric.AggregationExplicitBucketHistogram{Boundaries: b}
		matched = true
	}
	if strings.HasPrefix(i.Name, "rpaflow_session_") {
		s.AttributeFilter = sessionLabels
		matched = true
	}
	return s, matched
}

// Metrics owns a Prometheus registry fed by an OpenTelemetry meter provider.
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	meter    metric.Meter
	temporal client.MetricsHandler

	providerRequests metric.Int64Counter
	providerDuration metric.Float64Histogram
}

// New builds a registry with the Go runtime and process collectors and an
// OpenTelemetry meter provider exporting into it. With profiles, a
// "profile" label on Temporal-side metrics keeps only those names; any
// other value (a workflow input nobody validated yet) becomes
// UnknownProfile, so callers cannot mint series.
func New(profiles ...string) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	// No otel_scope_* labels: every series comes from the one meter, and they
	// were a fifth of a scrape's bytes.
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, err
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithView(view),
	)
	meter := provider.Meter(MeterName)
	requests, err := meter.Int64Counter("rpaflow_provider_requests",
		metric.WithDescription("Provider HTTP calls by platform, operation and HTTP status (0: no answer)."))
	if err != nil {
		return nil, err
	}
	duration, err := meter.Float64Histogram("rpaflow_provider_request_duration", metric.WithUnit("s"),
		metric.WithDescription("Provider HTTP call latency, request sent to answer read."))
	if err != nil {
		return nil, err
	}
	var temporal client.MetricsHandler = opentelemetry.NewMetricsHandler(opentelemetry.MetricsHandlerOptions{
		Meter: meter,
		// Counters only go up; exported as Prometheus counters (_total).
		UseMonotonicCounters: true,
		// The default panics; a metric error must not take the worker down.
		OnError: otel.Handle,
	})
	if len(profiles) > 0 {
		temporal = profileLimiter{MetricsHandler: temporal, known: profiles}
	}
	return &Metrics{
		providerRequests: requests,
		providerDuration: duration,
		registry:         reg,
		provider:         provider,
		meter:            meter,
		temporal:         temporal,
	}, nil
}

// UnknownProfile is the profile label of metrics tagged with a name that
// is not a configured profile.
const UnknownProfile = "unknown"

// profileLimiter replaces unconfigured profile names in tags.
type profileLimiter struct {
	client.MetricsHandler
	known []string
}

func (l profileLimiter) WithTags(tags map[string]string) client.MetricsHandler {
	if p, ok := tags["profile"]; ok && !slices.Contains(l.known, p) {
		tags = maps.Clone(tags)
		tags["profile"] = UnknownProfile
	}
	return profileLimiter{MetricsHandler: l.MetricsHandler.WithTags(tags), known: l.known}
}

// Handler serves the registry in Prometheus text exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Temporal returns the handler for client.Options.MetricsHandler. Workflows
// and activities reach it through workflow.GetMetricsHandler and
// activity.GetMetricsHandler, so rpaflow's own metrics share /metrics with
// the SDK's.
func (m *Metrics) Temporal() client.MetricsHandler { return m.temporal }

// ProviderCall records one provider HTTP call; it is an httpobs.Observer.
func (m *Metrics) ProviderCall(ctx context.Context, c httpobs.Call) {
	attrs := metric.WithAttributeSet(attribute.NewSet(
		attribute.String("platform", c.Platform),
		attribute.String("op", c.Op),
		attribute.String("status", strconv.Itoa(c.Status)),
	))
	m.providerRequests.Add(ctx, 1, attrs)
	m.providerDuration.Record(ctx, c.Duration.Seconds(), attrs)
}

// PollBudget exports the worker's poll budget and returns the observer
// activities.Budget calls for each status call it lets through. Budget use is
// rate(rpaflow_poll_budget_calls_total[5m]) * 60 / rpaflow_poll_budget_per_minute
// per worker and profile; near 1, waits queue behind each other.
func (m *Metrics) PollBudget(perMinute int) (func(ctx context.Context, profile string, waited time.Duration), error) {
	_, err := m.meter.Int64ObservableGauge("rpaflow_poll_budget_per_minute",
		metric.WithDescription("Status calls per minute per profile this worker allows (RPAFLOW_POLL_BUDGET_PER_MINUTE)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(perMinute))
			return nil
		}))
	if err != nil {
		return nil, err
	}
	calls, err := m.meter.Int64Counter("rpaflow_poll_budget_calls",
		metric.WithDescription("Status calls the poll budget let through, by profile."))
	if err != nil {
		return nil, err
	}
	wait, err := m.meter.Float64Histogram("rpaflow_poll_budget_wait", metric.WithUnit("s"),
		metric.WithDescription("Time a status call waited for the poll budget, by profile."))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, profile string, waited time.Duration) {
		attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("profile", profile)))
		calls.Add(ctx, 1, attrs)
		wait.Record(ctx, waited.Seconds(), attrs)
	}, nil
}

// Events returns the observer of the events receiver: one count per
// request outcome (received, verified, refused by reason, duplicate,
// ignored, delivered), by platform and profile.
func (m *Metrics) Events() (func(platform, profile, outcome, reason string), error) {
	c, err := m.meter.Int64Counter("rpaflow_events",
		metric.WithDescription("Events receiver outcomes by platform, profile, outcome (received, verified, refused, duplicate, ignored, delivered) and refusal reason."))
	if err != nil {
		return nil, err
	}
	return func(platform, profile, outcome, reason string) {
		c.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("platform", platform),
			attribute.String("profile", profile), attribute.String("outcome", outcome), attribute.String("reason", reason))))
	}, nil
}

// Registry returns the Prometheus registry, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Shutdown stops the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error { return m.provider.Shutdown(ctx) }
