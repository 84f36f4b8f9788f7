package codec

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// MaxBody bounds a codec request. The UI decodes one event's payloads per
// call, so a few MiB is plenty; the SDK's handler reads the whole body.
const MaxBody = 4 << 20

// HandlerOptions say who may use the codec endpoint.
type HandlerOptions struct {
	// AuthToken, if set, is accepted as "Authorization: Bearer <AuthToken>"
	// (the CLI and scripts).
	AuthToken string
	// OIDC, if set, accepts the access tokens it verifies (the Temporal UI
	// forwards its signed-in user's).
	OIDC *OIDC
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the endpoint, e.g. the Temporal UI's; none by default.
	CORSOrigins []string
}

// RequiresAuth reports whether every call must authenticate.
func (o HandlerOptions) RequiresAuth() bool { return o.AuthToken != "" || o.OIDC != nil }

// Handler serves Temporal's remote codec protocol (POST .../encode and
// .../decode, Payloads as protobuf JSON) for c; mount it at /codec/.
// Without AuthToken and OIDC it authenticates nobody: the worker serves it
// so only on loopback.
func Handler(c converter.PayloadCodec, o HandlerOptions) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(c)
	want := []byte("Bearer " + o.AuthToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Add("Vary", "Origin")
			if !slices.Contains(o.CORSOrigins, origin) {
				http.Error(w, fmt.Sprintf("origin %q may not call the codec; list the Temporal UI's origin in RPAFLOW_CODEC_CORS_ORIGINS", origin), http.StatusForbidden)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Namespace")
			h.Set("Access-Control-Max-Age", "600")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if o.RequiresAuth() {
			if status, err := authenticate(r, o, want); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="rpaflow codec"`)
				http.Error(w, err.Error(), status)
				return
			}
		}
		if r.Method != http.MethodPost || !(strings.HasSuffix(r.URL.Path, "/encode") || strings.HasSuffix(r.URL.Path, "/decode")) {
			http.Error(w, "the codec serves POST .../encode and POST .../decode", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if len(body) > MaxBody {
			http.Error(w, fmt.Sprintf("the request body exceeds %d MiB; send fewer payloads per call", MaxBody>>20), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		codec.ServeHTTP(w, r)
	})
}

// authenticate accepts the static token or a verified OIDC access token.
func authenticate(r *http.Request, o HandlerOptions, want []byte) (int, error) {
	got := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(got, "Bearer ")
	if !ok || raw == "" {
		return http.StatusUnauthorized, errors.New("no bearer token: send Authorization: Bearer <RPAFLOW_CODEC_AUTH_TOKEN> or the Temporal UI user's OIDC access token")
	}
	if o.AuthToken != "" && subtle.ConstantTimeCompare([]byte(got), want) == 1 {
		return 0, nil
	}
	if o.OIDC == nil {
		return http.StatusUnauthorized, errors.New("wrong bearer token: it is not RPAFLOW_CODEC_AUTH_TOKEN")
	}
	if strings.Count(raw, ".") != 2 {
		return http.StatusUnauthorized, errors.New("wrong bearer token: it is neither RPAFLOW_CODEC_AUTH_TOKEN nor a JWT access token")
	}
	return o.OIDC.Verify(r.Context(), raw)
}
