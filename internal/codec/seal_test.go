package codec

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

// tokenAnswer stands for the values that carry platform tokens.
type tokenAnswer struct {
	Token  string `json:"token"`
	Expiry string `json:"expiry"`
}

func (tokenAnswer) WorkerOnly() bool { return true }

type status struct {
	Profile string `json:"profile"`
}

// workerDC is the worker's data converter for c.
func workerDC(c *Codec) converter.DataConverter {
	dc, _ := Converters(converter.GetDefaultDataConverter(), c, Boundary{})
	return dc
}

// A token answer written by the worker is sealed under the encryption: the
// codec endpoint's decode leaves it sealed, while a status decodes in
// clear; the worker (and anyone holding the codec key) reads both.
func TestSealedThroughCodecEndpoint(t *testing.T) {
	c := mustNew(t, k1)
	dc := workerDC(c)
	tok, err := dc.ToPayload(tokenAnswer{Token: "eyJ.secret-token.sig", Expiry: "soon"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := dc.ToPayload(status{Profile: "cr"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*commonpb.Payload{tok, st} {
		if string(p.Metadata[converter.MetadataEncoding]) != EncodingEncrypted {
			t.Fatalf("stored payload encoding %q, want %s", p.Metadata[converter.MetadataEncoding], EncodingEncrypted)
		}
	}
	// what the UI gets from /codec/decode
	h := Handler(c, HandlerOptions{})
	decoded := decodeVia(t, h, tok, st)
	if got := string(decoded[0].Metadata[converter.MetadataEncoding]); got != EncodingSealed {
		t.Errorf("the codec endpoint opened the token answer to %q", got)
	}
	if bytes.Contains(decoded[0].Data, []byte("secret-token")) || bytes.Contains(decoded[0].Data, []byte("soon")) {
		t.Error("the sealed payload shows its content")
	}
	if !bytes.Contains(decoded[1].Data, []byte(`"profile":"cr"`)) {
		t.Errorf("the status does not decode in clear: %q", decoded[1].Data)
	}
	var back tokenAnswer
	if err := dc.FromPayload(tok, &back); err != nil || back.Token != "eyJ.secret-token.sig" {
		t.Fatalf("the worker cannot read its own token answer: %+v %v", back, err)
	}
	if s := dc.ToString(tok); strings.Contains(s, "secret-token") {
		t.Errorf("ToString opens the seal: %q", s)
	}

	// A client working through the endpoint is refused clearly.
	remote := converter.NewCodecDataConverter(Sealing(converter.GetDefaultDataConverter(), nil), codecOnly{c})
	var got tokenAnswer
	if err := remote.FromPayload(tok, &got); !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), "RPAFLOW_CODEC_KEY") || got.Token != "" {
		t.Errorf("client without the worker-only key: %v, %+v", err, got)
	}
	var s status
	if err := remote.FromPayload(st, &s); err != nil || s.Profile != "cr" {
		t.Errorf("client reading a status: %+v %v", s, err)
	}
	if _, err := remote.ToPayload(tokenAnswer{Token: "x"}); err == nil || !strings.Contains(err.Error(), "worker-only key") {
		t.Errorf("client writing a token: %v", err)
	}
}

// codecOnly hides Codec's type, as the remote codec does.
type codecOnly struct{ converter.PayloadCodec }

func decodeVia(t *testing.T, h http.Handler, ps ...*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	raw, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	w := call(h, http.MethodPost, "/codec/decode", "", "", string(raw))
	if w.Code != http.StatusOK {
		t.Fatalf("/codec/decode: %d %s", w.Code, w.Body)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out.Payloads
}

// Old codec keys open what was sealed with the key derived from them, and
// a configured seal key takes over without losing the derived ones.
func TestSealKeyRotation(t *testing.T) {
	tok := tokenAnswer{Token: "tok-1"}
	underK1, err := workerDC(mustNew(t, k1)).ToPayload(tok)
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustNew(t, k2, k1)
	var got tokenAnswer
	if err := workerDC(rotated).FromPayload(underK1, &got); err != nil || got != tok {
		t.Fatalf("after codec key rotation: %+v %v", got, err)
	}
	s1 := Key{ID: "s1", Key: bytes.Repeat([]byte{3}, 32)}
	s2 := Key{ID: "s2", Key: bytes.Repeat([]byte{4}, 32)}
	withS1, err := rotated.WithSealKeys(&s1)
	if err != nil {
		t.Fatal(err)
	}
	underS1, _ := workerDC(withS1).ToPayload(tok)
	withS2, err := rotated.WithSealKeys(&s2, s1)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*commonpb.Payload{"derived": underK1, "s1": underS1} {
		got = tokenAnswer{}
		if err := workerDC(withS2).FromPayload(p, &got); err != nil || got != tok {
			t.Errorf("sealed under %s, opened with s2 and old s1: %+v %v", name, got, err)
		}
	}
	// The configured key really replaces the derived one.
	if err := workerDC(rotated).FromPayload(underS1, &got); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "RPAFLOW_SEAL_OLD_KEYS") {
		t.Errorf("opening s1's seal without s1: %v", err)
	}
	if _, err := rotated.WithSealKeys(nil, Key{ID: "k2", Key: s1.Key}); err == nil {
		t.Error("an old seal key reusing a codec key's id was accepted")
	}
}

// The seal key is not the codec key: a payload sealed with the derived key
// does not open with the codec key itself.
func TestDerivedSealKeyDiffers(t *testing.T) {
	d := deriveSealKey(k1)
	if bytes.Equal(d.Key, k1.Key) || len(d.Key) != KeySize {
		t.Fatalf("derived key %x", d.Key)
	}
	if bytes.Equal(deriveSealKey(k2).Key, d.Key) {
		t.Fatal("two codec keys derive the same seal key")
	}
}
