package cli

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"google.golang.org/grpc/codes"
)

// Exit codes (see the package documentation).
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitUnreachable = 3
	ExitTimeout     = 4
)

// exitError carries an explicit exit code and a message for the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// ExitCode maps an error to the starter's exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ExitTimeout
	}

	// The workflow ran and ended badly.
	var wee *temporal.WorkflowExecutionError
	if errors.As(err, &wee) {
		if _, ok := wee.Unwrap().(*temporal.TimeoutError); ok {
			return ExitTimeout // the workflow's own execution timeout
		}
		if contract.TypeOf(err) == contract.ErrTimedOut {
			return ExitTimeout // the input's timeout passed and the run was stopped
		}
		return ExitFailed
	}
	var (
		appErr        *temporal.ApplicationError
		canceledErr   *temporal.CanceledError
		terminatedErr *temporal.TerminatedError
		timeoutErr    *temporal.TimeoutError
		panicErr      *temporal.PanicError
		queryFailed   *serviceerror.QueryFailed
	)
	switch {
	case errors.As(err, &appErr), errors.As(err, &canceledErr), errors.As(err, &terminatedErr),
		errors.As(err, &panicErr), errors.As(err, &queryFailed):
		return ExitFailed
	case errors.As(err, &timeoutErr):
		return ExitTimeout
	}

	// The service refused the request.
	var (
		nsNotFound *serviceerror.NamespaceNotFound
		nsInactive *serviceerror.NamespaceNotActive
	)
	if errors.As(err, &nsNotFound) || errors.As(err, &nsInactive) {
		return ExitUnreachable
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.NotFound, codes.AlreadyExists, codes.InvalidArgument, codes.FailedPrecondition:
		return ExitUsage
	case codes.Unavailable, codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented:
		return ExitUnreachable
	case codes.DeadlineExceeded, codes.Canceled:
		return ExitTimeout
	}
	return ExitFailed
}

// stoppedWaiting explains why a wait ended without an answer: the command's
// context ended (--timeout or an interrupt), or the RPC gave up for the same reason.
func stoppedWaiting(ctx context.Context, err error) error {
	why := "no answer within --timeout"
	if errors.Is(ctx.Err(), context.Canceled) {
		why = "interrupted before the answer came"
	}
	return withCode(ExitTimeout, fmt.Errorf("%s (%v)", why, err))
}

// isWaitTimeout reports whether err ended a wait because time ran out on
// the caller's side (not a workflow's own timeout, which is its result).
func isWaitTimeout(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	var wee *temporal.WorkflowExecutionError
	if errors.As(err, &wee) {
		return false
	}
	return ctx.Err() != nil || ExitCode(err) == ExitTimeout
}

// ErrorInfo is the machine form of a failure.
type ErrorInfo struct {
	Message string `json:"message"`
	// Type is the ApplicationError type (InvalidInput, AuthFailed, RunFailed...),
	// or Canceled, Terminated, Timeout for those endings.
	Type         string `json:"type,omitempty"`
	NonRetryable bool   `json:"nonRetryable,omitempty"`
}

// describeError finds the failure a user cares about: the outermost
// application error (the workflow's classification), else the kind of ending.
func describeError(err error) ErrorInfo {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		msg := appErr.Message()
		if cause := appErr.Unwrap(); cause != nil {
			msg += ": " + cause.Error()
		}
		return ErrorInfo{Message: msg, Type: appErr.Type(), NonRetryable: appErr.NonRetryable()}
	}
	var (
		canceledErr   *temporal.CanceledError
		terminatedErr *temporal.TerminatedError
		timeoutErr    *temporal.TimeoutError
	)
	switch {
	case errors.As(err, &canceledErr):
		return ErrorInfo{Message: err.Error(), Type: "Canceled"}
	case errors.As(err, &terminatedErr):
		return ErrorInfo{Message: err.Error(), Type: "Terminated"}
	case errors.As(err, &timeoutErr):
		return ErrorInfo{Message: err.Error(), Type: "Timeout"}
	}
	return ErrorInfo{Message: err.Error()}
}
