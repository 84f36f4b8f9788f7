package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/apierror"
)

// ErrorInfo travels as the details of every classified error so workflows
// and CLI users see the platform's status and code without parsing text.
type ErrorInfo struct {
	Platform string `json:"platform,omitempty"`
	Op       string `json:"op,omitempty"`
	Status   int    `json:"status,omitempty"`
	Code     string `json:"code,omitempty"`
	Field    string `json:"field,omitempty"`
}

// callKind says what a failed call was, which decides its class (DESIGN §5).
type callKind struct {
	// cachedToken: the call used a token from a session cache, so a 401
	// means that token went stale (TokenRejected), not bad credentials.
	cachedToken bool
	// unsafe: the call is not idempotent (execute, deploy, StartJobs,
	// AddQueueItem without a reference): a failure after the request was
	// sent is Ambiguous, never silently retried.
	unsafe bool
}

// classify turns a provider error into a Temporal application error whose
// type is one of contract's error classes.
func classify(err error, k callKind) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return err // already classified (e.g. a session's answer)
	}
	var inv *apierror.InvalidError
	if errors.As(err, &inv) {
		return newError(contract.ErrInvalidInput, err.Error(), ErrorInfo{Field: inv.Field}, 0)
	}
	var te *apierror.TransportError
	if errors.As(err, &te) {
		info := ErrorInfo{Platform: te.Platform, Op: te.Op}
		if te.Sent && k.unsafe {
			return newError(contract.ErrAmbiguous, err.Error()+"; the platform may have acted on it", info, 0)
		}
		return newError(contract.ErrUnavailable, err.Error(), info, 0)
	}
	var ae *apierror.Error
	if errors.As(err, &ae) {
		info := ErrorInfo{Platform: ae.Platform, Op: ae.Op, Status: ae.Status, Code: ae.Code}
		return newError(classOf(ae, k), err.Error(), info, ae.RetryAfter)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if k.unsafe {
			return newError(contract.ErrAmbiguous, err.Error(), ErrorInfo{}, 0)
		}
		return newError(contract.ErrUnavailable, err.Error(), ErrorInfo{}, 0)
	}
	return newError(contract.ErrUnavailable, err.Error(), ErrorInfo{}, 0)
}

func classOf(e *apierror.Error, k callKind) string {
	switch {
	case e.Code == "invalid_client" || e.Code == "invalid_scope" || e.Code == "unauthorized_client":
		return contract.ErrAuthFailed
	case e.Status == http.StatusUnauthorized:
		if k.cachedToken {
			return contract.ErrTokenRejected
		}
		return contract.ErrAuthFailed
	case e.Status == http.StatusForbidden:
		return contract.ErrForbidden
	case e.Status == http.StatusNotFound:
		return contract.ErrNotFound
	case e.Status == http.StatusTooManyRequests:
		return contract.ErrThrottled
	case e.Status == http.StatusGatewayTimeout && k.unsafe:
		return contract.ErrAmbiguous
	case e.Status == http.StatusRequestTimeout:
		if k.unsafe {
			return contract.ErrAmbiguous
		}
		return contract.ErrUnavailable
	case e.Status >= 500:
		return contract.ErrUnavailable
	default: // 400, 409, 412, 422 and any other 4xx, or a 2xx carrying an error code
		return contract.ErrInvalidRequest
	}
}

func newError(class, msg string, info ErrorInfo, retryAfter time.Duration) error {
	opts := temporal.ApplicationErrorOptions{
		NonRetryable: isNonRetryable(class),
		Details:      []any{info},
	}
	if class == contract.ErrThrottled && retryAfter > 0 {
		opts.NextRetryDelay = retryAfter
	}
	return temporal.NewApplicationErrorWithOptions(msg, class, opts)
}

func isNonRetryable(class string) bool {
	for _, c := range contract.NonRetryable {
		if c == class {
			return true
		}
	}
	return false
}

// invalidInput is a non-retryable error naming the field.
func invalidInput(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return newError(contract.ErrInvalidInput, field+": "+msg, ErrorInfo{Field: field}, 0)
}

// ErrorType returns the class of a classified error ("" if unclassified).
func ErrorType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}
