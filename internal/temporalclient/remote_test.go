package temporalclient

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/internal/config"
)

// A client without the key writes payloads the worker's key decrypts and
// reads the worker's payloads, through the worker's codec handler and its
// bearer token; a wrong token or no worker fails naming the variable.
func TestRemoteCodecThroughWorkerHandler(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	worker, err := codec.New(codec.Key{ID: "w", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(codec.Handler(worker, codec.HandlerOptions{AuthToken: "codec-token-1-0123456789abcdef-0123"}))
	defer srv.Close()

	remote, err := CodecFromConfig(config.Codec{Endpoint: srv.URL + "/codec", AuthToken: "codec-token-1-0123456789abcdef-0123", KeyID: "default"})
	if err != nil {
		t.Fatal(err)
	}
	dc := DataConverter(remote)
	p, err := dc.ToPayload(map[string]string{"profile": "cr"})
	if err != nil {
		t.Fatalf("encoding through the endpoint: %v", err)
	}
	if string(p.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted || bytes.Contains(p.Data, []byte("profile")) {
		t.Fatalf("the payload left the client unencrypted: %q", p.Metadata[converter.MetadataEncoding])
	}
	if dec, err := worker.Decode([]*commonpb.Payload{p}); err != nil || !bytes.Contains(dec[0].Data, []byte(`"profile":"cr"`)) {
		t.Fatalf("the worker cannot read the client's payload: %v", err)
	}
	fromWorker, _ := converter.GetDefaultDataConverter().ToPayload("California")
	enc, _ := worker.Encode([]*commonpb.Payload{fromWorker})
	var got string
	if err := dc.FromPayload(enc[0], &got); err != nil || got != "California" {
		t.Fatalf("decoding the worker's payload: %q, %v", got, err)
	}

	wrong := DataConverter(RemoteCodec(srv.URL+"/codec", "wrong"))
	if _, err := wrong.ToPayload("x"); err == nil || !strings.Contains(err.Error(), "RPAFLOW_CODEC_ENDPOINT") || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("wrong token: %v", err)
	} else if strings.Contains(err.Error(), "codec-token-1-0123456789abcdef-0123") {
		t.Errorf("the error echoes the token: %v", err)
	}

	gone := httptest.NewServer(nil)
	gone.Close()
	if _, err := DataConverter(RemoteCodec(gone.URL+"/codec", "")).ToPayload("x"); err == nil || !strings.Contains(err.Error(), "RPAFLOW_CODEC_ENDPOINT="+gone.URL+"/codec") {
		t.Errorf("no worker: %v", err)
	}
}

// RPAFLOW_SEAL_KEY seals token answers under its own id; a client with only
// the codec key cannot open them, one with both can, and through the codec
// endpoint a client gets ErrSealed rather than a blob.
func TestSealKeyFromConfig(t *testing.T) {
	base := config.Codec{KeyID: "w", Key: bytes.Repeat([]byte{7}, 32)}
	withSeal := base
	withSeal.SealKeyID, withSeal.SealKey = "seal", bytes.Repeat([]byte{8}, 32)
	worker, err := CodecFromConfig(withSeal)
	if err != nil {
		t.Fatal(err)
	}
	workerDC, _, err := withSeal.Encryption().Converters(nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := workerDC.ToPayload(contract.TokenResult{Token: "tok-secret"})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := worker.Decode([]*commonpb.Payload{p})
	if err != nil || string(inner[0].Metadata[converter.MetadataEncoding]) != codec.EncodingSealed || string(inner[0].Metadata[codec.MetadataKeyID]) != "seal" {
		t.Fatalf("inner payload %v, %v", inner[0].GetMetadata(), err)
	}
	var got contract.TokenResult
	if err := workerDC.FromPayload(p, &got); err != nil || got.Token != "tok-secret" {
		t.Errorf("worker: %+v %v", got, err)
	}
	codecOnly, _, _ := base.Encryption().Converters(nil, "", nil)
	if err := codecOnly.FromPayload(p, &got); !errors.Is(err, codec.ErrUnknownKey) {
		t.Errorf("codec key only: %v", err)
	}
	srv := httptest.NewServer(codec.Handler(worker, codec.HandlerOptions{}))
	defer srv.Close()
	got = contract.TokenResult{}
	if err := DataConverter(RemoteCodec(srv.URL+"/codec", "")).FromPayload(p, &got); !errors.Is(err, codec.ErrSealed) || got.Token != "" {
		t.Errorf("through the endpoint: %v %+v", err, got)
	}
}
