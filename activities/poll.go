package activities

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"

	"github.com/rpaflow/rpaflow/contract"
)

// Budget bounds status calls per profile across every wait running on this
// worker (UiPath allows 100 job reads per minute per tenant; AA publishes no
// limit, so the same budget protects it). The zero value allows 60/min.
type Budget struct {
	PerMinute int
	// Observe, if set, is told of each call let through and how long it
	// waited (the worker exports it: budget saturation is an alert).
	Observe func(ctx context.Context, profile string, waited time.Duration)
	// Tenant, if set, also bounds each profile with a rate in
	// TenantPerMinute across every worker (the tenant's limit).
	Tenant          *TenantBudgets
	TenantPerMinute map[string]int
	mu              sync.Mutex
	limiters        map[string]*rate.Limiter
}

// Wait blocks until profile may make one more status call.
func (b *Budget) Wait(ctx context.Context, profile string) error { return b.wait(ctx, profile, false) }

// wait is Wait; an urgent call (a read that confirms an event) goes before
// routine polls in the tenant's budget.
func (b *Budget) wait(ctx context.Context, profile string, urgent bool) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	if b.limiters == nil {
		b.limiters = map[string]*rate.Limiter{}
	}
	l, ok := b.limiters[profile]
	if !ok {
		per := b.PerMinute
		if per <= 0 {
			per = 60
		}
		l = rate.NewLimiter(rate.Every(time.Minute/time.Duration(per)), 1)
		b.limiters[profile] = l
	}
	b.mu.Unlock()
	start := time.Now()
	if err := l.Wait(ctx); err != nil {
		return err
	}
	if rate := b.TenantPerMinute[profile]; b.Tenant != nil && rate > 0 {
		if err := b.Tenant.Take(ctx, profile, rate, urgent); err != nil {
			return err
		}
	}
	if b.Observe != nil {
		b.Observe(ctx, profile, time.Since(start))
	}
	return nil
}

// throttled tells every worker to hold the tenant's calls when the platform
// answered 429 with a Retry-After.
func (b *Budget) throttled(ctx context.Context, profile string, err error) {
	var app *temporal.ApplicationError
	rate := b.tenantRate(profile)
	if rate == 0 || contract.TypeOf(err) != contract.ErrThrottled || !errors.As(err, &app) || app.NextRetryDelay() <= 0 {
		return
	}
	if perr := b.Tenant.Pause(ctx, profile, rate, app.NextRetryDelay()); perr != nil {
		activity.GetLogger(ctx).Warn("pausing the tenant budget failed", "profile", profile, "error", perr)
	}
}

func (b *Budget) tenantRate(profile string) int {
	if b == nil || b.Tenant == nil {
		return 0
	}
	return b.TenantPerMinute[profile]
}

// pollOptions tune a wait.
type pollOptions struct {
	profile  string
	initial  time.Duration // first interval (2s)
	max      time.Duration // longest interval (30s)
	budget   *Budget
	maxFails int // consecutive transient failures tolerated (then the error is returned)
}

// pollUntil calls check until it reports done, backing off between calls
// and heartbeating progress. check returns the current status, whether it is
// terminal, and a classified error. Retryable errors are tolerated up to
// maxFails in a row; others end the wait.
func pollUntil(ctx context.Context, o pollOptions, check func(ctx context.Context) (status string, done bool, err error)) error {
	p := contract.PollProgress{Interval: o.initial}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p) // resume; a decode failure just restarts the backoff
	}
	if p.Interval <= 0 {
		p.Interval = o.initial
	}
	for {
		// Many waits can share one budget: keep heartbeating while queued
		// so a long queue is not mistaken for a dead worker.
		stop := heartbeatEvery(ctx, 10*time.Second, p)
		err := o.budget.Wait(ctx, o.profile)
		stop()
		if err != nil {
			return err
		}
		status, done, err := check(ctx)
		p.Polls++
		switch {
		case err != nil && contract.TypeOf(err).Permanent():
			return err
		case err != nil:
			o.budget.throttled(ctx, o.profile, err)
			p.Failures++
			if p.Failures > o.maxFails {
				return err
			}
			activity.GetLogger(ctx).Warn("status poll failed; will retry", "error", err, "failures", p.Failures)
		case done:
			return nil
		default:
			p.Failures = 0
			if status != p.Status {
				p.Status, p.Since = status, time.Now()
				p.Interval = o.initial // a change means things are moving: look again soon
			}
		}
		activity.RecordHeartbeat(ctx, p)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.Interval):
		}
		p.Interval = min(o.max, p.Interval*3/2)
	}
}
