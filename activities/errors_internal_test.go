package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/apierror"
)

// The error classification (README, Public contract), one provider answer at a time.
func TestClassify(t *testing.T) {
	status := func(s int, code string) error {
		return &apierror.Error{Platform: "automationanywhere", Op: "execute", Status: s, Code: code}
	}
	transport := func(sent bool) error {
		return &apierror.TransportError{Platform: "automationanywhere", Op: "execute", Sent: sent, Err: errors.New("read: connection reset")}
	}
	fresh, cached := callKind{}, callKind{cachedToken: true}
	unsafe, unsafeCached := callKind{unsafe: true}, callKind{cachedToken: true, unsafe: true}
	cases := []struct {
		name  string
		err   error
		kind  callKind
		class contract.ErrorType
	}{
		{"400", status(400, "request.invalid"), cached, contract.ErrInvalidRequest},
		{"409", status(409, ""), cached, contract.ErrInvalidRequest},
		{"412", status(412, ""), cached, contract.ErrInvalidRequest},
		{"2xx with an error code", status(200, "hotbot.failed"), cached, contract.ErrInvalidRequest},
		{"404", status(404, "1100"), cached, contract.ErrNotFound},
		{"401 after a fresh login", status(401, "auth.credentials.invalid"), fresh, contract.ErrAuthFailed},
		{"401 on a cached token", status(401, "auth.token.invalid"), cached, contract.ErrTokenRejected},
		{"invalid_client even with a cached token", status(400, "invalid_client"), cached, contract.ErrAuthFailed},
		{"invalid_scope", status(400, "invalid_scope"), fresh, contract.ErrAuthFailed},
		{"403", status(403, ""), cached, contract.ErrForbidden},
		{"429", status(429, "rate.limited"), unsafeCached, contract.ErrThrottled},
		{"500 on a safe call", status(500, ""), cached, contract.ErrUnavailable},
		{"503 on an unsafe call", status(503, ""), unsafeCached, contract.ErrUnavailable},
		{"504 on a safe call", status(504, ""), cached, contract.ErrUnavailable},
		{"504 on an unsafe call", status(504, ""), unsafeCached, contract.ErrAmbiguous},
		{"408 safe", status(408, ""), cached, contract.ErrUnavailable},
		{"408 unsafe", status(408, ""), unsafe, contract.ErrAmbiguous},
		{"transport, not sent, unsafe", transport(false), unsafe, contract.ErrUnavailable},
		{"transport, sent, unsafe", transport(true), unsafe, contract.ErrAmbiguous},
		{"transport, sent, safe", transport(true), cached, contract.ErrUnavailable},
		{"deadline, unsafe", fmt.Errorf("execute: %w", context.DeadlineExceeded), unsafe, contract.ErrAmbiguous},
		{"deadline, safe", context.DeadlineExceeded, fresh, contract.ErrUnavailable},
		{"invalid input", apierror.Invalid("executionUrl", "host %q is not allowed", "evil.example"), unsafe, contract.ErrInvalidInput},
		{"unknown error", errors.New("something odd"), fresh, contract.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := classify(c.err, c.kind)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) {
				t.Fatalf("classify returned %T, want *temporal.ApplicationError", err)
			}
			if contract.ErrorType(app.Type()) != c.class {
				t.Errorf("class = %q, want %q", app.Type(), c.class)
			}
			if got, want := app.NonRetryable(), c.class.Permanent(); got != want {
				t.Errorf("NonRetryable = %v, want %v for %s", got, want, c.class)
			}
			if app.NextRetryDelay() != 0 {
				t.Errorf("NextRetryDelay = %v without a Retry-After", app.NextRetryDelay())
			}
		})
	}
	if classify(nil, fresh) != nil {
		t.Error("classify(nil) is not nil")
	}
}

func TestClassifyDetailsAndRetryAfter(t *testing.T) {
	err := classify(&apierror.Error{Platform: "uipath-orchestrator", Op: "startJobs", Status: 429, Code: "1015",
		RetryAfter: 7 * time.Second}, callKind{cachedToken: true, unsafe: true})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("got %T", err)
	}
	if app.NextRetryDelay() != 7*time.Second {
		t.Errorf("NextRetryDelay = %v, want the 7s Retry-After", app.NextRetryDelay())
	}
	var info contract.ErrorInfo
	if err := app.Details(&info); err != nil {
		t.Fatal(err)
	}
	if info != (contract.ErrorInfo{Platform: "uipath-orchestrator", Op: "startJobs", Status: 429, Code: "1015"}) {
		t.Errorf("details = %+v", info)
	}
	// Retry-After only steers throttling: a 503 carrying one keeps the policy's backoff.
	err = classify(&apierror.Error{Platform: "automationanywhere", Op: "deploy", Status: 503, RetryAfter: 9 * time.Second}, callKind{})
	if errors.As(err, &app); app.NextRetryDelay() != 0 {
		t.Errorf("503 with Retry-After: NextRetryDelay = %v, want 0", app.NextRetryDelay())
	}
	// An InvalidError names its field.
	err = classify(apierror.Invalid("botRepositoryPath", "is empty"), callKind{})
	errors.As(err, &app)
	if err := app.Details(&info); err != nil || info.Field != "botRepositoryPath" {
		t.Errorf("InvalidInput details = %+v (%v), want field botRepositoryPath", info, err)
	}
	// An error that is already classified (a session's answer) passes unchanged.
	pre := temporal.NewNonRetryableApplicationError("session closed", string(contract.ErrSessionClosed), nil)
	if got := classify(pre, callKind{}); got != pre {
		t.Errorf("classify re-wrapped a classified error: %v", got)
	}
}
