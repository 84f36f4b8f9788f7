package events

import (
	"net/http"
	"time"
)

// Server returns the HTTP server of the events listener: its own listener
// (RPAFLOW_EVENTS_ADDR), short timeouts, small headers. It is meant to sit
// behind the operator's HTTPS ingress.
func Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}
