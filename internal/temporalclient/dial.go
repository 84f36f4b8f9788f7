package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Backoff between dial attempts while the server is unreachable.
const (
	dialInitialBackoff = time.Second
	dialMaxBackoff     = 10 * time.Second
)

// Dial connects to Temporal, waiting for the server while it is unreachable
// (as when the worker starts alongside it), with backoff from 1s to 10s. Other
// errors (bad TLS, credentials) return at once. When ctx ends first, the
// error wraps ctx.Err() and names the address.
func Dial(ctx context.Context, opts client.Options, logger zerolog.Logger) (client.Client, error) {
	addr := opts.HostPort
	if addr == "" {
		addr = client.DefaultHostPort
	}
	backoff := dialInitialBackoff
	for attempt := 1; ; attempt++ {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			if attempt > 1 {
				logger.Info().Str("address", addr).Int("attempts", attempt).Msg("connected to Temporal")
			}
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connecting to Temporal at %s: %w (last error: %v)", addr, ctx.Err(), err)
		}
		if !unreachable(err) {
			return nil, fmt.Errorf("connecting to Temporal at %s: %w", addr, err)
		}
		logger.Warn().Err(err).Str("address", addr).Int("attempt", attempt).Dur("retryIn", backoff).
			Msgf("Temporal server at %s is not reachable yet; retrying", addr)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to Temporal at %s: %w (last error: %v)", addr, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, dialMaxBackoff)
	}
}

// unreachable tells whether err means "no server there (yet)".
func unreachable(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	if errors.As(err, &unavailable) || errors.As(err, &deadline) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}
