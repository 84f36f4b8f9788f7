// Package adminhttp is the worker's HTTP side: health, metrics and the
// payload codec endpoint.
package adminhttp

import (
	"context"
	"net/http"
	"time"
)

// healthTimeout bounds one health check, so a hung dependency answers 503
// instead of hanging the probe.
const healthTimeout = 5 * time.Second

// Options are the handlers to serve; nil ones answer 404.
type Options struct {
	// Metrics serves GET /metrics.
	Metrics http.Handler
	// Codec serves everything under /codec/ (nil in plaintext mode).
	Codec http.Handler
	// Health reports whether the worker is healthy; nil means always.
	Health func(context.Context) error
}

// Handler routes GET /healthz, GET /metrics and /codec/.
func Handler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if o.Health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
			defer cancel()
			if err := o.Health(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("unhealthy: " + err.Error() + "\n"))
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics)
	}
	codec := o.Codec
	if codec == nil {
		codec = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no codec: the worker runs in plaintext mode (RPAFLOW_INSECURE_PLAINTEXT=true), payloads are not encrypted", http.StatusNotFound)
		})
	}
	mux.Handle("/codec/", codec)
	// `temporal --codec-endpoint http://host/codec` posts to /codec/encode;
	// the bare /codec would otherwise be redirected, which POST clients drop.
	mux.Handle("/codec", codec)
	return mux
}
