// Package integration runs rpaflow end to end: a real Temporal dev server
// started by the tests, the platform simulators on loopback, the worker's own
// wiring in-process, and the Temporal CLI as a client.
package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/internal/app"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
)

var (
	temporalCLI string
	devServer   *testsuite.DevServer
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	temporalCLI = findCLI()
	if temporalCLI == "" || testing.Short() {
		if os.Getenv("RPAFLOW_REQUIRE_INTEGRATION") == "1" {
			fmt.Fprintln(os.Stderr, "integration tests required but no temporal binary: set RPAFLOW_TEMPORAL_CLI or run `make temporal-cli`")
			return 1
		}
		fmt.Println("integration: skipped (no temporal binary or -short)")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	devServer, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  temporalCLI,
		LogLevel:      "error",
		ClientOptions: &client.Options{HostPort: freeAddr(), Namespace: "default"},
		ExtraArgs:     namespaceArgs(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Temporal dev server:", err)
		return 1
	}
	defer devServer.Stop()
	return m.Run()
}

// Each stack gets a namespace of its own: session workflow IDs are per
// profile, so stacks sharing a namespace would share (and strand) sessions.
const namespaces = 16

var nextNamespace atomic.Int32

func namespaceArgs() []string {
	var args []string
	for i := 1; i <= namespaces; i++ {
		args = append(args, "--namespace", fmt.Sprintf("it-%d", i))
	}
	return args
}

func findCLI() string {
	if p := os.Getenv("RPAFLOW_TEMPORAL_CLI"); p != "" {
		return p
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "temporal")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// stack is one worker on its own task queue with fresh simulators.
type stack struct {
	t         *testing.T
	Sims      *simenv.Sims
	SimURL    string
	Client    client.Client // the worker's client (codec on)
	HTTPAddr  string        // the worker's /healthz, /metrics, /codec
	TaskQueue string
	Namespace string
	Config    *config.Config
	Logs      *lockedWriter
}

// stackOptions tune a stack.
type stackOptions struct {
	Sims  simenv.Options
	Extra map[string]string // extra environment for the worker
	// SpanProcessor receives the worker's spans when RPAFLOW_TRACING=true.
	SpanProcessor sdktrace.SpanProcessor
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	if devServer == nil {
		t.Skip("no Temporal dev server (run `make test`)")
	}
	sims := simenv.New(o.Sims)
	srv := httptest.NewServer(sims)
	t.Cleanup(srv.Close)

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	n := nextNamespace.Add(1)
	if n > namespaces {
		t.Fatalf("more than %d stacks: raise the namespaces constant", namespaces)
	}
	namespace := fmt.Sprintf("it-%d", n)
	queue := "rpaflow-it-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	env := map[string]string{
		"TEMPORAL_ADDRESS":     devServer.FrontendHostPort(),
		"TEMPORAL_NAMESPACE":   namespace,
		"RPAFLOW_TASK_QUEUE":   queue,
		"RPAFLOW_CODEC_KEY":    base64.StdEncoding.EncodeToString(key),
		"RPAFLOW_CODEC_KEY_ID": "it",
		"RPAFLOW_LOG_LEVEL":    "info",
	}
	for _, kv := range simenv.WorkerEnv(srv.URL) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range o.Extra {
		env[k] = v
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &lockedWriter{buf: &bytes.Buffer{}}
	logger := logging.New(logs, cfg.LogLevel, "json", cfg.Secrets())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	s := &stack{t: t, Sims: sims, SimURL: srv.URL, TaskQueue: queue, Namespace: namespace, Config: cfg, Logs: logs}
	go func() {
		done <- app.RunWorker(ctx, cfg, logger, app.WorkerOptions{HTTPListener: ln, SpanProcessor: o.SpanProcessor, Ready: func(c client.Client, addr string) {
			s.Client, s.HTTPAddr = c, addr
			close(ready)
		}})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("worker stopped: %v\n%s", err, logs)
	case <-time.After(time.Minute):
		cancel()
		t.Fatalf("worker not ready\n%s", logs)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(logs.String(), 6000))
		}
		cancel()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Error("worker did not stop")
		}
	})
	return s
}

// cli runs the temporal CLI against the dev server and returns stdout.
func (s *stack) cli(args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append(args, "--address", devServer.FrontendHostPort(), "--namespace", s.Namespace)
	cmd := exec.CommandContext(ctx, temporalCLI, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("temporal %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

func (s *stack) codecEndpoint() string { return "http://" + s.HTTPAddr + "/codec" }

// plainClient is a Temporal client without the codec: what anyone with
// access to the cluster but not the key sees.
func (s *stack) plainClient(t *testing.T) client.Client {
	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: s.Namespace,
		DataConverter: temporalclient.DataConverter(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
