package codec

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

var (
	k1 = Key{ID: "k1", Key: bytes.Repeat([]byte{1}, 32)}
	k2 = Key{ID: "k2", Key: bytes.Repeat([]byte{2}, 32)}
)

func mustNew(t *testing.T, active Key, old ...Key) *Codec {
	t.Helper()
	c, err := New(active, old...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func payloads(t *testing.T) []*commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"token": "super-secret-token-value"})
	if err != nil {
		t.Fatal(err)
	}
	return []*commonpb.Payload{p}
}

func TestRoundTrip(t *testing.T) {
	c := mustNew(t, k1)
	in := payloads(t)
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(enc[0].Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
		t.Errorf("encoding = %q", got)
	}
	if got := string(enc[0].Metadata[MetadataKeyID]); got != "k1" {
		t.Errorf("key id = %q", got)
	}
	if bytes.Contains(enc[0].Data, []byte("super-secret")) || bytes.Contains(enc[0].Data, []byte("json/plain")) {
		t.Error("ciphertext contains plaintext")
	}
	enc2, _ := c.Encode(in)
	if bytes.Equal(enc[0].Data, enc2[0].Data) {
		t.Error("two encryptions are identical: nonce not random")
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], in[0]) {
		t.Errorf("decoded %v, want %v", dec[0], in[0])
	}
}

func TestDecodePassesThroughUnencrypted(t *testing.T) {
	c := mustNew(t, k1)
	in := payloads(t)
	dec, err := c.Decode(in)
	if err != nil || dec[0] != in[0] {
		t.Fatalf("Decode = %v, %v", dec, err)
	}
}

func TestTamperDetected(t *testing.T) {
	c := mustNew(t, k1)
	enc, _ := c.Encode(payloads(t))
	for _, pos := range []int{0, 12, len(enc[0].Data) - 1} { // nonce, ciphertext, tag
		bad := proto.Clone(enc[0]).(*commonpb.Payload)
		bad.Data[pos] ^= 0x01
		if _, err := c.Decode([]*commonpb.Payload{bad}); err == nil || !strings.Contains(err.Error(), "failed authentication") {
			t.Errorf("flip at %d: err = %v", pos, err)
		}
	}
	short := proto.Clone(enc[0]).(*commonpb.Payload)
	short.Data = short.Data[:10]
	if _, err := c.Decode([]*commonpb.Payload{short}); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("short: err = %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustNew(t, k1)
	rotated := mustNew(t, k2, k1)
	encOld, _ := old.Encode(payloads(t))
	dec, err := rotated.Decode(encOld)
	if err != nil {
		t.Fatalf("old key no longer decrypts: %v", err)
	}
	if !proto.Equal(dec[0], payloads(t)[0]) {
		t.Error("wrong plaintext")
	}
	encNew, _ := rotated.Encode(payloads(t))
	if got := string(encNew[0].Metadata[MetadataKeyID]); got != "k2" {
		t.Errorf("new payloads use key %q, want k2", got)
	}
	// the old deployment cannot read new payloads, and says which key it lacks
	_, err = old.Decode(encNew)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `key id "k2"`) {
		t.Errorf("err = %v", err)
	}
}

func TestWrongKeyUnderSameID(t *testing.T) {
	enc, _ := mustNew(t, k1).Encode(payloads(t))
	impostor := mustNew(t, Key{ID: "k1", Key: k2.Key})
	if _, err := impostor.Decode(enc); err == nil || !strings.Contains(err.Error(), `key id "k1"`) {
		t.Errorf("err = %v", err)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		active Key
		old    []Key
		want   string
	}{
		{"short", Key{ID: "a", Key: []byte("short")}, nil, `active key "a" is 5 bytes`},
		{"empty id", Key{Key: k1.Key}, nil, "empty id"},
		{"duplicate id", k1, []Key{{ID: "k1", Key: k2.Key}}, `old key 1 reuses key id "k1"`},
		{"bad old", k1, []Key{{ID: "o", Key: []byte{1}}}, `old key 1 "o" is 1 bytes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.active, tc.old...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey()
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Errorf("keys %x %x", a, b)
	}
	if _, err := New(Key{ID: "dev", Key: a}); err != nil {
		t.Error(err)
	}
}

// A client that encodes an already-encoded payload (the Temporal CLI
// retrying a start through the codec endpoint) gets it back unchanged.
func TestEncodeIsIdempotent(t *testing.T) {
	c := mustNew(t, k2, k1)
	once, err := c.Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	twice, err := c.Encode(once)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(once[0], twice[0]) {
		t.Fatal("encoding an encrypted payload encrypted it again")
	}
	// A payload under a retired key is ours too: it stays decryptable as is.
	old, _ := mustNew(t, k1).Encode(payloads(t))
	if again, _ := c.Encode(old); !proto.Equal(again[0], old[0]) {
		t.Error("a payload under an old key was encrypted again")
	}
	// Another codec's encryption is opaque data to this one: it is wrapped.
	foreign, _ := mustNew(t, Key{ID: "elsewhere", Key: bytes.Repeat([]byte{9}, 32)}).Encode(payloads(t))
	wrapped, err := c.Encode(foreign)
	if err != nil || string(wrapped[0].Metadata[MetadataKeyID]) != "k2" {
		t.Fatalf("foreign payload: key id %q (%v), want wrapped under k2", wrapped[0].Metadata[MetadataKeyID], err)
	}
}

// Histories written before Encode became idempotent can hold payloads
// encrypted twice over; Decode unwraps every layer.
func TestDecodeUnwrapsNestedLayers(t *testing.T) {
	c := mustNew(t, k1)
	p := payloads(t)
	layered := p
	for range 3 {
		layered = []*commonpb.Payload{seal(t, c, layered[0])}
	}
	got, err := c.Decode(layered)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got[0], p[0]) {
		t.Fatalf("decoded %v, want the original payload", got[0])
	}
	deep := p[0]
	for range maxLayers + 1 {
		deep = seal(t, c, deep)
	}
	if _, err := c.Decode([]*commonpb.Payload{deep}); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("decode of %d layers: %v, want a bounded refusal", maxLayers+1, err)
	}
}

// seal encrypts p with c's active key whatever p is, as the codec did
// before it recognised its own payloads.
func seal(t *testing.T, c *Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	plain, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	aead := c.aeads[c.activeID]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte(c.activeID)},
		Data:     aead.Seal(nonce, nonce, plain, nil),
	}
}
