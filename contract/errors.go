package contract

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
)

// ErrorType is the type of every Temporal application error rpaflow raises.
// It survives child workflows and Nexus operations, so a caller's workflow
// can branch on it with TypeOf.
type ErrorType string

// The error types, from the platform's answer to what a retry can do.
const (
	ErrInvalidInput   ErrorType = "InvalidInput"   // bad workflow input or unknown profile; the message names the field
	ErrInvalidRequest ErrorType = "InvalidRequest" // the platform refused the request (400, 409, 412, …)
	ErrNotFound       ErrorType = "NotFound"       // no such bot, process, folder, queue or deployment
	ErrAuthFailed     ErrorType = "AuthFailed"     // credentials refused: a human must act
	ErrForbidden      ErrorType = "Forbidden"      // not permitted: the platform's 403, or a profile the caller's Nexus endpoint may not use
	ErrTokenRejected  ErrorType = "TokenRejected"  // a fresh token was refused again after invalidate
	ErrThrottled      ErrorType = "Throttled"      // 429 or a concurrency limit; retried after Retry-After
	ErrUnavailable    ErrorType = "Unavailable"    // 5xx, timeouts before sending, connection refused; retried
	ErrAmbiguous      ErrorType = "Ambiguous"      // sent, outcome unknown; retried only for idempotent work
	ErrRunFailed      ErrorType = "RunFailed"      // the platform ran the work and reported failure
	ErrSessionClosed  ErrorType = "SessionClosed"  // the session was logged out while the call waited
	ErrTimedOut       ErrorType = "TimedOut"       // the input's timeout passed; the run was stopped (details: RunStop)
)

// Permanent reports whether no retry can fix an error of type t.
func (t ErrorType) Permanent() bool {
	switch t {
	case ErrInvalidInput, ErrInvalidRequest, ErrNotFound, ErrAuthFailed, ErrForbidden,
		ErrTokenRejected, ErrRunFailed, ErrSessionClosed, ErrTimedOut:
		return true
	}
	return false
}

// Retryable reports whether work that failed with t may run again: never
// for permanent types, for Ambiguous only when the work is idempotent.
// Types rpaflow does not raise are retryable, as Temporal treats them.
func (t ErrorType) Retryable(idempotent bool) bool {
	if t == ErrAmbiguous {
		return idempotent
	}
	return !t.Permanent()
}

// allTypes lists every type, for NonRetryableTypes.
var allTypes = []ErrorType{ErrInvalidInput, ErrInvalidRequest, ErrNotFound, ErrAuthFailed, ErrForbidden,
	ErrTokenRejected, ErrThrottled, ErrUnavailable, ErrAmbiguous, ErrRunFailed, ErrSessionClosed, ErrTimedOut}

// ErrorTypes lists every error type rpaflow raises.
func ErrorTypes() []ErrorType { return slices.Clone(allTypes) }

// NonRetryableTypes is a RetryPolicy's NonRetryableErrorTypes for work
// that is (or is not) idempotent, by the same rule as Retryable.
func NonRetryableTypes(idempotent bool) []string {
	var out []string
	for _, t := range allTypes {
		if !t.Retryable(idempotent) {
			out = append(out, string(t))
		}
	}
	return out
}

// TypeOf returns the type of the first application error in err's chain
// that carries one of rpaflow's types, through activity, child workflow and
// Nexus operation errors; else the type of the first application error
// ("" if none).
func TypeOf(err error) ErrorType {
	if app := appError(err); app != nil {
		return ErrorType(app.Type())
	}
	return ""
}

// appError finds the application error TypeOf and InfoOf describe.
func appError(err error) *temporal.ApplicationError {
	var first *temporal.ApplicationError
	for e := err; e != nil; e = errors.Unwrap(e) {
		app, ok := e.(*temporal.ApplicationError)
		if !ok {
			continue
		}
		if slices.Contains(allTypes, ErrorType(app.Type())) {
			return app
		}
		if first == nil {
			first = app
		}
	}
	return first
}

// IsType reports whether err carries one of types.
func IsType(err error, types ...ErrorType) bool { return slices.Contains(types, TypeOf(err)) }

// ErrorInfo is the first detail of every error rpaflow classifies: the
// platform's status and code, or the input field at fault, so callers
// need not parse messages.
type ErrorInfo struct {
	Platform string `json:"platform,omitempty"`
	Op       string `json:"op,omitempty"`
	Status   int    `json:"status,omitempty"`
	Code     string `json:"code,omitempty"`
	Field    string `json:"field,omitempty"`
	// SentAt: when the request whose outcome is unknown was sent (Ambiguous).
	SentAt *time.Time `json:"sentAt,omitempty"`
}

// InfoOf returns the ErrorInfo carried by err, if any.
func InfoOf(err error) (ErrorInfo, bool) {
	app := appError(err)
	if app == nil || !app.HasDetails() {
		return ErrorInfo{}, false
	}
	var info ErrorInfo
	if app.Details(&info) != nil {
		return ErrorInfo{}, false
	}
	return info, true
}

// NewError is an application error of type t carrying info (and the
// platform's Retry-After for Throttled). Permanent types are non-retryable
// whatever the retry policy says.
func NewError(t ErrorType, msg string, info ErrorInfo, retryAfter time.Duration) error {
	opts := temporal.ApplicationErrorOptions{NonRetryable: t.Permanent(), Details: []any{info}}
	if t == ErrThrottled && retryAfter > 0 {
		opts.NextRetryDelay = retryAfter
	}
	return temporal.NewApplicationErrorWithOptions(msg, string(t), opts)
}

// NewRunFailed reports work the platform ran and failed; result is the
// run's final state, which callers read with Details.
func NewRunFailed(msg string, result any) error {
	return temporal.NewNonRetryableApplicationError(msg, string(ErrRunFailed), nil, result)
}

// InvalidInputError names the input field at fault and what to do about it.
func InvalidInputError(field, format string, args ...any) error {
	return NewError(ErrInvalidInput, field+": "+fmt.Sprintf(format, args...), ErrorInfo{Field: field}, 0)
}

// ProfileForbiddenError refuses a Nexus call for a profile the task queue
// of the caller's endpoint does not allow. It names only that profile and
// queue: a caller learns nothing of the profiles other teams use.
func ProfileForbiddenError(profile, taskQueue string) error {
	return NewError(ErrForbidden, fmt.Sprintf("profile %q is not allowed on Nexus task queue %q: this endpoint's callers may not use it; ask rpaflow's operator to allow it for this queue (RPAFLOW_NEXUS_QUEUES) or call through an endpoint that allows it",
		profile, taskQueue), ErrorInfo{Field: "profile", Code: "nexus-queue"}, 0)
}

// NewTimedOut is the TimedOut error of a wait whose bound passed;
// details carries what is known (a RunStop, or the item as last seen).
func NewTimedOut(msg string, details any) error {
	return temporal.NewNonRetryableApplicationError(msg, string(ErrTimedOut), nil, details)
}
