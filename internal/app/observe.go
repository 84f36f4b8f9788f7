package app

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/rpaflow/rpaflow/internal/metrics"
	"github.com/rpaflow/rpaflow/providers/httpobs"
)

// TracerName is the instrumentation scope of rpaflow's own spans.
const TracerName = "rpaflow"

// ProviderObserver records every provider HTTP call in m (when non-nil) and,
// when tp is non-nil, as a client span under the caller's span (the activity's).
func ProviderObserver(m *metrics.Metrics, tp trace.TracerProvider) httpobs.Observer {
	var tracer trace.Tracer
	if tp != nil {
		tracer = tp.Tracer(TracerName)
	}
	return func(ctx context.Context, c httpobs.Call) {
		if m != nil {
			m.ProviderCall(ctx, c)
		}
		if tracer != nil {
			traceCall(ctx, tracer, c)
		}
	}
}

// traceCall records c after the fact, with its real start and end times. The
// span never holds the URL, headers or error text: any of them may carry a
// token or a secret the platform echoed.
func traceCall(ctx context.Context, tracer trace.Tracer, c httpobs.Call) {
	_, span := tracer.Start(ctx, c.Platform+" "+c.Op,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(c.Start),
		trace.WithAttributes(
			attribute.String("platform", c.Platform),
			attribute.String("op", c.Op),
			attribute.String("http.request.method", c.Method),
			attribute.Int("http.status_code", c.Status),
		))
	switch {
	case c.Status == 0 && c.Err != nil:
		span.SetStatus(codes.Error, "no HTTP answer")
	case c.Err != nil:
		span.SetStatus(codes.Error, "HTTP "+strconv.Itoa(c.Status))
	}
	span.End(trace.WithTimestamp(c.Start.Add(c.Duration)))
}

// newTracerProvider is the SDK tracer provider used when RPAFLOW_TRACING is
// on: spans get real trace and span ids, which Temporal's tracing interceptor
// propagates from client to workflow to activity to provider call. Spans go
// to sp when non-nil, and over OTLP/HTTP when OpenTelemetry's own
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (the exporter reads the other
// OTEL_EXPORTER_OTLP_* variables: headers, TLS, timeout, compression).
func newTracerProvider(ctx context.Context, sp sdktrace.SpanProcessor) (tp *sdktrace.TracerProvider, exporting bool, err error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "rpaflow-worker")),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, false, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if sp != nil {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("OTLP span exporter (OTEL_EXPORTER_OTLP_*): %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		exporting = true
	}
	return sdktrace.NewTracerProvider(opts...), exporting, nil
}
