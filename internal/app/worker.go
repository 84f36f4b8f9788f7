package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/adminhttp"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/events"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/internal/metrics"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/plugin"
	"github.com/rpaflow/rpaflow/profile"
	"github.com/rpaflow/rpaflow/session"
)

// WorkerOptions are the knobs tests need beyond the configuration.
type WorkerOptions struct {
	// HTTPListener, if set, serves /healthz and /metrics instead of
	// listening on cfg.HTTPAddr (tests pass a listener on 127.0.0.1:0).
	HTTPListener net.Listener
	// CodecListener, if set, serves /codec instead of listening on
	// cfg.Codec.Addr.
	CodecListener net.Listener
	// EventsListener, if set, serves the events receiver instead of
	// listening on cfg.EventsAddr.
	EventsListener net.Listener
	// Ready, if set, is called once the worker polls its task queue.
	Ready func(c client.Client, addrs Addrs)
	// SpanProcessor, if set with RPAFLOW_TRACING, receives every span (tests
	// pass a tracetest.SpanRecorder).
	SpanProcessor sdktrace.SpanProcessor
}

// Addrs are where a running worker listens.
type Addrs struct {
	HTTP  string // /healthz, /metrics
	Codec string // /codec
}

// RunWorker connects to Temporal, registers everything and runs until ctx
// ends, then stops gracefully (in-flight activities get the worker's stop timeout).
func RunWorker(ctx context.Context, cfg *config.Config, logger zerolog.Logger, o WorkerOptions) error {
	for _, w := range cfg.Warnings {
		logger.Warn().Msg(w)
	}
	m, err := metrics.New(cfg.ProfileNames()...)
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
	opts, err := temporalclient.Connection(cfg, logging.TemporalLogger(logger), m.Temporal(), temporalclient.WithTracerProvider(tp))
	if err != nil {
		return err
	}
	pc, err := temporalclient.CodecFromConfig(cfg.Codec) // served on /codec
	if err != nil {
		return err
	}
	if pc == nil {
		logger.Warn().Msg("RPAFLOW_INSECURE_PLAINTEXT=true: payloads, tokens included, are stored in Temporal in clear; development only")
		// chosen, and said above: the plugin need not warn a second time
		opts.DataConverter = converter.GetDefaultDataConverter()
	}
	po, err := pluginOptions(cfg, m, tp)
	if err != nil {
		return err
	}
	p, err := plugin.New(po)
	if err != nil {
		return err
	}
	opts.Plugins = append(opts.Plugins, p)

	var connected atomic.Bool
	admin := adminhttp.Server(adminhttp.Handler(adminhttp.Options{Metrics: m.Handler(),
		Health: func(context.Context) error {
			if !connected.Load() {
				return errors.New("not connected to Temporal yet")
			}
			return nil
		}}), adminhttp.AdminLimits)
	ln, stopAdmin, err := serve(admin, o.HTTPListener, "RPAFLOW_HTTP_ADDR", cfg.HTTPAddr, logger)
	if err != nil {
		return err
	}
	defer stopAdmin()
	var codecHandler http.Handler
	if pc != nil {
		codecHandler = codec.Handler(pc, codecOptions(cfg.Codec))
	}
	codecLn, stopCodec, err := serve(adminhttp.Server(adminhttp.CodecHandler(codecHandler), adminhttp.AdminLimits), o.CodecListener, "RPAFLOW_CODEC_ADDR", cfg.Codec.Addr, logger)
	if err != nil {
		return err
	}
	defer stopCodec()
	logger.Info().Str("addr", ln.Addr().String()).Msg("serving /healthz and /metrics")
	logger.Info().Str("addr", codecLn.Addr().String()).Bool("auth", codecOptions(cfg.Codec).RequiresAuth()).
		Strs("corsOrigins", cfg.Codec.CORSOrigins).Msg("serving /codec")

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
	defer w.Stop()
	// One worker per Nexus queue: the plugin registers only the Nexus
	// service there (and everything else if it is the main queue too).
	for _, q := range cfg.NexusQueues {
		if q.TaskQueue == cfg.TaskQueue {
			continue
		}
		nw := worker.New(c, q.TaskQueue, worker.Options{WorkerStopTimeout: 30 * time.Second})
		if err := nw.Start(); err != nil {
			return fmt.Errorf("starting the Nexus worker on task queue %q (RPAFLOW_NEXUS_QUEUES): %w", q.TaskQueue, err)
		}
		defer nw.Stop()
		logger.Info().Str("taskQueue", q.TaskQueue).Strs("profiles", q.Profiles).Msg("serving Nexus callers of this queue's endpoint")
	}
	stopEvents, err := serveEvents(cfg, c, m, logger, o.EventsListener)
	if err != nil {
		return err
	}
	defer stopEvents()
	mainNexus := len(cfg.NexusQueues) == 0 || slices.ContainsFunc(cfg.NexusQueues, func(q profile.NexusQueue) bool { return q.TaskQueue == cfg.TaskQueue })
	logger.Info().Str("taskQueue", cfg.TaskQueue).Strs("profiles", cfg.ProfileNames()).Bool("nexus", mainNexus).Msg("worker running")
	if o.Ready != nil {
		o.Ready(c, Addrs{HTTP: ln.Addr().String(), Codec: codecLn.Addr().String()})
	}
	<-ctx.Done()
	logger.Info().Msg("stopping worker")
	return nil
}

// pluginOptions: the worker is a host of the plugin like any other, which
// registers everything on the client's every worker and wraps the client's
// converters with the configured encryption (none in plaintext dev mode).
// Failure messages handed to Nexus callers are cleaned of the secrets the
// logs are cleaned of.
func pluginOptions(cfg *config.Config, m *metrics.Metrics, tp trace.TracerProvider) (plugin.Options, error) {
	observeBudget, err := m.PollBudget(cfg.PollBudgetPerMinute)
	if err != nil {
		return plugin.Options{}, fmt.Errorf("metrics: %w", err)
	}
	o := plugin.Options{Profiles: cfg.Profiles, PollBudgetPerMinute: cfg.PollBudgetPerMinute,
		PollBudgetObserver: observeBudget, Observer: ProviderObserver(m, tp), Nexus: true,
		NexusQueues: cfg.NexusQueues, TaskQueue: cfg.TaskQueue, Secrets: cfg.Secrets()}
	if !cfg.Codec.InsecurePlaintext {
		e := cfg.Codec.Encryption()
		o.Encryption = &e
	}
	return o, nil
}

// serveEvents starts the events receiver on its own listener when
// RPAFLOW_EVENTS_ADDR is set (or a test passes a listener).
func serveEvents(cfg *config.Config, c client.Client, m *metrics.Metrics, logger zerolog.Logger, ln net.Listener) (stop func(), err error) {
	if cfg.EventsAddr == "" && ln == nil {
		return func() {}, nil
	}
	var profiles []events.Profile
	for _, p := range cfg.Profiles {
		if !p.EventsOn() {
			continue
		}
		platform := events.UiPath
		if p.Kind == config.KindAA {
			platform = events.AA
		}
		profiles = append(profiles, events.Profile{Name: p.Name, Platform: platform, Secret: []byte(p.WebhookSecret)})
	}
	if len(profiles) == 0 {
		logger.Warn().Msg("RPAFLOW_EVENTS_ADDR is set but no profile has events on (RPAFLOW_<NAME>_WEBHOOK_SECRET, and _CALLBACK_URL for AA): every event will be refused")
	}
	observe, err := m.Events()
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	rc := events.NewReceiver(events.Options{Profiles: profiles, Sink: temporalSink{c: c, taskQueue: cfg.TaskQueue},
		Logger: logger, Observe: func(pl events.Platform, profile, outcome, reason string) {
			observe(string(pl), profile, outcome, reason)
		}})
	ln, stop, err = serve(events.Server(rc), ln, "RPAFLOW_EVENTS_ADDR", cfg.EventsAddr, logger)
	if err != nil {
		return nil, err
	}
	logger.Info().Str("addr", ln.Addr().String()).Int("profiles", len(profiles)).Msg("receiving events on /events/uipath/<profile> and /events/aa/<profile>")
	return stop, nil
}

// codecOptions: who may use the codec endpoint.
func codecOptions(c config.Codec) codec.HandlerOptions {
	o := codec.HandlerOptions{AuthToken: c.AuthToken, CORSOrigins: c.CORSOrigins}
	if c.OIDC.Issuer != "" {
		o.OIDC = codec.NewOIDC(codec.OIDCOptions{Issuer: c.OIDC.Issuer, Audience: c.OIDC.Audience, Claim: c.OIDC.Claim, Value: c.OIDC.Value})
	}
	return o
}

// serve runs srv on ln (or a new listener on addr) until stop.
func serve(srv *http.Server, ln net.Listener, name, addr string, logger zerolog.Logger) (_ net.Listener, stop func(), _ error) {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, nil, fmt.Errorf("%s=%s: %w (choose a free address)", name, addr, err)
		}
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error().Err(err).Str("listener", name).Msg("HTTP server stopped")
		}
	}()
	return ln, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// temporalSink hands an event to its run's events workflow, and events
// that came together to the profile's intake workflow, which forwards them.
type temporalSink struct {
	c         client.Client
	taskQueue string
}

func (s temporalSink) Deliver(ctx context.Context, profile string, r events.Routed) error {
	return activities.SignalRunEvents(ctx, s.c, session.Names{}, s.taskQueue,
		contract.RunEventsInput{Profile: profile, Subject: r.Subject, ID: r.ID}, contract.RunEventSignal, r.Event)
}

func (s temporalSink) DeliverBatch(ctx context.Context, profile string, runs []events.Routed) error {
	return activities.SignalRunEventsIntake(ctx, s.c, session.Names{}, s.taskQueue, profile, runs)
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
