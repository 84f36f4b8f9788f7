// Package teststack runs rpaflow's real worker wiring in-process against a
// Temporal server, with fresh platform simulators on loopback: the stack the
// integration tests and the benchmarks drive. It is test plumbing.
package teststack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/internal/app"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
)

// SimURLPlaceholder in an Extra value stands for the simulators' URL.
const SimURLPlaceholder = "{simURL}"

// Options tune a stack.
type Options struct {
	HostPort  string // the Temporal frontend
	Namespace string
	TaskQueue string
	KeyID     string // the codec key's ID; the key itself is fresh and random
	LogLevel  string
	// Extra environment, applied last; see SimURLPlaceholder.
	Extra map[string]string

	// The rest is for Start only.
	Sims simenv.Options
	// Logs receives the worker's JSON log; nil discards it.
	Logs io.Writer
	// SpanProcessor receives the worker's spans when RPAFLOW_TRACING=true.
	SpanProcessor sdktrace.SpanProcessor
	// HTTPListener, if set, serves the worker's /metrics and /healthz, and
	// CodecListener its /codec (so their addresses are known before the
	// worker starts); by default each gets a free port on 127.0.0.1.
	HTTPListener  net.Listener
	CodecListener net.Listener
	// EventsListener, if set, serves the events receiver.
	EventsListener net.Listener
}

// Env is a worker's environment: Temporal address, namespace and queue, a
// fresh codec key, and the demo profiles pointing at simURL.
func Env(o Options, simURL string) map[string]string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"TEMPORAL_ADDRESS":     o.HostPort,
		"TEMPORAL_NAMESPACE":   o.Namespace,
		"RPAFLOW_TASK_QUEUE":   o.TaskQueue,
		"RPAFLOW_CODEC_KEY":    base64.StdEncoding.EncodeToString(key),
		"RPAFLOW_CODEC_KEY_ID": o.KeyID,
		"RPAFLOW_LOG_LEVEL":    o.LogLevel,
	}
	for _, kv := range simenv.WorkerEnv(simURL) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range o.Extra {
		env[k] = strings.ReplaceAll(v, SimURLPlaceholder, simURL)
	}
	return env
}

// Stack is one in-process worker with its own simulators.
type Stack struct {
	Sims      *simenv.Sims
	SimURL    string
	Client    client.Client // the worker's client (codec on)
	HTTPAddr  string        // the worker's /healthz, /metrics
	CodecAddr string        // the worker's /codec
	Config    *config.Config
	stop      func() error
}

// stopTimeout bounds a graceful worker stop.
const stopTimeout = 40 * time.Second

// Start starts the simulators and the worker and waits (up to a minute)
// until the worker polls its queue. The caller calls Stop.
func Start(o Options) (*Stack, error) {
	sims := simenv.New(o.Sims)
	srv := httptest.NewServer(sims)
	cfg, err := config.LoadFrom(Env(o, srv.URL))
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("config: %w", err)
	}
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	logger := logging.New(logs, cfg.LogLevel, "json", cfg.Secrets())
	ln, codecLn := o.HTTPListener, o.CodecListener
	for _, l := range []*net.Listener{&ln, &codecLn} {
		if *l == nil {
			if *l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				srv.Close()
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stack{Sims: sims, SimURL: srv.URL, Config: cfg}
	ready := make(chan struct{})
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		runErr = app.RunWorker(ctx, cfg, logger, app.WorkerOptions{HTTPListener: ln, CodecListener: codecLn, EventsListener: o.EventsListener, SpanProcessor: o.SpanProcessor,
			Ready: func(c client.Client, addrs app.Addrs) {
				s.Client, s.HTTPAddr, s.CodecAddr = c, addrs.HTTP, addrs.Codec
				close(ready)
			}})
	}()
	s.stop = func() error {
		defer srv.Close()
		cancel()
		select {
		case <-exited:
			return nil
		case <-time.After(stopTimeout):
			return fmt.Errorf("worker did not stop within %s", stopTimeout)
		}
	}
	select {
	case <-ready:
		return s, nil
	case <-exited:
		_ = s.stop()
		return nil, fmt.Errorf("worker stopped: %v", runErr)
	case <-time.After(time.Minute):
		return nil, errors.Join(errors.New("worker not ready after a minute"), s.stop())
	}
}

// Stop stops the worker gracefully, then the simulators.
func (s *Stack) Stop() error { return s.stop() }

// Dial connects a client with what a worker of env would use (codec,
// converters), logging nothing, within a minute.
func Dial(env map[string]string) (client.Client, error) {
	cfg, err := config.LoadFrom(env)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	opts, err := temporalclient.Options(cfg, logging.TemporalLogger(logging.New(io.Discard, "error", "json", cfg.Secrets())), nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dialing Temporal at %s: %w", opts.HostPort, err)
	}
	return c, nil
}
