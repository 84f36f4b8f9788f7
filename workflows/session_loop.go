package workflows

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// Session defaults: the refresh policy in the README.
const (
	defaultRefreshAt         = 0.75
	refreshJitter            = 0.05
	defaultAccessMaxAge      = 5 * time.Minute
	defaultKeepWarm          = 15 * time.Minute
	defaultMaxAuthFailures   = 3
	defaultAuthFailedBackoff = 10 * time.Minute
	defaultCyclesPerRun      = 200
	maxPathsPerRequest       = 50
)

// renewer is what differs between platforms: how one renewal cycle and a
// logout are carried out (as activities).
type renewer interface {
	renew(ctx workflow.Context, action, token string, paths []string) (activities.RenewResult, error)
	logout(ctx workflow.Context, token string) error
	// canRefresh: the platform can refresh a valid token (AA) rather than
	// requesting a new one (UiPath client credentials).
	canRefresh() bool
}

// session is the state machine shared by the session workflows. Only the
// main loop runs activities (single-flight); handlers register demand and
// wait for the loop to satisfy it.
type session struct {
	in   contract.SessionInput
	kind string
	r    renewer
	st   sessionState

	demand      int64 // bumped by handlers; wakes the loop
	wantRenew   bool
	minValidity time.Duration
	wantLogin   bool // the current generation was reported rejected
	validate    bool // check the token before replacing it
	retryNow    bool // a caller asked while AuthFailed
	pending     map[string]bool
	pathErr     map[string]string

	attempts     int64 // finished renewal attempts
	cycles       int
	failures     int
	authFailed   bool
	backoffUntil time.Time
	lastErr      string
	lastErrType  contract.ErrorType
	renewing     bool
	closing      bool
	closed       bool
}

func newSession(in sessionInput, kind string, r renewer) *session {
	s := &session{in: in.SessionInput, kind: kind, r: r, pending: map[string]bool{}, pathErr: map[string]string{}}
	if in.State != nil {
		s.st = *in.State
		s.failures, s.authFailed, s.backoffUntil = s.st.Failures, s.st.AuthFailed, s.st.BackoffUntil
		s.lastErr, s.lastErrType = s.st.LastError, s.st.LastErrorType
	}
	if s.st.Paths == nil {
		s.st.Paths = map[string]*activities.CachedPath{}
	}
	return s
}

func (s *session) refreshAt() float64 {
	if s.in.RefreshAt > 0 && s.in.RefreshAt < 1 {
		return s.in.RefreshAt
	}
	return defaultRefreshAt
}

func (s *session) maxAge() time.Duration {
	return orDur(s.in.AccessDetailsMaxAge.D(), defaultAccessMaxAge)
}

func (s *session) keepWarm() time.Duration { return orDur(s.in.KeepWarm.D(), defaultKeepWarm) }

func orDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// run is the session's main loop.
func (s *session) run(ctx workflow.Context) error {
	if err := s.register(ctx); err != nil {
		return err
	}
	for {
		if s.closing {
			return s.finish(ctx)
		}
		if ctx.Err() != nil {
			// Cancelled: end the platform session too, then report the cancellation.
			s.closing = true
			dctx, cancel := workflow.NewDisconnectedContext(ctx)
			defer cancel()
			_ = s.finish(dctx)
			return ctx.Err()
		}
		now := workflow.Now(ctx)
		action, paths := s.plan(now)
		if (action != "" || len(paths) > 0) && (!now.Before(s.backoffUntil) || s.authFailed && s.retryNow) {
			s.observeLag(ctx, now, action)
			s.cycle(ctx, action, paths)
			continue
		}
		if s.idle() && (s.cycles >= orInt(s.in.CyclesPerRun, defaultCyclesPerRun) || workflow.GetInfo(ctx).GetContinueAsNewSuggested()) {
			seen := s.demand
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || s.demand != seen })
			if s.demand == seen && ctx.Err() == nil {
				st := s.st
				st.Failures, st.AuthFailed, st.BackoffUntil = s.failures, s.authFailed, s.backoffUntil
				st.LastError, st.LastErrorType = s.lastErr, s.lastErrType
				next := sessionInput{SessionInput: s.in, State: &st}
				return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, next) // its own name, prefixed or not
			}
			continue
		}
		seen := s.demand
		wait := s.nextWake(now).Sub(now)
		if wait > 0 {
			_, _ = workflow.AwaitWithTimeout(ctx, wait, func() bool { return s.demand != seen || s.closing })
		}
	}
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// idle: nobody waits for the loop.
func (s *session) idle() bool {
	return !s.wantRenew && !s.wantLogin && !s.retryNow && len(s.pending) == 0
}

// plan decides what the next renewal must do at now.
func (s *session) plan(now time.Time) (action string, paths []string) {
	if s.authFailed && !s.retryNow && now.Before(s.backoffUntil) {
		return "", nil
	}
	switch {
	case s.st.Token == "", s.wantLogin && !s.validate:
		action = activities.RenewLogin
	case s.wantLogin && s.validate:
		action = activities.RenewValidate
	case !now.Before(s.st.Expiry):
		action = activities.RenewLogin // an expired token cannot be refreshed
	case !now.Before(s.renewalTime()),
		s.wantRenew && s.st.Expiry.Sub(now) < s.minValidity:
		if s.r.canRefresh() {
			action = activities.RenewRefresh
		} else {
			action = activities.RenewLogin
		}
	}
	for _, p := range sortedKeys(s.pending) {
		paths = append(paths, p)
	}
	for _, p := range sortedKeys(s.st.Paths) {
		e := s.st.Paths[p]
		if s.pending[p] {
			continue
		}
		if now.Sub(e.LastUsed) > s.keepWarm() {
			if !now.Before(e.ValidUntil(s.maxAge())) {
				delete(s.st.Paths, p) // unused and stale: forget it
			}
			continue
		}
		if !now.Before(s.warmAt(e)) {
			paths = append(paths, p)
		}
	}
	return action, paths
}

// renewalTime is when the current token is renewed: RefreshAt of its
// lifetime plus a deterministic jitter so sessions started together spread out.
func (s *session) renewalTime() time.Time {
	life := s.st.Expiry.Sub(s.st.IssuedAt)
	if life <= 0 {
		return s.st.Expiry.Add(-s.safety())
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", s.in.Profile, s.st.Generation)
	frac := s.refreshAt() + refreshJitter*float64(h.Sum32()%1000)/1000
	return s.st.IssuedAt.Add(time.Duration(frac * float64(life)))
}

// warmAt is when a warm path's details are fetched again: as they stop
// being valid (max age, or the task token's expiry less the safety margin),
// so a path in use costs one fetch per validity and a consumer never holds
// details past it (one asking for extra validity may wait for the fetch in
// the last moments of an entry's life).
func (s *session) warmAt(e *activities.CachedPath) time.Time {
	return e.ValidUntil(s.maxAge())
}

// nextWake is the earliest moment the loop has something to do.
func (s *session) nextWake(now time.Time) time.Time {
	next := now.Add(24 * time.Hour)
	earliest := func(t time.Time) {
		if t.Before(next) {
			next = t
		}
	}
	if s.authFailed && !s.retryNow {
		earliest(s.backoffUntil)
		return next
	}
	if now.Before(s.backoffUntil) && !s.authFailed {
		earliest(s.backoffUntil)
		return next
	}
	if s.st.Token != "" {
		earliest(s.renewalTime())
		earliest(s.st.Expiry)
	}
	for _, p := range sortedKeys(s.st.Paths) {
		e := s.st.Paths[p]
		if now.Sub(e.LastUsed) <= s.keepWarm() {
			earliest(s.warmAt(e))
		} else {
			earliest(e.ValidUntil(s.maxAge())) // time to forget it
		}
	}
	return next
}

// cycle runs one renewal (one activity) and applies its outcome.
func (s *session) cycle(ctx workflow.Context, action string, paths []string) {
	why := s.loginReason(workflow.Now(ctx), action)
	s.renewing = true
	res, err := s.r.renew(ctx, action, s.st.Token, paths)
	s.renewing = false
	s.attempts++
	s.cycles++
	s.retryNow = false
	now := workflow.Now(ctx)
	log := workflow.GetLogger(ctx)
	metrics := s.metrics(ctx)
	if err != nil {
		s.fail(ctx, now, err)
		metrics.WithTags(map[string]string{"outcome": "failure"}).Counter("rpaflow_session_renewals").Inc(1)
		return
	}
	s.failures, s.authFailed, s.lastErr, s.lastErrType, s.backoffUntil = 0, false, "", "", time.Time{}
	if c := res.Credential; c != nil {
		newToken := c.Token != s.st.Token
		if newToken {
			s.st.Generation++
			s.st.Token = c.Token
			s.st.LastRefresh = now
			outcome := "refresh"
			if res.LoggedIn {
				s.st.Logins++
				outcome = "login"
			} else {
				s.st.Refreshes++
				why = nil
			}
			metrics.WithTags(map[string]string{"outcome": outcome}).Counter("rpaflow_session_renewals").Inc(1)
			log.Info("session token renewed", append([]any{"profile", s.in.Profile, "generation", s.st.Generation,
				"outcome", outcome, "expiry", c.Expiry}, why...)...)
		}
		// A validated token keeps the times it was received with: its
		// remaining life is not a fresh token's.
		if newToken || action != activities.RenewValidate {
			s.st.IssuedAt, s.st.Expiry = c.IssuedAt, c.Expiry
			if s.st.IssuedAt.IsZero() || s.st.IssuedAt.After(now) {
				// A worker clock ahead of the workflow's shifts the whole lifetime.
				if !s.st.IssuedAt.IsZero() {
					s.st.Expiry = s.st.Expiry.Add(now.Sub(s.st.IssuedAt))
				}
				s.st.IssuedAt = now
			}
		}
		metrics.Gauge("rpaflow_session_token_expiry_timestamp_seconds").Update(float64(s.st.Expiry.Unix()))
		s.wantLogin, s.validate = false, false
		// A validation that kept the token does not satisfy a caller who
		// needs a longer validity: keep that demand for the next cycle.
		if newToken || action != activities.RenewValidate || s.st.Expiry.Sub(now) >= s.minValidity {
			s.wantRenew, s.minValidity = false, 0
		}
	}
	for _, p := range sortedKeys(res.Details) {
		d := res.Details[p]
		s.st.PathSeq++
		e := &activities.CachedPath{URL: d.URL, Headers: d.Headers, FetchedAt: d.FetchedAt, Generation: s.st.PathSeq, Lifetime: d.Lifetime}
		if e.FetchedAt.IsZero() || e.FetchedAt.After(now) {
			e.FetchedAt = now // a worker clock ahead of the workflow's must not make details look fresher
		}
		// A fetch is not a use: a keep-warm refresh keeps the consumer's last
		// use, so a path nobody asks for any more stops being refreshed.
		e.LastUsed = e.FetchedAt
		if old := s.st.Paths[p]; old != nil && !old.LastUsed.IsZero() {
			e.LastUsed = old.LastUsed
		}
		s.st.Paths[p] = e
		delete(s.pending, p)
		delete(s.pathErr, p)
	}
	for _, p := range sortedKeys(res.PathErrors) {
		s.pathErr[p] = res.PathErrors[p]
		delete(s.pending, p)
		delete(s.st.Paths, p)
	}
	if res.PathsFailed != "" { // pending paths stay pending and are tried again
		s.lastErr, s.lastErrType = res.PathsFailed, contract.ErrUnavailable
		s.failures++
		s.backoffUntil = now.Add(s.retryDelay(now))
	}
}

// loginReason says, for the log, why a renewal at now that ends in a login
// logs in. AA users without multi-login lose their other tokens at each
// login, so an operator needs to tell a login forced by a token that
// expired before its session could renew it (the renewal was due, and
// Temporal did not run the session until after the expiry) from one that
// should not have happened.
func (s *session) loginReason(now time.Time, action string) []any {
	switch {
	case s.st.Token == "":
		return []any{"reason", "no token"}
	case s.wantLogin:
		return []any{"reason", "token rejected"}
	case action == activities.RenewLogin && !now.Before(s.st.Expiry):
		// Times as text: the log keeps the sub-second part.
		return []any{"reason", "expired", "previousExpiry", s.st.Expiry.UTC().Format(time.RFC3339Nano),
			"renewalDue", s.renewalTime().UTC().Format(time.RFC3339Nano), "lateBy", now.Sub(s.renewalTime()).String()}
	case !s.r.canRefresh():
		return []any{"reason", "renewal"}
	case action == activities.RenewValidate:
		return []any{"reason", "validation refused"}
	default:
		return []any{"reason", "refresh refused"}
	}
}

// observeLag records how late a scheduled renewal starts: the time from
// its renewal time to the workflow task that runs it (timer delivery plus
// the wait for a worker). Renewals after failures or on demand are not
// scheduled ones.
func (s *session) observeLag(ctx workflow.Context, now time.Time, action string) {
	if s.st.Token == "" || s.failures > 0 || s.wantLogin || action == "" || action == activities.RenewValidate {
		return
	}
	due := s.renewalTime()
	if now.Before(due) {
		return
	}
	s.metrics(ctx).
		Timer("rpaflow_session_renewal_lag").Record(now.Sub(due))
}

// fail records a failed renewal and schedules the next try.
func (s *session) fail(ctx workflow.Context, now time.Time, err error) {
	s.failures++
	s.lastErr = err.Error()
	s.lastErrType = errorType(err)
	log := workflow.GetLogger(ctx)
	if s.lastErrType.Permanent() {
		if s.failures >= orInt(s.in.MaxAuthFailures, defaultMaxAuthFailures) {
			s.authFailed = true
			s.backoffUntil = now.Add(orDur(s.in.AuthFailedBackoff.D(), defaultAuthFailedBackoff))
			s.wantLogin, s.validate = false, false
			log.Error("session cannot authenticate; waiting before trying again", "profile", s.in.Profile,
				"failures", s.failures, "errorType", s.lastErrType, "error", s.lastErr, "nextTry", s.backoffUntil)
			s.metrics(ctx).
				Counter("rpaflow_session_auth_failed").Inc(1)
			return
		}
		s.backoffUntil = now.Add(time.Duration(s.failures) * 5 * time.Second)
		log.Warn("session renewal refused", "profile", s.in.Profile, "errorType", s.lastErrType, "error", s.lastErr)
		return
	}
	s.backoffUntil = now.Add(s.retryDelay(now))
	log.Warn("session renewal failed; serving the current token while retrying", "profile", s.in.Profile,
		"errorType", s.lastErrType, "error", s.lastErr, "retryAt", s.backoffUntil)
}

// retryDelay backs off exponentially, capped so a retry still happens well
// before the current token expires.
func (s *session) retryDelay(now time.Time) time.Duration {
	d := time.Second << min(s.failures-1, 6)
	d = min(d, time.Minute)
	if s.st.Token != "" {
		if left := s.st.Expiry.Sub(now) / 4; left > time.Second && d > left {
			d = left
		}
	}
	return max(d, time.Second)
}

// errorType is err's type; a timed-out renewal is Unavailable.
func errorType(err error) contract.ErrorType {
	var to *temporal.TimeoutError
	if t := contract.TypeOf(err); t != "" || !errors.As(err, &to) {
		return t
	}
	return contract.ErrUnavailable
}

// finish logs out and completes once every handler is done.
func (s *session) finish(ctx workflow.Context) error {
	if s.st.Token != "" {
		if err := s.r.logout(ctx, s.st.Token); err != nil {
			workflow.GetLogger(ctx).Warn("logout failed; the token will expire on its own", "profile", s.in.Profile, "error", err)
		}
	}
	s.st.Token = ""
	s.closed = true
	// 0 says "no token": the expiry alert and dashboard skip it, where a
	// kept timestamp would look like a token about to lapse.
	s.metrics(ctx).Gauge("rpaflow_session_token_expiry_timestamp_seconds").Update(0)
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// metrics is the session's metrics handler, tagged with its profile and kind.
func (s *session) metrics(ctx workflow.Context) client.MetricsHandler {
	return workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": s.in.Profile, "session": s.kind})
}

// safety is the least validity a handed-out token keeps (contract.SafetyMargin).
func (s *session) safety() time.Duration {
	return contract.SafetyMargin(s.st.Expiry.Sub(s.st.IssuedAt))
}

// validFor applies the rule every reader applies to a handed-out token.
func (s *session) validFor(now time.Time, d time.Duration) bool {
	return s.tokenResult().Serves(now, d)
}

func (s *session) status(now time.Time) contract.SessionStatus {
	st := contract.SessionStatus{Profile: s.in.Profile, State: "active", Generation: s.st.Generation,
		IssuedAt: s.st.IssuedAt, Expiry: s.st.Expiry, LastRefresh: s.st.LastRefresh, Logins: s.st.Logins,
		Refreshes: s.st.Refreshes, ConsecutiveFailures: s.failures, LastError: s.lastErr, LastErrorType: s.lastErrType}
	switch {
	case s.closed:
		st.State = "closed"
	case s.closing:
		st.State = "closing"
	case s.authFailed:
		st.State = "authFailed"
	case s.renewing:
		st.State = "renewing"
	case s.st.Token == "":
		st.State = "starting"
	case now.Before(s.backoffUntil):
		st.State = "backoff"
	}
	if s.st.Token != "" {
		st.NextRenewal = s.renewalTime()
	}
	for _, p := range sortedKeys(s.st.Paths) {
		e := s.st.Paths[p]
		st.Paths = append(st.Paths, contract.PathStatus{Path: p, FetchedAt: e.FetchedAt,
			AgeSeconds: now.Sub(e.FetchedAt).Seconds(), LastUsed: e.LastUsed, Generation: e.Generation,
			ValidUntil: e.ValidUntil(s.maxAge()), TokenLifetime: e.Lifetime})
	}
	return st
}

// sortedKeys gives workflow code a deterministic order over a map.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
