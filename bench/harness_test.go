package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/internal/app"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/internal/simenv"
)

// The benchmark's dev server has a namespace per stack, as the integration
// harness does: session IDs are per profile, so stacks must not share one.
const namespaces = 8

var nextNamespace atomic.Int32

func startDevServer(ctx context.Context) (*testsuite.DevServer, error) {
	cli := findCLI()
	if cli == "" {
		return nil, fmt.Errorf("no temporal binary: set RPAFLOW_TEMPORAL_CLI or run `make temporal-cli`")
	}
	var args []string
	for i := 1; i <= namespaces; i++ {
		args = append(args, "--namespace", fmt.Sprintf("bench-%d", i))
	}
	return testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cli,
		LogLevel:      "never", // updates aborted by continue-as-new (row 3) are logged as errors; they are retried
		ClientOptions: &client.Options{HostPort: freeAddr(), Namespace: "default"},
		ExtraArgs:     args,
	})
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

// stack is one in-process rpaflow worker (the real wiring) with fresh
// simulators, in a namespace of its own.
type stack struct {
	Sims      *simenv.Sims
	SimURL    string
	Client    client.Client
	Config    *config.Config
	TaskQueue string
	Logs      *tailBuffer
	stop      func()
}

// simURLPlaceholder in an extra variable stands for the simulator's URL.
const simURLPlaceholder = "{simURL}"

type stackOptions struct {
	Sims  simenv.Options
	Extra map[string]string
}

func startStack(ds *testsuite.DevServer, name string, o stackOptions) (*stack, error) {
	sims := simenv.New(o.Sims)
	srv := httptest.NewServer(sims)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	n := nextNamespace.Add(1)
	if n > namespaces {
		srv.Close()
		return nil, fmt.Errorf("more than %d stacks: raise the namespaces constant in bench/harness_test.go", namespaces)
	}
	queue := "rpaflow-bench-" + name
	env := map[string]string{
		"TEMPORAL_ADDRESS":     ds.FrontendHostPort(),
		"TEMPORAL_NAMESPACE":   fmt.Sprintf("bench-%d", n),
		"RPAFLOW_TASK_QUEUE":   queue,
		"RPAFLOW_CODEC_KEY":    base64.StdEncoding.EncodeToString(key),
		"RPAFLOW_CODEC_KEY_ID": "bench",
		"RPAFLOW_LOG_LEVEL":    "warn",
	}
	for _, kv := range simenv.WorkerEnv(srv.URL) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range o.Extra {
		env[k] = strings.ReplaceAll(v, simURLPlaceholder, srv.URL)
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("config: %w", err)
	}
	logs := &tailBuffer{max: 64 << 10}
	logger := logging.New(logs, cfg.LogLevel, "json", cfg.Secrets())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &stack{Sims: sims, SimURL: srv.URL, Config: cfg, TaskQueue: queue, Logs: logs}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- app.RunWorker(ctx, cfg, logger, app.WorkerOptions{HTTPListener: ln, Ready: func(c client.Client, _ string) {
			s.Client = c
			close(ready)
		}})
	}()
	s.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
		}
		srv.Close()
	}
	select {
	case <-ready:
		return s, nil
	case err := <-done:
		s.stop()
		return nil, fmt.Errorf("worker stopped: %v\n%s", err, logs)
	case <-time.After(time.Minute):
		s.stop()
		return nil, fmt.Errorf("worker not ready after a minute\n%s", logs)
	}
}

// tailBuffer keeps the last max bytes written (the worker's warnings).
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// Sizes come from the environment so a bigger machine can raise them.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDur(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// batch runs n calls of f on conc goroutines and returns each call's
// latency, the wall time and the failures.
func batch(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) (lat []time.Duration, wall time.Duration, errs []error) {
	var mu sync.Mutex
	next := atomic.Int64{}
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := f(ctx, i)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start), errs
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
