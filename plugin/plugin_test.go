package plugin

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/profile"
)

var testKey = Key{ID: "k1", Key: bytes.Repeat([]byte{7}, 32)}

// A host's replayer with the plugin replays rpaflow's recorded histories
// (sessions of both renewal shapes, every deployment workflow), once and
// again on the same replayer.
func TestReplayerWithThePlugin(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../workflows/testdata/*.json")
	if err != nil || len(files) < 9 {
		t.Fatalf("recorded histories: %v %v", files, err)
	}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Plugins: []worker.Plugin{p}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

type recLogger struct {
	mu   sync.Mutex
	warn []string
}

func (l *recLogger) Debug(string, ...any) {}
func (l *recLogger) Info(string, ...any)  {}
func (l *recLogger) Error(string, ...any) {}
func (l *recLogger) Warn(msg string, _ ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warn = append(l.warn, msg)
}

// Without Encryption on a client with the default converter, tokens would
// sit in history in clear: the plugin says so, once.
func TestWarnsOnceWithoutEncryption(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &recLogger{}
	for range 2 {
		if err := p.ConfigureClient(context.Background(), client.PluginConfigureClientOptions{ClientOptions: &client.Options{Logger: logs}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(logs.warn) != 1 || !strings.Contains(logs.warn[0], "in clear") {
		t.Errorf("warnings = %q, want one about tokens in clear", logs.warn)
	}
	// A host with a converter of its own (its own codec, say) is not warned.
	logs.warn = nil
	p2, _ := New(Options{})
	_ = p2.ConfigureClient(context.Background(), client.PluginConfigureClientOptions{ClientOptions: &client.Options{Logger: logs, DataConverter: converter.GetDefaultDataConverter()}})
	if len(logs.warn) != 0 {
		t.Errorf("warned a host that chose its converter: %q", logs.warn)
	}
}

// The codec wraps the host's own converter and never replaces it.
func TestEncryptionWrapsTheHostsConverter(t *testing.T) {
	host := converter.NewCompositeDataConverter(converter.NewNilPayloadConverter(), converter.NewByteSlicePayloadConverter(), converter.NewJSONPayloadConverter())
	p, err := New(Options{Encryption: &Encryption{Key: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	opts := &client.Options{DataConverter: host}
	if err := p.ConfigureClient(context.Background(), client.PluginConfigureClientOptions{ClientOptions: opts}); err != nil {
		t.Fatal(err)
	}
	pl, err := opts.DataConverter.ToPayload("token-value-123")
	if err != nil {
		t.Fatal(err)
	}
	if string(pl.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted || bytes.Contains(pl.Data, []byte("token-value-123")) {
		t.Fatalf("payload not encrypted: %v", pl.Metadata)
	}
	var back string
	if err := opts.DataConverter.FromPayload(pl, &back); err != nil || back != "token-value-123" {
		t.Fatalf("round trip = %q, %v", back, err)
	}
	plainByHost, _ := host.ToPayload("token-value-123")
	sc, _ := p.o.Encryption.Codec()
	inner, err := sc.Decode([]*commonpb.Payload{pl})
	if err != nil || !bytes.Equal(inner[0].Data, plainByHost.Data) {
		t.Errorf("decrypted payload %q, want what the host's converter wrote %q", inner[0].Data, plainByHost.Data)
	}
	if opts.FailureConverter == nil {
		t.Error("no failure converter: failure messages would stay in clear")
	}
}

// A host's token answers are sealed inside the encryption with
// Encryption.SealKey: the codec key alone does not open them.
func TestEncryptionSealsTokens(t *testing.T) {
	seal := Key{ID: "seal", Key: bytes.Repeat([]byte{6}, 32)}
	p, err := New(Options{Encryption: &Encryption{Key: testKey, SealKey: &seal}})
	if err != nil {
		t.Fatal(err)
	}
	opts := &client.Options{}
	if err := p.ConfigureClient(context.Background(), client.PluginConfigureClientOptions{ClientOptions: opts}); err != nil {
		t.Fatal(err)
	}
	pl, err := opts.DataConverter.ToPayload(contract.TokenResult{Token: "token-value-123"})
	if err != nil {
		t.Fatal(err)
	}
	outer, _ := codec.New(codec.Key(testKey))
	inner, err := outer.Decode([]*commonpb.Payload{pl})
	if err != nil || string(inner[0].Metadata[converter.MetadataEncoding]) != codec.EncodingSealed || bytes.Contains(inner[0].Data, []byte("token-value-123")) {
		t.Fatalf("under the codec key: %v %v", inner[0].GetMetadata(), err)
	}
	var back contract.TokenResult
	if err := opts.DataConverter.FromPayload(pl, &back); err != nil || back.Token != "token-value-123" {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	if _, err := New(Options{Encryption: &Encryption{Key: testKey, SealKey: &Key{ID: "s", Key: []byte("short")}}}); err == nil {
		t.Error("a short seal key was accepted")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"short key":      {Encryption: &Encryption{Key: Key{ID: "k", Key: []byte("short")}}},
		"duplicate name": {Profiles: []profile.Profile{aaProfile("cr"), aaProfile("cr")}},
		"unknown kind":   {Profiles: []profile.Profile{{Name: "x", Kind: "blueprism", URL: "https://x.example"}}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}

func aaProfile(name string) profile.Profile {
	return profile.Profile{Name: name, Kind: profile.KindAA, URL: "https://cr.example.com", Username: "u", APIKey: "k"}
}
