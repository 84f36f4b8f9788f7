package temporalclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/config"
)

const secret = "eyJ-looking-secret-password-123"

func TestDataConverterEncrypts(t *testing.T) {
	dc, _, err := Converters(loadConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := dc.ToPayload(map[string]string{"password": secret})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(p)
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("password")) {
		t.Error("payload carries plaintext")
	}
	if string(p.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted {
		t.Errorf("metadata = %v", p.Metadata)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["password"] != secret {
		t.Errorf("round trip: %v %v", back, err)
	}

	plain := DataConverter(nil)
	p, _ = plain.ToPayload("x")
	if string(p.Metadata[converter.MetadataEncoding]) != "json/plain" {
		t.Errorf("nil codec should mean the default converter, got %v", p.Metadata)
	}
}

func TestFailureConverterEncodesMessage(t *testing.T) {
	_, fc, err := Converters(loadConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	f := fc.ErrorToFailure(temporal.NewApplicationError("login failed: password="+secret, "AuthFailed"))
	if strings.Contains(f.GetMessage(), secret) {
		t.Errorf("Message field carries the secret: %q", f.GetMessage())
	}
	raw, _ := proto.Marshal(f)
	if bytes.Contains(raw, []byte(secret)) {
		t.Error("failure proto carries the secret")
	}
	if f.GetEncodedAttributes() == nil {
		t.Fatal("no encoded attributes")
	}
	err = fc.FailureToError(f)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !strings.Contains(appErr.Error(), secret) || appErr.Type() != "AuthFailed" {
		t.Errorf("decoded error = %v", err)
	}
}

func TestCodecFromConfig(t *testing.T) {
	if c, err := CodecFromConfig(config.Codec{InsecurePlaintext: true}); c != nil || err != nil {
		t.Errorf("plaintext: %v %v", c, err)
	}
	if _, err := CodecFromConfig(config.Codec{KeyID: "k"}); err == nil || !strings.Contains(err.Error(), "RPAFLOW_CODEC_KEY") {
		t.Errorf("no key: %v", err)
	}
	old := bytes.Repeat([]byte{1}, 32)
	oldCodec, _ := codec.New(codec.Key{ID: "old", Key: old})
	enc, _ := oldCodec.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	c, err := CodecFromConfig(config.Codec{KeyID: "new", Key: bytes.Repeat([]byte{2}, 32), OldKeys: []codec.Key{{ID: "old", Key: old}}})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := c.Decode(enc); err != nil || string(dec[0].Data) != "x" {
		t.Errorf("old key not accepted: %v", err)
	}
}

func loadConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	base := map[string]string{
		"RPAFLOW_PROFILES":           "cr",
		"RPAFLOW_CR_KIND":            "automationanywhere",
		"RPAFLOW_CR_URL":             "https://cr.example.com",
		"RPAFLOW_CR_USERNAME":        "u",
		"RPAFLOW_CR_API_KEY":         "k",
		"RPAFLOW_CODEC_KEY":          base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)),
		"TEMPORAL_CONFIG_FILE":       filepath.Join(t.TempDir(), "absent.toml"), // keep the user's file out
		"RPAFLOW_INSECURE_PLAINTEXT": "",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.LoadFrom(base)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOptionsDefaults(t *testing.T) {
	cfg := loadConfig(t, nil)
	opts, err := Options(cfg, nil, client.MetricsNopHandler)
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "localhost:7233" || opts.Namespace != "default" || opts.Credentials != nil || opts.ConnectionOptions.TLS != nil {
		t.Errorf("opts = %+v", opts)
	}
	if opts.MetricsHandler != client.MetricsNopHandler || len(opts.Interceptors) != 0 {
		t.Errorf("metrics/interceptors = %v %v", opts.MetricsHandler, opts.Interceptors)
	}
	if _, ok := opts.ConnectionOptions.GrpcCompression.(*client.GrpcCompressionNone); !ok {
		t.Errorf("gRPC compression = %T, want none (payloads are encrypted)", opts.ConnectionOptions.GrpcCompression)
	}
	p, _ := opts.DataConverter.ToPayload("x")
	if string(p.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted {
		t.Errorf("data converter does not encrypt: %v", p.Metadata)
	}
	if f := opts.FailureConverter.ErrorToFailure(errors.New(secret)); strings.Contains(f.GetMessage(), secret) {
		t.Error("failure converter does not encode messages")
	}
}

func TestOptionsFromTemporalVariables(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "api-key")
	if err := os.WriteFile(keyFile, []byte("temporal-key-abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, map[string]string{
		"TEMPORAL_ADDRESS":           "ns.acct.tmprl.cloud:7233",
		"TEMPORAL_NAMESPACE":         "ns.acct",
		"TEMPORAL_API_KEY_FILE":      keyFile,
		"TEMPORAL_TLS_SERVER_NAME":   "sni.example.com",
		"RPAFLOW_TRACING":            "true",
		"RPAFLOW_CODEC_KEY":          "",
		"RPAFLOW_INSECURE_PLAINTEXT": "true",
	})
	opts, err := Options(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "ns.acct.tmprl.cloud:7233" || opts.Namespace != "ns.acct" {
		t.Errorf("address/namespace = %q %q", opts.HostPort, opts.Namespace)
	}
	if opts.Credentials == nil {
		t.Error("API key from TEMPORAL_API_KEY_FILE not used")
	}
	if tc := opts.ConnectionOptions.TLS; tc == nil || tc.ServerName != "sni.example.com" {
		t.Errorf("TLS = %+v", tc)
	}
	if len(opts.Interceptors) != 1 {
		t.Errorf("tracing interceptor missing: %v", opts.Interceptors)
	}
	p, _ := opts.DataConverter.ToPayload("x")
	if string(p.Metadata[converter.MetadataEncoding]) != "json/plain" {
		t.Errorf("plaintext mode should not encrypt: %v", p.Metadata)
	}
}

func TestOptionsAPIKeyEnablesTLS(t *testing.T) {
	cfg := loadConfig(t, map[string]string{"TEMPORAL_API_KEY": "k-123456"})
	opts, err := Options(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Credentials == nil || opts.ConnectionOptions.TLS == nil {
		t.Errorf("credentials %v TLS %v", opts.Credentials, opts.ConnectionOptions.TLS)
	}
}

func TestOptionsBadTemporalProfile(t *testing.T) {
	cfg := loadConfig(t, map[string]string{"TEMPORAL_PROFILE": "missing"})
	if _, err := Options(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "TEMPORAL_PROFILE") {
		t.Errorf("err = %v", err)
	}
}

// fakeFrontend answers GetSystemInfo, which is all Dial needs.
type fakeFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
}

func (fakeFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{ServerVersion: "fake"}, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func dialOptions(addr string) client.Options {
	opts := client.Options{HostPort: addr}
	opts.ConnectionOptions.GetSystemInfoTimeout = 300 * time.Millisecond
	return opts
}

func TestDialWaitsForServer(t *testing.T) {
	addr := freeAddr(t)
	var logs syncBuffer
	logger := zerolog.New(&logs)

	go func() {
		time.Sleep(1500 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen: %v", err)
			return
		}
		s := grpc.NewServer()
		workflowservice.RegisterWorkflowServiceServer(s, fakeFrontend{})
		t.Cleanup(s.Stop)
		_ = s.Serve(l)
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, dialOptions(addr), logger)
	if err != nil {
		t.Fatalf("Dial: %v\nlogs: %s", err, logs.String())
	}
	c.Close()
	if !strings.Contains(logs.String(), "Temporal server at "+addr+" is not reachable yet; retrying") {
		t.Errorf("no retry log line: %s", logs.String())
	}
}

func TestDialGivesUpWithContext(t *testing.T) {
	addr := freeAddr(t)
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, dialOptions(addr), zerolog.New(&logs))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Dial ignored the context for %v", time.Since(start))
	}
	if n := strings.Count(logs.String(), "is not reachable yet; retrying"); n < 1 {
		t.Errorf("retry lines = %d: %s", n, logs.String())
	}
}
