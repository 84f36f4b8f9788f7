package codec

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// maxBody bounds a codec request: the SDK's handler reads the whole body.
const maxBody = 64 << 20

// Handler serves Temporal's remote codec protocol (POST .../encode and
// .../decode, Payloads as protobuf JSON) for c; mount it at /codec/. It
// answers CORS preflights for the Temporal UI without authentication and,
// when authToken is set, requires "Authorization: Bearer <authToken>".
func Handler(c converter.PayloadCodec, authToken string) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(c)
	want := []byte("Bearer " + authToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Namespace")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if authToken != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rpaflow codec"`)
			http.Error(w, "missing or wrong bearer token: send Authorization: Bearer <RPAFLOW_CODEC_AUTH_TOKEN>", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || !(strings.HasSuffix(r.URL.Path, "/encode") || strings.HasSuffix(r.URL.Path, "/decode")) {
			http.Error(w, "the codec serves POST .../encode and POST .../decode", http.StatusNotFound)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		codec.ServeHTTP(w, r)
	})
}
