package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/metrics"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/plugin"
)

// The worker's client gets its converters from the plugin, as any host's
// does, and the starter's from the same function: each reads what the other
// writes, tokens are sealed, and a failure handed to a Nexus caller is
// cleaned of every configured secret, not only the profiles'.
func TestWorkerClientEncryptsThroughThePlugin(t *testing.T) {
	const authToken = "codec-auth-token-0123456789abcdef-xyz"
	cfg := simConfig(t, map[string]string{
		"RPAFLOW_INSECURE_PLAINTEXT": "false",
		"RPAFLOW_CODEC_KEY":          base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32)),
		"RPAFLOW_CODEC_AUTH_TOKEN":   authToken,
		"TEMPORAL_CONFIG_FILE":       filepath.Join(t.TempDir(), "absent.toml"),
	})
	m, err := metrics.New(cfg.ProfileNames()...)
	if err != nil {
		t.Fatal(err)
	}
	po, err := pluginOptions(cfg, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plugin.New(po)
	if err != nil {
		t.Fatal(err)
	}
	worker, err := temporalclient.Connection(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if worker.DataConverter != nil || worker.FailureConverter != nil {
		t.Fatal("the worker's connection options carry converters: the plugin would wrap them a second time")
	}
	if err := p.ConfigureClient(t.Context(), client.PluginConfigureClientOptions{ClientOptions: &worker}); err != nil {
		t.Fatal(err)
	}
	starter, err := temporalclient.Options(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	sc, err := cfg.Codec.Encryption().Codec()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		from, to   converter.DataConverter
		value      any
		wantSealed bool
	}{
		{"worker to starter", worker.DataConverter, starter.DataConverter, contract.TokenResult{Token: "tok-1"}, true},
		{"starter to worker", starter.DataConverter, worker.DataConverter, contract.TokenResult{Token: "tok-2"}, true},
		{"an input", worker.DataConverter, starter.DataConverter, contract.StartJobInput{Profile: "orch"}, false},
	} {
		pl, err := c.from.ToPayload(c.value)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if enc := string(pl.Metadata[converter.MetadataEncoding]); enc != codec.EncodingEncrypted {
			t.Errorf("%s: payload encoding %q, want %q", c.name, enc, codec.EncodingEncrypted)
		}
		inner, err := sc.Decode([]*commonpb.Payload{pl})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if sealed := string(inner[0].Metadata[converter.MetadataEncoding]) == codec.EncodingSealed; sealed != c.wantSealed {
			t.Errorf("%s: sealed inside the encryption = %v, want %v", c.name, sealed, c.wantSealed)
		}
		switch v := c.value.(type) {
		case contract.TokenResult:
			var back contract.TokenResult
			if err := c.to.FromPayload(pl, &back); err != nil || back != v {
				t.Errorf("%s: read back %+v, %v", c.name, back, err)
			}
		case contract.StartJobInput:
			var back contract.StartJobInput
			if err := c.to.FromPayload(pl, &back); err != nil || back.Profile != v.Profile {
				t.Errorf("%s: read back %+v, %v", c.name, back, err)
			}
		}
	}

	crossing := converter.WithFailureConverterSerializationContext(worker.FailureConverter,
		converter.NexusSerializationContext{Service: contract.NexusService, Operation: contract.OpStartJob})
	f := crossing.ErrorToFailure(errors.New("the codec answered 401 to " + authToken))
	if strings.Contains(f.GetMessage(), authToken) || !strings.Contains(f.GetMessage(), "answered 401") {
		t.Errorf("failure handed to a Nexus caller = %q, want it readable without RPAFLOW_CODEC_AUTH_TOKEN", f.GetMessage())
	}
}
