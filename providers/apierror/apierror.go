// Package apierror holds the error types every provider returns, so callers can
// classify failures (status, platform code, Retry-After, whether the request
// may have reached the server) without knowing any wire format.
package apierror

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is a platform's answer that was not a success.
type Error struct {
	Platform   string        // "automationanywhere", "uipath-orchestrator", "uipath-automationhub"
	Op         string        // the provider operation, e.g. "login", "execute"
	Status     int           // HTTP status
	Code       string        // the platform's own error code ("UM1117", "1002", "invalid_scope"), if any
	Message    string        // the platform's message, if any
	Details    string        // extra detail the platform gave, if any
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d", e.Platform, e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Details != "" {
		s += " (" + e.Details + ")"
	}
	return s
}

// TransportError is a failure to get any HTTP answer.
type TransportError struct {
	Platform string
	Op       string
	// Sent is true when the request was fully written before the failure, so
	// the platform may have acted on it (a timeout waiting for the answer).
	Sent bool
	Err  error
}

func (e *TransportError) Error() string {
	when := "before the request was sent"
	if e.Sent {
		when = "after the request was sent"
	}
	return fmt.Sprintf("%s %s: %v (%s)", e.Platform, e.Op, e.Err, when)
}

func (e *TransportError) Unwrap() error { return e.Err }

// InvalidError is a problem found in the caller's input before anything was
// sent. Field names the offending input; the message says what to do.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Invalid builds an InvalidError.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// StatusOf returns the HTTP status of err, or 0 when err is not an *Error.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsUnauthorized reports whether the platform answered 401: the token
// was refused (expired, revoked, or replaced by a newer login).
func IsUnauthorized(err error) bool { return StatusOf(err) == http.StatusUnauthorized }
