// Package temporalclient builds the client.Options that the worker, the
// starter and the tests share, so they can never disagree on the
// connection, logger or metrics; a client that runs no worker gets the
// converters the plugin gives the worker's client, from the same function.
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

// DataConverter is the data converter of a client that encodes through c
// without holding the key (a remote codec: the worker's codec endpoint); a
// nil codec (plaintext dev mode) gives the SDK's default.
func DataConverter(c converter.PayloadCodec) converter.DataConverter {
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	// Without the key, sealed values (platform tokens) cannot be opened: the
	// endpoint leaves them sealed and this converter refuses them clearly.
	return converter.NewCodecDataConverter(codec.Sealing(converter.GetDefaultDataConverter(), nil), c)
}

// Converters are the data and failure converters of a client that runs no
// worker (the starter, tests): with a key, those the plugin gives the
// worker's client (codec.Encryption.Converters); through a codec endpoint,
// everything encoded by the worker, which knows the Nexus boundary; in
// plaintext dev mode, the SDK's defaults.
func Converters(cfg *config.Config) (converter.DataConverter, converter.FailureConverter, error) {
	if cfg.Codec.InsecurePlaintext || len(cfg.Codec.Key) == 0 {
		pc, err := CodecFromConfig(cfg.Codec) // nil, the endpoint, or no key at all
		if err != nil || pc == nil {
			return DataConverter(nil), nil, err
		}
		dc := DataConverter(pc)
		return dc, temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true}), nil
	}
	return cfg.Codec.Encryption().Converters(nil, "", cfg.Secrets())
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

// Options are Connection's options with Converters, for a client that runs
// no worker (the starter, tests).
func Options(cfg *config.Config, logger log.Logger, metrics client.MetricsHandler, opts ...Option) (client.Options, error) {
	co, err := Connection(cfg, logger, metrics, opts...)
	if err != nil {
		return client.Options{}, err
	}
	co.DataConverter, co.FailureConverter, err = Converters(cfg)
	if err != nil {
		return client.Options{}, err
	}
	return co, nil
}

// Connection builds the client options every rpaflow client shares: the
// connection from Temporal's standard variables and config file
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
// TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, read from the environment cfg was
// loaded from), then the logger, metrics, no gRPC compression and, with
// cfg.Tracing, the OpenTelemetry tracing interceptor. The worker's plugin
// adds the converters.
func Connection(cfg *config.Config, logger log.Logger, metrics client.MetricsHandler, opts ...Option) (client.Options, error) {
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
