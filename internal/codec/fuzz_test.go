package codec

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

func fuzzCodec(t testing.TB) *Codec {
	c, err := New(Key{ID: "k1", Key: bytes.Repeat([]byte{3}, 32)}, Key{ID: "old", Key: bytes.Repeat([]byte{4}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzDecode: any payload, however its encrypted bytes and key id are
// forged, decodes to an error or to what was encrypted; never a panic.
// Seeds are real ciphertexts, so mutations start from valid layers.
func FuzzDecode(f *testing.F) {
	c := fuzzCodec(f)
	plain := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("json/plain")}, Data: []byte(`{"token":"x"}`)}
	once, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		f.Fatal(err)
	}
	twice, _ := proto.Marshal(once[0])
	f.Add(once[0].GetData(), "k1", true)
	f.Add(twice, "k1", true)
	f.Add([]byte("short"), "old", true)
	f.Add([]byte(`{"a":1}`), "", false)
	f.Fuzz(func(t *testing.T, data []byte, keyID string, encrypted bool) {
		p := &commonpb.Payload{Metadata: map[string][]byte{MetadataKeyID: []byte(keyID)}, Data: data}
		if encrypted {
			p.Metadata[converter.MetadataEncoding] = []byte(EncodingEncrypted)
		}
		out, err := c.Decode([]*commonpb.Payload{p})
		if err != nil {
			return
		}
		if len(out) != 1 {
			t.Fatalf("%d payloads out of 1", len(out))
		}
		if !encrypted && !proto.Equal(out[0], p) {
			t.Fatal("an unencrypted payload was changed")
		}
		// What decodes must encode again and decode to itself.
		again, err := c.Encode(out)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decode(again)
		if err != nil || !proto.Equal(back[0], out[0]) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzHandler: whatever body reaches /codec/decode or /codec/encode, the
// answer is a success or a client error (never a 5xx or a panic), and an
// error never echoes a request's token.
func FuzzHandler(f *testing.F) {
	h := Handler(fuzzCodec(f), HandlerOptions{AuthToken: "fuzz-codec-token-0123456789abcdef"})
	f.Add("decode", []byte(`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"AAAA"}]}`))
	f.Add("encode", []byte(`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"e30="}]}`))
	f.Add("decode", []byte(`{"payloads":[`))
	f.Add("decode", []byte(`null`))
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		if op != "encode" && op != "decode" {
			op = "decode"
		}
		r := httptest.NewRequest(http.MethodPost, "/codec/"+op, bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer fuzz-codec-token-0123456789abcdef")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
		if strings.Contains(w.Body.String(), "fuzz-codec-token") {
			t.Fatal("the answer echoes the bearer token")
		}
	})
}
