// Package adminhttp is the worker's HTTP side: health and metrics on one
// listener, the payload codec endpoint on its own.
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
	// Health reports whether the worker is healthy; nil means always.
	Health func(context.Context) error
}

// Handler routes GET /healthz and GET /metrics. /codec answers 404 here:
// whoever may scrape metrics may not decrypt.
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
	moved := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no codec here: the codec endpoint listens on RPAFLOW_CODEC_ADDR (default 127.0.0.1:8082), not on RPAFLOW_HTTP_ADDR", http.StatusNotFound)
	})
	mux.Handle("/codec/", moved)
	mux.Handle("/codec", moved)
	return mux
}

// CodecHandler routes /codec and /codec/ to codec (nil: plaintext mode,
// 404); everything else is 404.
func CodecHandler(codec http.Handler) http.Handler {
	if codec == nil {
		codec = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no codec: the worker runs in plaintext mode (RPAFLOW_INSECURE_PLAINTEXT=true), payloads are not encrypted", http.StatusNotFound)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/codec/", codec)
	// `temporal --codec-endpoint http://host/codec` posts to /codec/encode;
	// the bare /codec would otherwise be redirected, which POST clients drop.
	mux.Handle("/codec", codec)
	return mux
}

// Limits bound what one client may hold of a listener: the time to send
// its headers and its request, to take the answer, to idle between
// requests, and the size of its headers.
type Limits struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
}

// AdminLimits are those of /healthz, /metrics and /codec, whose clients are
// probes, Prometheus, the Temporal UI and the CLI.
var AdminLimits = Limits{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second,
	Idle: 2 * time.Minute, MaxHeaderBytes: 64 << 10}

// Server returns an http.Server for h within l, so a slow or idle client
// cannot hold a connection open. Every listener of the worker is one.
func Server(h http.Handler, l Limits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
