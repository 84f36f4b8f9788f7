package activities

import (
	"context"
	"errors"
	"net/http"

	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/apierror"
)

// callKind says what a failed call was, which decides its error type.
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
// type is one of contract's error types.
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
		return contract.NewError(contract.ErrInvalidInput, err.Error(), contract.ErrorInfo{Field: inv.Field}, 0)
	}
	var te *apierror.TransportError
	if errors.As(err, &te) {
		if te.Sent && k.unsafe {
			return contract.NewError(contract.ErrAmbiguous, err.Error()+"; the platform may have acted on it", infoOf(err), 0)
		}
		return contract.NewError(contract.ErrUnavailable, err.Error(), infoOf(err), 0)
	}
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return contract.NewError(typeOf(ae, k), err.Error(), infoOf(err), ae.RetryAfter)
	}
	if k.unsafe && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return contract.NewError(contract.ErrAmbiguous, err.Error(), contract.ErrorInfo{}, 0)
	}
	return contract.NewError(contract.ErrUnavailable, err.Error(), contract.ErrorInfo{}, 0)
}

// infoOf is what a provider error tells of the failed call.
func infoOf(err error) contract.ErrorInfo {
	var te *apierror.TransportError
	if errors.As(err, &te) {
		return contract.ErrorInfo{Platform: te.Platform, Op: te.Op}
	}
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return contract.ErrorInfo{Platform: ae.Platform, Op: ae.Op, Status: ae.Status, Code: ae.Code}
	}
	return contract.ErrorInfo{}
}

func typeOf(e *apierror.Error, k callKind) contract.ErrorType {
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

// unavailable is a retryable error for a transient problem of rpaflow's own.
func unavailable(msg string) error {
	return contract.NewError(contract.ErrUnavailable, msg, contract.ErrorInfo{}, 0)
}
