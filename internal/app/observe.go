package app

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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
// propagates from client to workflow to activity to provider call. It has no
// exporter (none is a dependency yet); sp, if non-nil, receives the spans.
func newTracerProvider(sp sdktrace.SpanProcessor) *sdktrace.TracerProvider {
	if sp == nil {
		return sdktrace.NewTracerProvider()
	}
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp))
}
