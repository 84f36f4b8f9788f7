package codec

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/rpaflow/rpaflow/test/testoidc"
)

const staticToken = "codec-test-token-0123456789abcdef0123" // 38 characters

func TestHandlerRoundTripThroughHTTP(t *testing.T) {
	c := mustNew(t, k1)
	mux := http.NewServeMux()
	mux.Handle("/codec/", Handler(c, HandlerOptions{AuthToken: staticToken}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The SDK's own remote codec client speaks the protocol the CLI and UI use.
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+staticToken)
			return nil
		},
	})
	in := payloads(t)
	enc, err := remote.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(enc[0].Metadata[converter.MetadataEncoding]) != EncodingEncrypted {
		t.Fatalf("remote encode did not encrypt: %v", enc[0].Metadata)
	}
	// what the server encrypted, the local codec decrypts, and vice versa
	if dec, err := c.Decode(enc); err != nil || !proto.Equal(dec[0], in[0]) {
		t.Fatalf("local decode: %v %v", dec, err)
	}
	localEnc, _ := c.Encode(in)
	dec, err := remote.Decode(localEnc)
	if err != nil || !proto.Equal(dec[0], in[0]) {
		t.Fatalf("remote decode: %v %v", dec, err)
	}
}

// call posts body to h and returns the response.
func call(h http.Handler, method, path, auth, origin, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Only listed origins get CORS answers, never "*", and a browser page of
// any other origin is refused before it can decode.
func TestHandlerCORS(t *testing.T) {
	const ui = "http://localhost:8233"
	h := Handler(mustNew(t, k1), HandlerOptions{AuthToken: staticToken, CORSOrigins: []string{ui}})
	body := `{"payloads":[]}`

	pre := call(h, http.MethodOptions, "/codec/decode", "", ui, "")
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != ui {
		t.Errorf("preflight from the UI: %d, Allow-Origin %q", pre.Code, pre.Header().Get("Access-Control-Allow-Origin"))
	}
	for _, want := range []string{"Content-Type", "Authorization", "X-Namespace"} {
		if !strings.Contains(pre.Header().Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("Allow-Headers misses %s", want)
		}
	}
	ok := call(h, http.MethodPost, "/codec/decode", "Bearer "+staticToken, ui, body)
	if ok.Code != http.StatusOK || ok.Header().Get("Access-Control-Allow-Origin") != ui || ok.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("authorized call from the UI: %d %v", ok.Code, ok.Header())
	}
	for _, evil := range []string{"https://evil.example", "null", "http://localhost:8234"} {
		for _, m := range []string{http.MethodOptions, http.MethodPost} {
			w := call(h, m, "/codec/decode", "Bearer "+staticToken, evil, body)
			if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" || !strings.Contains(w.Body.String(), "RPAFLOW_CODEC_CORS_ORIGINS") {
				t.Errorf("%s from %s: %d, Allow-Origin %q, %q", m, evil, w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Body)
			}
		}
	}
	none := Handler(mustNew(t, k1), HandlerOptions{AuthToken: staticToken})
	if w := call(none, http.MethodOptions, "/codec/decode", "", ui, ""); w.Code != http.StatusForbidden {
		t.Errorf("no origins configured: preflight %d", w.Code)
	}
}

func TestHandlerStaticToken(t *testing.T) {
	h := Handler(mustNew(t, k1), HandlerOptions{AuthToken: staticToken})
	body := `{"payloads":[]}`
	for _, auth := range []string{"", "Bearer wrong", staticToken, "Bearer " + staticToken + "x", "Basic " + staticToken} {
		w := call(h, http.MethodPost, "/codec/decode", auth, "", body)
		if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("auth %q: status %d", auth, w.Code)
		}
		if strings.Contains(w.Body.String(), staticToken) {
			t.Errorf("auth %q: the answer echoes the token", auth)
		}
	}
	if w := call(h, http.MethodPost, "/codec/decode", "Bearer "+staticToken, "", body); w.Code != http.StatusOK {
		t.Errorf("right token: %d %s", w.Code, w.Body)
	}
	if w := call(h, http.MethodGet, "/codec/decode", "Bearer "+staticToken, "", ""); w.Code != http.StatusNotFound {
		t.Errorf("GET: status %d", w.Code)
	}
	big := `{"payloads":[{"data":"` + strings.Repeat("A", MaxBody) + `"}]}`
	if w := call(h, http.MethodPost, "/codec/decode", "Bearer "+staticToken, "", big); w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "MiB") {
		t.Errorf("oversized body: %d %s", w.Code, w.Body)
	}
	open := Handler(mustNew(t, k1), HandlerOptions{})
	if w := call(open, http.MethodPost, "/codec/encode", "", "", body); w.Code != http.StatusOK {
		t.Errorf("no auth configured: status %d", w.Code)
	}
}

// Access tokens of the configured issuer are checked for signature,
// issuer, audience, expiry and the required claim; the static token still
// works next to them.
func TestHandlerOIDC(t *testing.T) {
	iss, err := testoidc.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	other, err := testoidc.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	h := Handler(mustNew(t, k1), HandlerOptions{AuthToken: staticToken,
		OIDC: NewOIDC(OIDCOptions{Issuer: iss.URL, Audience: "temporal-ui", Claim: "groups", Value: "rpaflow-readers"})})
	body := `{"payloads":[]}`
	good := testoidc.Claims{Audience: "temporal-ui", Groups: []string{"staff", "rpaflow-readers"}}
	cases := []struct {
		name  string
		token string
		code  int
		says  string
	}{
		{"valid", iss.Token(good), http.StatusOK, ""},
		{"static token", staticToken, http.StatusOK, ""},
		{"expired", iss.Token(testoidc.Claims{Audience: "temporal-ui", Groups: good.Groups, Expiry: time.Now().Add(-time.Minute)}), http.StatusUnauthorized, "expired"},
		{"forged", iss.Forge(good), http.StatusUnauthorized, "signature"},
		{"wrong audience", iss.Token(testoidc.Claims{Audience: "grafana", Groups: good.Groups}), http.StatusUnauthorized, "audience"},
		{"other issuer's key", other.Token(good), http.StatusUnauthorized, "signature"},
		{"wrong issuer claim", iss.Token(testoidc.Claims{Issuer: "https://evil.example", Audience: "temporal-ui", Groups: good.Groups}), http.StatusUnauthorized, "different provider"},
		{"missing group", iss.Token(testoidc.Claims{Audience: "temporal-ui", Groups: []string{"staff"}}), http.StatusForbidden, "rpaflow-readers"},
		{"not a JWT", "not-a-jwt", http.StatusUnauthorized, "JWT"},
	}
	for _, c := range cases {
		w := call(h, http.MethodPost, "/codec/decode", "Bearer "+c.token, "", body)
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("%s: %d %q, want %d saying %q", c.name, w.Code, w.Body, c.code, c.says)
		}
	}

	// An unreachable issuer is a 503 that names it, and discovery is retried.
	down, err := testoidc.Start()
	if err != nil {
		t.Fatal(err)
	}
	url := down.URL
	down.Close()
	h = Handler(mustNew(t, k1), HandlerOptions{OIDC: NewOIDC(OIDCOptions{Issuer: url, Audience: "temporal-ui"})})
	w := call(h, http.MethodPost, "/codec/decode", "Bearer "+iss.Token(good), "", body)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "RPAFLOW_CODEC_OIDC_ISSUER="+url) {
		t.Errorf("issuer down: %d %s", w.Code, w.Body)
	}
}

func TestClaimHas(t *testing.T) {
	var list any
	_ = json.Unmarshal([]byte(`["a","b"]`), &list)
	for _, c := range []struct {
		claim any
		want  bool
	}{{"b", true}, {"bb", false}, {list, true}, {nil, false}, {42.0, false}} {
		if got := claimHas(c.claim, "b"); got != c.want {
			t.Errorf("claimHas(%v) = %v", c.claim, got)
		}
	}
}
