package cluster_test

import (
	"context"
	"fmt"
	"testing"

	"go.temporal.io/api/serviceerror"
)

// The start retry must see the codes through the SDK's service errors,
// which carry no gRPC status of their own (runs without a cluster).
func TestRetryCodeSeesServiceErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{serviceerror.NewUnavailable("down"), true},
		{serviceerror.NewDeadlineExceeded("context deadline exceeded"), true},
		{fmt.Errorf("start: %w", serviceerror.NewUnavailable("down")), true},
		{context.DeadlineExceeded, true},
		{serviceerror.NewInvalidArgument("bad"), false},
		{serviceerror.NewWorkflowExecutionAlreadyStarted("x", "", ""), false},
	} {
		if got := retryCode(serviceerror.ToStatus(c.err).Code()); got != c.want {
			t.Errorf("%T %v: retry %v, want %v", c.err, c.err, got, c.want)
		}
	}
}
