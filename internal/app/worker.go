package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/internal/adminhttp"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/internal/metrics"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/plugin"
)

// WorkerOptions are the knobs tests need beyond the configuration.
type WorkerOptions struct {
	// HTTPListener, if set, serves /healthz, /metrics and /codec instead of
	// listening on cfg.HTTPAddr (tests pass a listener on 127.0.0.1:0).
	HTTPListener net.Listener
	// Ready, if set, is called once the worker polls its task queue.
	Ready func(c client.Client, httpAddr string)
	// SpanProcessor, if set with RPAFLOW_TRACING, receives every span (tests
	// pass a tracetest.SpanRecorder).
	SpanProcessor sdktrace.SpanProcessor
}

// RunWorker connects to Temporal, registers everything and runs until ctx
// ends, then stops gracefully (in-flight activities get the worker's stop timeout).
func RunWorker(ctx context.Context, cfg *config.Config, logger zerolog.Logger, o WorkerOptions) error {
	m, err := metrics.New()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var tp trace.TracerProvider
	if cfg.Tracing {
		stp, exporting, err := newTracerProvider(ctx, o.SpanProcessor)
		if err != nil {
			return err
		}
		defer func() { _ = stp.Shutdown(context.Background()) }() // flushes the last spans
		if !exporting && o.SpanProcessor == nil {
			logger.Warn().Msg("RPAFLOW_TRACING=true but OTEL_EXPORTER_OTLP_ENDPOINT is not set: spans are recorded but not exported")
		}
		// Workflow, activity and provider spans share this provider. The
		// tracing interceptor is a client interceptor that also implements
		// WorkerInterceptor, and the SDK applies those to every worker of
		// the client: adding it to worker.Options too would record each
		// span twice.
		tp = stp
	}
	pc, err := temporalclient.CodecFromConfig(cfg.Codec)
	if err != nil {
		return err
	}
	if pc == nil {
		logger.Warn().Msg("RPAFLOW_INSECURE_PLAINTEXT=true: payloads, tokens included, are stored in Temporal in clear; development only")
	}
	opts, err := temporalclient.Options(cfg, logging.TemporalLogger(logger), m.Temporal(), temporalclient.WithTracerProvider(tp))
	if err != nil {
		return err
	}
	// The worker is the plugin's first user: the same registration a host
	// application gets, on the client's every worker. Its client already
	// encrypts (temporalclient.Options), so the plugin leaves converters be.
	observeBudget, err := m.PollBudget(cfg.PollBudgetPerMinute)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	p, err := plugin.New(plugin.Options{Profiles: cfg.Profiles, PollBudgetPerMinute: cfg.PollBudgetPerMinute,
		PollBudgetObserver: observeBudget, Observer: ProviderObserver(m, tp), Nexus: true})
	if err != nil {
		return err
	}
	opts.Plugins = append(opts.Plugins, p)

	var connected atomic.Bool
	var codecHandler http.Handler
	if pc != nil {
		codecHandler = codec.Handler(pc, cfg.Codec.AuthToken)
	}
	srv := &http.Server{
		Handler: adminhttp.Handler(adminhttp.Options{Metrics: m.Handler(), Codec: codecHandler,
			Health: func(context.Context) error {
				if !connected.Load() {
					return errors.New("not connected to Temporal yet")
				}
				return nil
			}}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln := o.HTTPListener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("RPAFLOW_HTTP_ADDR=%s: %w (choose a free address)", cfg.HTTPAddr, err)
		}
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error().Err(err).Msg("HTTP server stopped")
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logger.Info().Str("addr", ln.Addr().String()).Msg("serving /healthz, /metrics and /codec")

	c, err := temporalclient.Dial(ctx, opts, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	connected.Store(true)

	// An activity learns of a cancellation only from a heartbeat the SDK
	// actually sends; the default throttle (up to 60 s) let a cancelled
	// deployment's wait keep polling for a minute.
	w := worker.New(c, cfg.TaskQueue, workerOptions())
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting worker on task queue %q: %w", cfg.TaskQueue, err)
	}
	logger.Info().Str("taskQueue", cfg.TaskQueue).Strs("profiles", cfg.ProfileNames()).Msg("worker running")
	if o.Ready != nil {
		o.Ready(c, ln.Addr().String())
	}
	<-ctx.Done()
	logger.Info().Msg("stopping worker")
	w.Stop()
	return nil
}

// workerOptions: the plugin's workflow poller floor, activity pollers that
// scale with the task rate (a fixed two queue every task behind the others
// once sessions number in the thousands); heartbeats reach the server at
// least every 10 s so a poll's progress is visible.
func workerOptions() worker.Options {
	return plugin.WorkerOptions(worker.Options{
		WorkerStopTimeout:            30 * time.Second,
		MaxHeartbeatThrottleInterval: 10 * time.Second,
		ActivityTaskPollerBehavior:   worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
	})
}
