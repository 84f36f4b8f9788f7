package events

import (
	"net/http"
	"time"

	"github.com/rpaflow/rpaflow/internal/adminhttp"
)

// Server returns the HTTP server of the events listener: its own listener
// (RPAFLOW_EVENTS_ADDR), shorter timeouts and smaller headers than the
// admin listener's, as its clients are platforms on the far side of the
// operator's HTTPS ingress.
func Server(h http.Handler) *http.Server {
	return adminhttp.Server(h, adminhttp.Limits{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 30 * time.Second,
		Idle: 60 * time.Second, MaxHeaderBytes: 16 << 10})
}
