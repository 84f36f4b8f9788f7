// Package temporalclient builds the one client.Options that the worker, the
// starter and the tests share, so they can never disagree on the data
// converter, failure converter, logger or metrics.
package temporalclient

import (
	"errors"
	"fmt"

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
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves failure messages and stack traces into an encoded
// payload: provider error text can echo secrets, and the codec encrypts it.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
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
	old := make([]codec.Key, len(c.OldKeys))
	for i, k := range c.OldKeys {
		old[i] = codec.Key{ID: k.ID, Key: k.Key}
	}
	cd, err := codec.New(codec.Key{ID: c.KeyID, Key: c.Key}, old...)
	if err != nil {
		return nil, err
	}
	return cd, nil
}

// Options builds client options: the connection from Temporal's standard
// variables and config file (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE,
// read from the environment cfg was loaded from), then rpaflow's converters,
// logger, metrics and, with cfg.Tracing, the OpenTelemetry tracing interceptor.
func Options(cfg *config.Config, logger log.Logger, metrics client.MetricsHandler) (client.Options, error) {
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
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("building the Temporal connection (TEMPORAL_TLS_* variables): %w", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = DefaultAddress
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}

	pc, err := CodecFromConfig(cfg.Codec)
	if err != nil {
		return client.Options{}, err
	}
	opts.DataConverter = DataConverter(pc)
	opts.FailureConverter = FailureConverter(opts.DataConverter)
	opts.Logger = logger
	opts.MetricsHandler = metrics
	if cfg.Tracing {
		ti, err := opentelemetry.NewTracingInterceptor(opentelemetry.TracerOptions{})
		if err != nil {
			return client.Options{}, fmt.Errorf("creating the tracing interceptor: %w", err)
		}
		opts.Interceptors = append(opts.Interceptors, interceptor.ClientInterceptor(ti))
	}
	return opts, nil
}
