package adminhttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/metrics"
)

func get(t *testing.T, srv *httptest.Server, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"payloads":[]}`))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandler(t *testing.T) {
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	m.Temporal().Counter("rpaflow_test_hits").Inc(1)
	c, err := codec.New(codec.Key{ID: "k", Key: bytes.Repeat([]byte{5}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	var healthErr error
	srv := httptest.NewServer(Handler(Options{
		Metrics: m.Handler(),
		Health:  func(context.Context) error { return healthErr },
	}))
	defer srv.Close()
	codecSrv := httptest.NewServer(CodecHandler(codec.Handler(c, codec.HandlerOptions{})))
	defer codecSrv.Close()

	if code, body := get(t, srv, http.MethodGet, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz = %d %q", code, body)
	}
	healthErr = errors.New("worker stopped: poller failed")
	if code, body := get(t, srv, http.MethodGet, "/healthz"); code != 503 || !strings.Contains(body, "worker stopped: poller failed") {
		t.Errorf("unhealthy = %d %q", code, body)
	}
	if code, body := get(t, srv, http.MethodGet, "/metrics"); code != 200 || !strings.Contains(body, "rpaflow_test_hits_total") {
		t.Errorf("metrics = %d, has counter %v", code, strings.Contains(body, "rpaflow_test_hits_total"))
	}
	if code, _ := get(t, srv, http.MethodPost, "/metrics"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d", code)
	}
	if code, _ := get(t, srv, http.MethodGet, "/nope"); code != 404 {
		t.Errorf("/nope = %d", code)
	}

	// whoever may scrape metrics may not decrypt
	for _, path := range []string{"/codec/decode", "/codec", "/codec/encode"} {
		if code, body := get(t, srv, http.MethodPost, path); code != 404 || !strings.Contains(body, "RPAFLOW_CODEC_ADDR") {
			t.Errorf("%s on the metrics listener = %d %q", path, code, body)
		}
	}
	if code, _ := get(t, codecSrv, http.MethodGet, "/metrics"); code != 404 {
		t.Errorf("/metrics on the codec listener = %d", code)
	}

	// the codec answers as the CLI calls it: --codec-endpoint http://host/codec
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: codecSrv.URL + "/codec"})
	in := []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"secret"`)}}
	enc, err := remote.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc[0].Data, []byte("secret")) {
		t.Error("codec endpoint did not encrypt")
	}
	dec, err := remote.Decode(enc)
	if err != nil || string(dec[0].Data) != `"secret"` {
		t.Errorf("decode = %v %v", dec, err)
	}
}

func TestHandlerPlaintextAndNoHealth(t *testing.T) {
	srv := httptest.NewServer(Handler(Options{}))
	defer srv.Close()
	codecSrv := httptest.NewServer(CodecHandler(nil))
	defer codecSrv.Close()
	if code, body := get(t, codecSrv, http.MethodPost, "/codec/decode"); code != 404 || !strings.Contains(body, "plaintext") {
		t.Errorf("codec in plaintext mode = %d %q", code, body)
	}
	if code, _ := get(t, srv, http.MethodGet, "/healthz"); code != 200 {
		t.Errorf("healthz without check = %d", code)
	}
	if code, _ := get(t, srv, http.MethodGet, "/metrics"); code != 404 {
		t.Errorf("metrics without handler = %d", code)
	}
}
