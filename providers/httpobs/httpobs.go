// Package httpobs describes one provider HTTP call for whoever observes them
// (metrics, tracing). It has no dependencies, so providers stay free of
// Temporal and telemetry imports while the worker plugs both in.
package httpobs

import (
	"context"
	"time"
)

// Call is one finished provider HTTP request. It never carries the URL,
// headers or bodies: they may hold tokens.
type Call struct {
	Platform string // "automationanywhere", "uipath-orchestrator", "uipath-automationhub"
	Op       string // the provider operation, e.g. "login", "execute" (a small fixed set)
	Method   string // HTTP method
	// Status is the HTTP status of the answer, 0 when there was none
	// (connection refused, timeout, unreadable body).
	Status   int
	Start    time.Time
	Duration time.Duration // from sending the request to reading the whole answer
	Err      error         // nil on a 2xx answer
}

// Observer is told about every provider HTTP call once it has finished. ctx
// is the caller's context (it carries the activity's trace span, if any).
// Observers must be fast and safe for concurrent use.
type Observer func(ctx context.Context, c Call)
