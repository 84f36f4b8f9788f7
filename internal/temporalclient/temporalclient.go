// Package temporalclient builds the one client.Options that the worker, the
// starter and the tests share, so they can never disagree on the data
// converter, failure converter, logger or metrics.
package temporalclient

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/config"
)

// Defaults applied when neither the environment nor a Temporal config file
// names the server.
const (
	DefaultAddress   = "localhost:7233"
	DefaultNamespace = "default"
)

// DataConverter returns the default data converter wrapped with c; with a nil
// codec (plaintext dev mode) it returns the plain default.
func DataConverter(c converter.PayloadCodec) converter.DataConverter {
	dc, _ := Converters(c, codec.Boundary{})
	return dc
}

// Converters returns rpaflow's data and failure converters: payloads
// encrypted with c, failure messages and stack traces moved into an
// encrypted payload (provider error text can echo secrets), except what
// crosses b to Nexus callers. A nil codec (plaintext dev mode) gives the
// SDK's defaults; a remote codec (a client tool using the worker's codec
// endpoint) encodes everything through the worker, which knows the boundary.
func Converters(c converter.PayloadCodec, b codec.Boundary) (converter.DataConverter, converter.FailureConverter) {
	switch cc := c.(type) {
	case nil:
		return converter.GetDefaultDataConverter(), nil
	case *codec.Codec:
		return codec.Converters(converter.GetDefaultDataConverter(), cc, b)
	}
	// Without the key, sealed values (platform tokens) cannot be opened: the
	// endpoint leaves them sealed and this converter refuses them clearly.
	dc := converter.NewCodecDataConverter(codec.Sealing(converter.GetDefaultDataConverter(), nil), c)
	return dc, temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}

// Boundary is what the standalone worker's Nexus service hands its callers:
// readable by their default converter (or encrypted with
// RPAFLOW_NEXUS_CODEC_KEY), failure messages redacted with the configured
// secrets.
func Boundary(cfg *config.Config) (codec.Boundary, error) {
	c, err := cfg.Codec.Encryption().BoundaryCodec()
	if err != nil {
		return codec.Boundary{}, fmt.Errorf("RPAFLOW_NEXUS_CODEC_KEY: %w", err)
	}
	return codec.NexusBoundary("", c, cfg.Secrets()), nil
}

// CodecFromConfig builds the payload codec: nil in plaintext dev mode, the
// worker's codec endpoint for a client without a key (config.LoadClient sets
// Endpoint only then), an error when there is neither.
func CodecFromConfig(c config.Codec) (converter.PayloadCodec, error) {
	if c.InsecurePlaintext {
		return nil, nil
	}
	if len(c.Key) == 0 && c.Endpoint != "" {
		return RemoteCodec(c.Endpoint, c.AuthToken), nil
	}
	if len(c.Key) == 0 {
		return nil, errors.New("no payload encryption key: set RPAFLOW_CODEC_KEY (generate one with: head -c 32 /dev/urandom | base64), or RPAFLOW_INSECURE_PLAINTEXT=true for local development only")
	}
	return c.Encryption().Codec()
}

// Options builds client options: the connection from Temporal's standard
// variables and config file (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE,
// read from the environment cfg was loaded from), then rpaflow's converters,
// logger, metrics, no gRPC compression and, with cfg.Tracing, the
// OpenTelemetry tracing interceptor.
func Options(cfg *config.Config, logger log.Logger, metrics client.MetricsHandler, opts ...Option) (client.Options, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg == nil {
		return client.Options{}, errors.New("temporalclient: nil config")
	}
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{EnvLookup: cfg})
	if err != nil {
		return client.Options{}, fmt.Errorf("loading the Temporal connection settings (TEMPORAL_* variables, TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE): %w", err)
	}
	if prof.APIKey == "" {
		// TEMPORAL_API_KEY_FILE, which envconfig does not know
		prof.APIKey = cfg.TemporalAPIKey
	}
	co, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("building the Temporal connection (TEMPORAL_TLS_* variables): %w", err)
	}
	if co.HostPort == "" {
		co.HostPort = DefaultAddress
	}
	if co.Namespace == "" {
		co.Namespace = DefaultNamespace
	}

	pc, err := CodecFromConfig(cfg.Codec)
	if err != nil {
		return client.Options{}, err
	}
	b, err := Boundary(cfg)
	if err != nil {
		return client.Options{}, err
	}
	co.DataConverter, co.FailureConverter = Converters(pc, b)
	co.Logger = logger
	// No gRPC gzip: payloads are already encrypted, so compressing them costs
	// CPU that session renewals need (docs/benchmarks.md).
	co.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	co.MetricsHandler = metrics
	if cfg.Tracing {
		var to opentelemetry.TracerOptions
		if o.tracer != nil {
			to.Tracer = o.tracer.Tracer("rpaflow")
		}
		ti, err := opentelemetry.NewTracingInterceptor(to)
		if err != nil {
			return client.Options{}, fmt.Errorf("creating the tracing interceptor: %w", err)
		}
		co.Interceptors = append(co.Interceptors, interceptor.ClientInterceptor(ti))
	}
	return co, nil
}

// Option adds to what Options builds.
type Option func(*options)

type options struct{ tracer trace.TracerProvider }

// WithTracerProvider gives the tracing interceptor (RPAFLOW_TRACING=true)
// its spans' provider; without it the interceptor uses OpenTelemetry's
// global one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracer = tp }
}
