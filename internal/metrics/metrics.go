// Package metrics exposes the Temporal SDK's and rpaflow's own metrics in
// Prometheus format, through OpenTelemetry.
package metrics

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/opentelemetry"
)

// MeterName is the instrumentation scope of every metric recorded here.
const MeterName = "rpaflow"

// secondsBuckets suit Temporal timers (seconds): task latencies are
// milliseconds, RPA runs take minutes. The OTel default buckets assume ms.
var secondsBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// Metrics owns a Prometheus registry fed by an OpenTelemetry meter provider.
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	meter    metric.Meter
	temporal client.MetricsHandler
}

// New builds a registry with the Go runtime and process collectors and an
// OpenTelemetry meter provider exporting into it.
func New() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: secondsBuckets}},
		)),
	)
	meter := provider.Meter(MeterName)
	return &Metrics{
		registry: reg,
		provider: provider,
		meter:    meter,
		temporal: opentelemetry.NewMetricsHandler(opentelemetry.MetricsHandlerOptions{
			Meter: meter,
			// Counters only go up; exported as Prometheus counters (_total).
			UseMonotonicCounters: true,
			// The default panics; a metric error must not take the worker down.
			OnError: otel.Handle,
		}),
	}, nil
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

// Registry returns the Prometheus registry, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Shutdown stops the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error { return m.provider.Shutdown(ctx) }
