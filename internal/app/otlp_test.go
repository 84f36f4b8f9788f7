package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rpaflow/rpaflow/providers/httpobs"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, provider spans reach an OTLP/HTTP
// collector under service rpaflow-worker, without the error text (which may
// echo a secret).
func TestTracerProviderExportsOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths, bodies = append(paths, r.Method+" "+r.URL.Path), append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")

	ctx := context.Background()
	tp, exporting, err := newTracerProvider(ctx, nil)
	if err != nil || !exporting {
		t.Fatalf("newTracerProvider: exporting %v, %v", exporting, err)
	}
	ProviderObserver(nil, tp)(ctx, httpobs.Call{Platform: "automationanywhere", Op: "login", Method: "POST", Status: 401,
		Start: time.Now(), Duration: 20 * time.Millisecond, Err: errors.New("401: token eyJsecret rejected")})
	if err := tp.Shutdown(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || paths[0] != "POST /v1/traces" {
		t.Fatalf("collector got %v, want one POST /v1/traces", paths)
	}
	if strings.Contains(string(bodies[0]), "eyJsecret") {
		t.Fatal("the exported span holds the error text")
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(bodies[0], &req); err != nil {
		t.Fatal(err)
	}
	var service string
	var spans []string
	for _, rs := range req.GetResourceSpans() {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				spans = append(spans, sp.GetName())
			}
		}
	}
	if service != "rpaflow-worker" || len(spans) != 1 || spans[0] != "automationanywhere login" {
		t.Fatalf("exported service %q spans %v, want rpaflow-worker / [automationanywhere login]", service, spans)
	}
}

func TestTracerProviderWithoutEndpointDoesNotExport(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tp, exporting, err := newTracerProvider(context.Background(), nil)
	if err != nil || exporting {
		t.Fatalf("exporting %v, %v: want no exporter without an endpoint", exporting, err)
	}
	_ = tp.Shutdown(context.Background())
}
