package activities

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/apierror"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/session"
)

// AutomationAnywhere holds the Automation Anywhere activities and their dependencies.
type AutomationAnywhere struct {
	Registry *Registry
	Sessions session.Source
	Budget   *Budget
	// Marks stores the "sent" marks of deployments, work items and API
	// Task executions; nil uses ServerMarks.
	Marks   Marks
	Lookups Lookups
	// PoolClient reaches the pools to give slots back; nil uses the client
	// of the worker that runs the activity.
	PoolClient client.Client

	issued issuedTokens
}

// Credential is a platform token with its lifetime.
type Credential struct {
	Token    string    `json:"token"`
	IssuedAt time.Time `json:"issuedAt"`
	Expiry   time.Time `json:"expiry"`
}

// WorkerOnly: sealed with the worker-only key (see codec.WorkerOnly).
func (Credential) WorkerOnly() bool { return true }

// Renewal actions a session asks for.
const (
	RenewNone     = ""
	RenewLogin    = "login"
	RenewRefresh  = "refresh"
	RenewValidate = "validate" // keep a carried-over token if the platform still accepts it
)

// RenewInput asks for one renewal cycle of a Control Room session: renew the
// token (if Action says so) and fetch access details for Paths, in one
// activity so a cycle costs one Temporal action.
type RenewInput struct {
	Profile string   `json:"profile"`
	Action  string   `json:"action,omitempty"`
	Token   string   `json:"token,omitempty"`
	Paths   []string `json:"paths,omitempty"`
}

// WorkerOnly: a renewal that carries a token is sealed.
func (in RenewInput) WorkerOnly() bool { return in.Token != "" }

// RenewResult is what changed.
type RenewResult struct {
	Credential *Credential           `json:"credential,omitempty"` // set when the token changed
	LoggedIn   bool                  `json:"loggedIn,omitempty"`
	Refreshed  bool                  `json:"refreshed,omitempty"`
	Details    map[string]CachedPath `json:"details,omitempty"`
	PathErrors map[string]string     `json:"pathErrors,omitempty"` // per path, permanent (no allocation, bad path)
	// PathsFailed: the access-details call failed (retryably) after a new
	// token was obtained; the token is kept and the paths are tried again.
	PathsFailed string `json:"pathsFailed,omitempty"`
}

// WorkerOnly: a result with a new token or access details is sealed.
func (r RenewResult) WorkerOnly() bool { return r.Credential != nil || len(r.Details) > 0 }

// AARenewSession logs in, refreshes or validates, then fetches access details.
// A refresh the Control Room refuses (expired or revoked token) falls back to
// a login in the same attempt.
func (a *AutomationAnywhere) AARenewSession(ctx context.Context, in RenewInput) (RenewResult, error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return RenewResult{}, err
	}
	var res RenewResult
	token := in.Token
	login := func() error {
		if cred, ok := a.lostRenewal(ctx, c, in.Profile, in.Token, token); ok {
			token = cred.Token
			res.Credential = &cred
			return nil
		}
		t, err := c.Login(ctx)
		if err != nil {
			return classify(err, callKind{})
		}
		token = t.Value
		res.Credential = &Credential{Token: t.Value, IssuedAt: t.IssuedAt, Expiry: t.Expiry}
		res.LoggedIn = true
		a.issued.keep(in.Profile, *res.Credential)
		return nil
	}
	switch in.Action {
	case RenewLogin:
		err = login()
	case RenewRefresh:
		t, rerr := c.Refresh(ctx, token)
		switch {
		case rerr == nil:
			token = t.Value
			res.Credential = &Credential{Token: t.Value, IssuedAt: t.IssuedAt, Expiry: t.Expiry}
			res.Refreshed = true
			a.issued.keep(in.Profile, *res.Credential)
		case refusedToken(rerr):
			activity.GetLogger(ctx).Info("Control Room refused the refresh; logging in again", "profile", in.Profile)
			err = login()
		default:
			err = classify(rerr, callKind{cachedToken: true})
		}
	case RenewValidate:
		ok, verr := c.Validate(ctx, token)
		switch {
		case verr == nil && ok:
			t := aa.TokenTimes(token, time.Now())
			res.Credential = &Credential{Token: token, IssuedAt: t.IssuedAt, Expiry: t.Expiry}
		case verr == nil || refusedToken(verr):
			err = login()
		default:
			err = classify(verr, callKind{cachedToken: true})
		}
	}
	if err != nil {
		return RenewResult{}, err
	}
	if len(in.Paths) == 0 {
		return res, nil
	}
	details, err := c.AccessDetails(ctx, token, in.Paths)
	if err != nil && refusedToken(err) && !res.LoggedIn {
		if err = login(); err == nil {
			details, err = c.AccessDetails(ctx, token, in.Paths)
		}
	}
	if err != nil {
		if res.Credential != nil {
			// Keep the new token even though the paths failed: the session
			// must not lose a login it already paid for.
			res.PathsFailed = err.Error()
			return res, nil
		}
		return RenewResult{}, classify(err, callKind{cachedToken: true})
	}
	now := activity.GetInfo(ctx).StartedTime
	res.Details = make(map[string]CachedPath, len(details.Details))
	for p, d := range details.Details {
		res.Details[p] = CachedPath{URL: d.URL, Headers: d.Headers, FetchedAt: now, Lifetime: contract.Duration(d.Lifetime)}
	}
	if len(details.Errors) > 0 {
		res.PathErrors = details.Errors
	}
	return res, nil
}

// LogoutToken is AALogout's token argument, sealed like every token in
// the history (its JSON is a plain string, as the argument was before).
type LogoutToken string

// WorkerOnly: always sealed.
func (LogoutToken) WorkerOnly() bool { return true }

// AALogout ends the Control Room session of token.
func (a *AutomationAnywhere) AALogout(ctx context.Context, profile string, token LogoutToken) error {
	c, err := a.Registry.AA(profile)
	if err != nil {
		return err
	}
	a.issued.forget(profile, string(token))
	return classify(c.Logout(ctx, string(token)), callKind{cachedToken: true})
}

// issuedTokens is the newest token this worker obtained for each profile.
// A renewal runs inside its session's workflow task, and when the Temporal
// server loses that task's completion (its database down) the session
// never learns the token: it runs the renewal again from the old one,
// which may have expired by then, and would log in, ending the user's
// other Control Room sessions. The worker that obtained the token still
// has it here.
type issuedTokens struct {
	mu sync.Mutex
	m  map[string]Credential
}

func (t *issuedTokens) keep(profile string, c Credential) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]Credential{}
	}
	t.m[profile] = c
}

func (t *issuedTokens) newest(profile string) (Credential, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[profile]
	return c, ok
}

func (t *issuedTokens) forget(profile, token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[profile].Token == token {
		delete(t.m, profile)
	}
}

// lostRenewal returns the token an earlier renewal of this worker obtained
// for profile when the running session does not hold it (its result was
// lost): not the session's token (held) nor the one just refused (tried),
// valid for more than the safety margin, and still accepted by the Control
// Room. A login in its place would only replace a token that works. A
// session that holds no token yet (its first login) always logs in.
func (a *AutomationAnywhere) lostRenewal(ctx context.Context, c *aa.Client, profile, held, tried string) (Credential, bool) {
	cand, ok := a.issued.newest(profile)
	if !ok || held == "" || cand.Token == held || cand.Token == tried {
		return Credential{}, false
	}
	if time.Until(cand.Expiry) <= contract.SafetyMargin(cand.Expiry.Sub(cand.IssuedAt)) {
		return Credential{}, false
	}
	if valid, err := c.Validate(ctx, cand.Token); err != nil || !valid {
		if err == nil {
			a.issued.forget(profile, cand.Token)
		}
		return Credential{}, false
	}
	activity.GetLogger(ctx).Info("reusing the token an earlier renewal on this worker obtained, whose result the session never received; not logging in again",
		"profile", profile, "expiry", cand.Expiry)
	return cand, true
}

// ExecuteInput runs one API Task.
type ExecuteInput struct {
	Profile    string                    `json:"profile"`
	Path       string                    `json:"path"`
	BotInput   map[string]botvalue.Value `json:"botInput,omitempty"`
	Idempotent bool                      `json:"idempotent,omitempty"`
	// ReleasePool, when set, is the workflow ID of the pool whose slot the
	// execution holds: the activity gives the slot back itself as soon as
	// the execution has ended (see GiveBackSlot).
	ReleasePool string `json:"releasePool,omitempty"`
}

// ExecuteResult is the task's typed output.
type ExecuteResult struct {
	BotOutput map[string]botvalue.Value `json:"botOutput"`
	// Released: the pool has the slot back (ReleasePool).
	Released bool `json:"released,omitempty"`
}

// AAExecuteAPITask gets access details from the session and executes the API
// Task. It alone ever holds the task token. A 401 is reported to the session
// (once) and the task is executed with fresh details: it did not run.
func (a *AutomationAnywhere) AAExecuteAPITask(ctx context.Context, in ExecuteInput) (ExecuteResult, error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return ExecuteResult{}, err
	}
	unsafe := callKind{cachedToken: true, unsafe: !in.Idempotent}
	if m, ok := earlierMark(ctx); ok && !in.Idempotent {
		return ExecuteResult{}, ambiguousRetry(ctx, m, aa.Platform, "execute", "API Task execute",
			"look in the Control Room's audit log for an execution of the API Task "+strconv.Quote(in.Path)+" by profile "+in.Profile+"'s user")
	}
	if in.ReleasePool != "" && slotGivenBackEarlier(ctx) {
		return ExecuteResult{}, errSlotGivenBack(in.ReleasePool)
	}
	// No extra validity: details are handed out only until the max age
	// (AA's refresh advice) or the task token's own expiry less a safety
	// margin, so details at the end of that may still start an execution;
	// that keeps fetches to one per path per validity.
	ref := session.ControlRoom(in.Profile)
	var out map[string]botvalue.Value
	err = withAccessDetail(ctx, a.Sessions, ref, in.Path, func(d contract.AccessDetail) error {
		if !d.FetchedAt.IsZero() {
			activity.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": in.Profile}).
				Timer("rpaflow_access_details_age").Record(max(time.Since(d.FetchedAt), 0))
		}
		m := sentMark{Sent: true}
		if !in.Idempotent {
			var err error
			if m, err = markSent(ctx, a.Marks); err != nil {
				return err
			}
		}
		stop := heartbeatEvery(ctx, 5*time.Second, m)
		var err error
		out, err = c.Execute(ctx, aa.AccessDetail{URL: d.URL, Headers: d.Headers}, in.BotInput)
		stop()
		if err != nil && notRun(err) && !in.Idempotent {
			// The Control Room refused it (a 401, or a 429 at the
			// concurrency limit) or it never left: the retry may execute.
			clearMark(ctx, a.Marks)
		}
		if apierror.IsUnauthorized(err) {
			activity.GetLogger(ctx).Info("API Task token rejected; asking the session for fresh access details", "profile", in.Profile, "generation", d.Generation)
		}
		return err
	})
	if err != nil {
		return ExecuteResult{}, classify(err, unsafe)
	}
	res := ExecuteResult{BotOutput: out}
	if in.ReleasePool != "" {
		// A non-idempotent execution's retry ends Ambiguous on its stored
		// "sent" mark without calling the Control Room; an idempotent one's
		// needs the "released" mark.
		res.Released = GiveBackSlot(ctx, a.PoolClient, a.Marks, in.ReleasePool, !in.Idempotent)
	}
	return res, nil
}

// heartbeatEvery keeps heartbeating details while a long call runs, so a
// dead worker is noticed within the heartbeat timeout.
func heartbeatEvery(ctx context.Context, d time.Duration, details any) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details)
			}
		}
	}()
	return func() { close(done) }
}

// notRun reports whether err proves the task did not run: a 4xx answer
// (refused before running; 408 excepted) or a request that never left.
func notRun(err error) bool {
	if s := apierror.StatusOf(err); s >= 400 && s < 500 && s != http.StatusRequestTimeout {
		return true
	}
	var te *apierror.TransportError
	if errors.As(err, &te) {
		return !te.Sent
	}
	var inv *apierror.InvalidError
	return errors.As(err, &inv)
}

// refusedToken reports whether err means the Control Room no longer accepts
// the token (so a login is the way forward).
func refusedToken(err error) bool { return apierror.IsUnauthorized(err) }
