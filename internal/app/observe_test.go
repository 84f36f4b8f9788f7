package app

import (
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/interceptor"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
)

func simConfig(t *testing.T, extra map[string]string) *config.Config {
	t.Helper()
	srv := httptest.NewServer(simenv.New(simenv.Options{}))
	t.Cleanup(srv.Close)
	env := map[string]string{"RPAFLOW_INSECURE_PLAINTEXT": "true"}
	for _, kv := range simenv.WorkerEnv(srv.URL) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A provider call made under an activity's span becomes a client span below
// it, named and attributed by platform, op and status, without the URL.
func TestProviderCallSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reg, err := activities.BuildRegistry(simConfig(t, nil).Profiles, activities.RegistryOptions{Observer: ProviderObserver(nil, tp)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := reg.AA("cr")
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("test").Start(t.Context(), "RunActivity:AARenewSession")
	tok, err := c.Login(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const bogus = "not-a-token-but-secret-shaped"
	if ok, err := c.Validate(ctx, bogus); ok || err != nil {
		t.Fatalf("validate bogus token = %v, %v; want false, nil", ok, err)
	}
	parent.End()

	var calls []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.InstrumentationScope().Name == TracerName {
			calls = append(calls, s)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("provider spans = %d, want 2 (login, validate)", len(calls))
	}
	for i, want := range []struct {
		name   string
		op     string
		status int64
		code   codes.Code
	}{
		{"automationanywhere login", "login", 200, codes.Unset},
		{"automationanywhere validate", "validate", 401, codes.Error},
	} {
		s := calls[i]
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value
			if v := kv.Value.Emit(); strings.Contains(v, bogus) || strings.Contains(v, tok.Value) || strings.Contains(v, "http://") {
				t.Errorf("span %q attribute %s = %q carries a token or the URL", s.Name(), kv.Key, v)
			}
		}
		if s.Name() != want.name || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d = %q kind %v, want %q client", i, s.Name(), s.SpanKind(), want.name)
		}
		if attrs["platform"].AsString() != "automationanywhere" || attrs["op"].AsString() != want.op ||
			attrs["http.status_code"].AsInt64() != want.status {
			t.Errorf("span %q attributes = %v", s.Name(), s.Attributes())
		}
		if s.Status().Code != want.code {
			t.Errorf("span %q status = %v, want %v", s.Name(), s.Status(), want.code)
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %q is not a child of the caller's span", s.Name())
		}
		if !s.EndTime().After(s.StartTime()) {
			t.Errorf("span %q times %v..%v", s.Name(), s.StartTime(), s.EndTime())
		}
	}
	if calls[1].StartTime().Before(calls[0].EndTime()) {
		t.Errorf("validate span starts at %v, before login ended at %v", calls[1].StartTime(), calls[0].EndTime())
	}
}

// With RPAFLOW_TRACING the client's tracing interceptor also intercepts
// workers: the SDK hands client interceptors that implement
// WorkerInterceptor to every worker of the client, so activity and workflow
// spans exist without listing it in worker.Options.
func TestTracingInterceptorCoversWorkers(t *testing.T) {
	opts, err := temporalclient.Options(simConfig(t, map[string]string{"RPAFLOW_TRACING": "true",
		"TEMPORAL_CONFIG_FILE": t.TempDir() + "/absent.toml"}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Interceptors) != 1 {
		t.Fatalf("interceptors = %d, want the tracing interceptor", len(opts.Interceptors))
	}
	if _, ok := opts.Interceptors[0].(interceptor.WorkerInterceptor); !ok {
		t.Errorf("%T does not intercept workers", opts.Interceptors[0])
	}
}
