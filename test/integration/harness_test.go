// Package integration runs rpaflow end to end: a real Temporal dev server
// started by the tests, the platform simulators on loopback, the worker's own
// wiring in-process, and the Temporal CLI as a client.
package integration

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/test/devserver"
	"github.com/rpaflow/rpaflow/test/teststack"
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
	temporalCLI = devserver.FindCLI()
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
	devServer, err = devserver.Start(ctx, devserver.Options{CLI: temporalCLI, LogLevel: "error", Namespaces: namespaces.Names()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Temporal dev server:", err)
		return 1
	}
	defer devServer.Stop()
	return m.Run()
}

// Each stack gets a namespace of its own; raise Count when tests need more.
var namespaces = &devserver.Namespaces{Prefix: "it", Count: 40}

// stack is one worker on its own task queue with fresh simulators.
type stack struct {
	*teststack.Stack
	t         *testing.T
	TaskQueue string
	Namespace string
	Logs      *lockedWriter
}

// stackOptions tune a stack.
type stackOptions struct {
	Sims  simenv.Options
	Extra map[string]string // extra environment for the worker
	// SpanProcessor receives the worker's spans when RPAFLOW_TRACING=true.
	SpanProcessor sdktrace.SpanProcessor
	// EventsListener serves the worker's events receiver.
	EventsListener net.Listener
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	if devServer == nil {
		t.Skip("no Temporal dev server (run `make test`)")
	}
	namespace, err := namespaces.Next()
	if err != nil {
		t.Fatal(err)
	}
	queue := "rpaflow-it-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	logs := &lockedWriter{buf: &bytes.Buffer{}}
	st, err := teststack.Start(teststack.Options{HostPort: devServer.FrontendHostPort(), Namespace: namespace, TaskQueue: queue,
		KeyID: "it", LogLevel: "info", Extra: o.Extra, Sims: o.Sims, Logs: logs, SpanProcessor: o.SpanProcessor, EventsListener: o.EventsListener})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(logs.String(), 6000))
		}
		if err := st.Stop(); err != nil {
			t.Error(err)
		}
	})
	return &stack{Stack: st, t: t, TaskQueue: queue, Namespace: namespace, Logs: logs}
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

func (s *stack) codecEndpoint() string { return "http://" + s.CodecAddr + "/codec" }

// startHubWatch starts the Automation Hub token watch of profile hub through
// the CLI, as an operator would, and terminates it when the test ends.
func (s *stack) startHubWatch(t *testing.T) {
	t.Helper()
	if _, err := s.cli("workflow", "start", "--type", contract.AutomationHubTokenWatchWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "hub-watch:hub", "--input", `{"profile":"hub"}`, "--codec-endpoint", s.codecEndpoint()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.cli("workflow", "terminate", "--workflow-id", "hub-watch:hub", "--reason", "test done")
	})
}

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
