package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

const aaLife = 20 * time.Minute

func crIn() sessionInput { return sessionInput{SessionInput: contract.SessionInput{Profile: "cr"}} }

func TestSessionRejectsBadProfile(t *testing.T) {
	for _, fn := range []any{ControlRoomSession, OrchestratorSession} {
		env := newEnv(t)
		env.ExecuteWorkflow(fn, sessionInput{SessionInput: contract.SessionInput{Profile: "Bad Name"}})
		requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "Bad Name")
	}
}

// Criterion 1: the first token request costs exactly one login and answers generation 1.
func TestControlRoomSession_FirstTokenOneLogin(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	first := tokenAt(env, 0, 0)
	second := tokenAt(env, 10*time.Second, time.Minute)
	var st contract.SessionStatus
	statusAt(t, env, 30*time.Second, &st)
	logout := logoutAt(env, time.Minute)

	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("session ended with %v", err)
	}
	calls := f.snapshot()
	if len(calls) != 1 || calls[0].in.Action != activities.RenewLogin || calls[0].in.Profile != "cr" {
		t.Fatalf("want exactly one login, got %+v", calls)
	}
	for i, o := range []*outcome[contract.TokenResult]{first, second} {
		if !o.done || o.err != nil {
			t.Fatalf("token #%d: done=%v err=%v", i, o.done, o.err)
		}
		if o.val.Token != "tok-1" || o.val.Generation != 1 || !o.val.Expiry.Equal(t0.Add(aaLife)) {
			t.Fatalf("token #%d = %+v, want tok-1 generation 1 expiring %s", i, o.val, t0.Add(aaLife))
		}
	}
	if st.State != "active" || st.Generation != 1 || st.Logins != 1 || st.Refreshes != 0 || st.Profile != "cr" {
		t.Fatalf("status = %+v", st)
	}
	if !logout.done || logout.err != nil {
		t.Fatalf("logout: %+v", logout)
	}
}

// Criterion 1: renewal at 75–80% of the lifetime, by refresh, spread by jitter.
func TestControlRoomSession_RenewsAt75To80Percent(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	tok := tokenAt(env, 3*time.Hour-time.Second, 0)
	logoutAt(env, 3*time.Hour)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	calls := f.snapshot()
	// 3 h / (0.75..0.80 × 20 min) = 11.25..12 renewals after the login.
	if len(calls) < 12 || len(calls) > 13 {
		t.Fatalf("%d activity calls in 3h, want 12..13", len(calls))
	}
	seen := map[time.Duration]bool{}
	for i := 1; i < len(calls); i++ {
		if calls[i].in.Action != activities.RenewRefresh {
			t.Fatalf("call %d action %q, want refresh", i, calls[i].in.Action)
		}
		if calls[i].in.Token != fmt.Sprintf("tok-%d", i) {
			t.Fatalf("call %d refreshes %q, want tok-%d", i, calls[i].in.Token, i)
		}
		d := calls[i].at.Sub(calls[i-1].at)
		frac := float64(d) / float64(aaLife)
		if frac < 0.75 || frac > 0.80 {
			t.Fatalf("renewal %d after %s = %.3f of the lifetime, want 0.75..0.80", i, d, frac)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Fatalf("all renewals at the same offset; the jitter does not vary: %v", seen)
	}
	if tok.err != nil || tok.val.Generation != int64(len(calls)) {
		t.Fatalf("last token %+v %v, want generation %d", tok.val, tok.err, len(calls))
	}
}

// Criterion 1: a retryable refresh failure keeps the old token in service and
// retries with backoff, bounded by the remaining validity, before expiry.
func TestControlRoomSession_RefreshFailureServesOldTokenAndBacksOff(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	recoverAt := t0.Add(19 * time.Minute)
	f.fail = func(n int, in activities.RenewInput, now time.Time) error {
		if in.Action == activities.RenewRefresh && now.Before(recoverAt) {
			return unavailable("503 from the Control Room")
		}
		return nil
	}
	var during []*outcome[contract.TokenResult]
	for _, at := range []time.Duration{16*time.Minute + 10*time.Second, 17 * time.Minute, 18*time.Minute + 30*time.Second} {
		during = append(during, tokenAt(env, at, 30*time.Second))
	}
	var st contract.SessionStatus
	statusAt(t, env, 17*time.Minute+time.Second, &st)
	after := tokenAt(env, 19*time.Minute+30*time.Second, time.Minute)
	logoutAt(env, 25*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for i, o := range during {
		if o.err != nil || o.val.Token != "tok-1" || o.val.Generation != 1 {
			t.Fatalf("token during the outage #%d = %+v %v, want the old tok-1", i, o.val, o.err)
		}
		if o.at.Sub(o.sentAt) > time.Second {
			t.Fatalf("token during the outage #%d waited %s; the valid token must be served at once", i, o.at.Sub(o.sentAt))
		}
	}
	if st.State != "backoff" && st.State != "renewing" || st.ConsecutiveFailures == 0 || st.LastErrorType != contract.ErrUnavailable {
		t.Fatalf("status during the outage = %+v", st)
	}
	calls := f.snapshot()
	expiry := t0.Add(aaLife)
	var failed []time.Time
	for _, c := range calls[1:] {
		if c.at.Before(recoverAt) {
			failed = append(failed, c.at)
		}
	}
	if len(failed) < 5 || len(failed) > 25 {
		t.Fatalf("%d failed refresh attempts between %s and %s: want a backoff, not a hot loop or a give-up", len(failed), failed[0], recoverAt)
	}
	for i := 1; i < 5; i++ { // 1s, 2s, 4s, 8s
		if got, want := failed[i].Sub(failed[i-1]), time.Second<<(i-1); got != want {
			t.Fatalf("retry gap %d = %s, want %s (exponential backoff)", i, got, want)
		}
	}
	for i := 1; i < len(failed); i++ {
		gap := failed[i].Sub(failed[i-1])
		if limit := max(time.Minute, time.Second); gap > limit {
			t.Fatalf("retry gap %s exceeds %s", gap, limit)
		}
		if left := expiry.Sub(failed[i-1]); gap > max(left/4, time.Second) {
			t.Fatalf("retry gap %s with %s left: not capped by the remaining validity", gap, left)
		}
	}
	last := calls[len(failed)+1]
	if last.at.Before(recoverAt) || !last.at.Before(expiry) || last.in.Action != activities.RenewRefresh {
		t.Fatalf("recovering refresh %+v: want a refresh between %s and expiry", last, recoverAt)
	}
	if after.err != nil || after.val.Generation != 2 || after.val.Token != "tok-2" {
		t.Fatalf("token after recovery = %+v %v", after.val, after.err)
	}
}

// Criterion 1: N=3 non-retryable login failures → authFailed; waiting callers
// get AuthFailed; a later token call triggers a new attempt at once.
func TestControlRoomSession_AuthFailed(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.fail = func(n int, in activities.RenewInput, now time.Time) error {
		if n < 3 {
			return authFailed("401 invalid credentials")
		}
		return nil
	}
	w1 := tokenAt(env, 0, 0)
	w2 := tokenAt(env, 3*time.Second, 0)
	var st contract.SessionStatus
	statusAt(t, env, time.Minute, &st)
	retry := tokenAt(env, 2*time.Minute, 0)
	var after contract.SessionStatus
	statusAt(t, env, 3*time.Minute, &after)
	logoutAt(env, 5*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for i, o := range []*outcome[contract.TokenResult]{w1, w2} {
		if !o.done {
			t.Fatalf("waiting caller %d never answered", i)
		}
		requireAppErr(t, o.err, contract.ErrAuthFailed, true, `"cr"`)
		if o.at.After(t0.Add(20 * time.Second)) {
			t.Fatalf("waiting caller %d answered at %s, after the 3rd failure", i, o.at)
		}
	}
	calls := f.snapshot()
	if len(calls) != 4 {
		t.Fatalf("want 3 failed logins and 1 on demand, got %d: %+v", len(calls), calls)
	}
	for i, want := range []time.Duration{0, 5 * time.Second, 15 * time.Second, 2 * time.Minute} {
		if calls[i].in.Action != activities.RenewLogin || !calls[i].at.Equal(t0.Add(want)) {
			t.Fatalf("call %d = %s at +%s, want login at +%s", i, calls[i].in.Action, calls[i].at.Sub(t0), want)
		}
	}
	if st.State != "authFailed" || st.ConsecutiveFailures != 3 || st.LastErrorType != contract.ErrAuthFailed {
		t.Fatalf("status after 3 failures = %+v", st)
	}
	if retry.err != nil || retry.val.Generation != 1 || retry.at.Sub(retry.sentAt) > time.Second {
		t.Fatalf("token after the credentials were fixed = %+v %v (waited %s)", retry.val, retry.err, retry.at.Sub(retry.sentAt))
	}
	if after.State != "active" || after.ConsecutiveFailures != 0 || after.LastError != "" {
		t.Fatalf("status after recovery = %+v", after)
	}
}

// Without callers, an authFailed session waits AuthFailedBackoff before trying again.
func TestControlRoomSession_AuthFailedBackoffWithoutCallers(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.fail = func(int, activities.RenewInput, time.Time) error { return authFailed("401") }
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, sessionInput{SessionInput: contract.SessionInput{Profile: "cr", AuthFailedBackoff: contract.Duration(10 * time.Minute)}})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want canceled, got %v", err)
	}
	var offs []time.Duration
	for _, c := range f.snapshot() {
		offs = append(offs, c.at.Sub(t0))
	}
	// Three quick tries, then one try per AuthFailedBackoff (no hammering of a locked account).
	want := []time.Duration{0, 5 * time.Second, 15 * time.Second, 10*time.Minute + 15*time.Second, 20*time.Minute + 15*time.Second}
	if fmt.Sprint(offs) != fmt.Sprint(want) {
		t.Fatalf("login attempts at %v, want %v", offs, want)
	}
}

// Criterion 2: 50 concurrent token requests during one renewal cost one activity.
func TestControlRoomSession_SingleFlight(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.delay = 5 * time.Second
	var outs []*outcome[contract.TokenResult]
	for i := 0; i < 50; i++ {
		// The token has 10m left at 10m; 12m minValidity forces a renewal.
		outs = append(outs, tokenAt(env, 10*time.Minute+time.Duration(i)*80*time.Millisecond, 12*time.Minute))
	}
	logoutAt(env, 11*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	calls := f.snapshot()
	if len(calls) != 2 || calls[1].in.Action != activities.RenewRefresh {
		t.Fatalf("want login + one refresh, got %+v", calls)
	}
	for i, o := range outs {
		if o.err != nil || o.val.Token != "tok-2" || o.val.Generation != 2 || o.val.Expiry.Sub(o.at) < 12*time.Minute {
			t.Fatalf("caller %d got %+v %v at %s", i, o.val, o.err, o.at)
		}
	}
}

// Criterion 3: 50 invalidate reports of one generation → one validation (then
// a login because the Control Room says the token is dead); stale reports → nothing.
func TestControlRoomSession_InvalidateOncePerGeneration(t *testing.T) {
	for _, valid := range []bool{false, true} {
		t.Run(fmt.Sprintf("tokenStillValid=%v", valid), func(t *testing.T) {
			env := newEnv(t)
			f := newFakeCR(env, aaLife)
			f.validateOK = valid
			f.delay = 2 * time.Second
			var cur, stale []*outcome[contract.InvalidateResult]
			for i := 0; i < 50; i++ {
				cur = append(cur, sendUpdate[contract.InvalidateResult](env, 5*time.Minute+time.Duration(i)*10*time.Millisecond,
					contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1}))
			}
			for i := 0; i < 50; i++ {
				stale = append(stale, sendUpdate[contract.InvalidateResult](env, 6*time.Minute+time.Duration(i)*10*time.Millisecond,
					contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1}))
			}
			logoutAt(env, 7*time.Minute)
			env.ExecuteWorkflow(ControlRoomSession, crIn())
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			calls := f.snapshot()
			wantGen := int64(2)
			if valid {
				wantGen = 1
			}
			if valid {
				// The same generation reported again after validation is a new
				// report: 50 more reports at 6m cost exactly one more validation.
				if len(calls) != 3 || calls[1].in.Action != activities.RenewValidate || calls[2].in.Action != activities.RenewValidate {
					t.Fatalf("want login + validate + validate, got %+v", calls)
				}
			} else if len(calls) != 2 || calls[1].in.Action != activities.RenewValidate || calls[1].in.Token != "tok-1" {
				t.Fatalf("want login + one validate, got %+v", calls)
			}
			for i, o := range cur {
				if o.err != nil || o.val.Generation != wantGen || o.val.Renewed != !valid {
					t.Fatalf("report %d = %+v %v", i, o.val, o.err)
				}
			}
			for i, o := range stale {
				if o.err != nil || o.val.Generation != wantGen {
					t.Fatalf("stale report %d = %+v %v", i, o.val, o.err)
				}
			}
		})
	}
}

// Criterion 3: a report of an old generation does not renew.
func TestControlRoomSession_StaleInvalidateNoRenewal(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	rep := sendUpdate[contract.InvalidateResult](env, time.Minute, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1})
	var stale []*outcome[contract.InvalidateResult]
	for i := 0; i < 50; i++ {
		stale = append(stale, sendUpdate[contract.InvalidateResult](env, 2*time.Minute+time.Duration(i)*time.Millisecond,
			contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1}))
	}
	bad := sendUpdate[contract.InvalidateResult](env, 3*time.Minute, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 0})
	logoutAt(env, 4*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if calls := f.snapshot(); len(calls) != 2 {
		t.Fatalf("want login + one validate→login, got %+v", calls)
	}
	if rep.err != nil || !rep.val.Renewed || rep.val.Generation != 2 {
		t.Fatalf("first report = %+v %v", rep.val, rep.err)
	}
	for i, o := range stale {
		if o.err != nil || o.val.Generation != 2 || o.at.Sub(o.sentAt) > 0 {
			t.Fatalf("stale report %d = %+v %v (waited %s)", i, o.val, o.err, o.at.Sub(o.sentAt))
		}
	}
	if !bad.rejected {
		t.Fatalf("generation 0 must be rejected by the validator, got %+v", bad)
	}
	requireAppErr(t, bad.err, contract.ErrInvalidInput, true, "generation")
}

// Criterion 4: batching, cache hits, NotFound paths.
func TestControlRoomSession_AccessDetails(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	ad := func(delay time.Duration, paths ...string) *outcome[contract.AccessDetailsResult] {
		return sendUpdate[contract.AccessDetailsResult](env, delay, contract.UpdateAccessDetails,
			contract.AccessDetailsRequest{Paths: paths, MinValidity: contract.Duration(90 * time.Second)})
	}
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.delay = 3 * time.Second; f.mu.Unlock() }, 59*time.Second)
	first := ad(time.Minute, "Bots\\C", "Bots\\A", "Bots\\B")
	d := ad(time.Minute+time.Second, "Bots\\D")
	e := ad(time.Minute+2*time.Second, "Bots\\E", "Bots\\A")
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.delay = 0; f.mu.Unlock() }, time.Minute+10*time.Second)
	hit := ad(3*time.Minute, "Bots\\A", "Bots\\D")
	f.notFound["Bots\\Missing"] = true
	missing := ad(3*time.Minute+10*time.Second, "Bots\\A", "Bots\\Missing")
	// Older than maxAge − minValidity: fetched again.
	stale := ad(4*time.Minute+40*time.Second, "Bots\\A")
	logoutAt(env, 5*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	calls := f.snapshot()
	var paths [][]string
	for _, c := range calls {
		paths = append(paths, c.in.Paths)
	}
	want := [][]string{nil, {"Bots\\A", "Bots\\B", "Bots\\C"}, {"Bots\\D", "Bots\\E"}, {"Bots\\Missing"}}
	if len(calls) < 4 || fmt.Sprint(paths[:4]) != fmt.Sprint(want) {
		t.Fatalf("activity paths = %q, want %q then a refetch of A", paths, want)
	}
	for _, c := range calls[1:4] {
		if c.in.Action != "" {
			t.Fatalf("a path fetch with a valid token must not renew it: %+v", c)
		}
	}
	if first.err != nil || len(first.val.Details) != 3 {
		t.Fatalf("first = %+v %v", first.val, first.err)
	}
	for _, p := range []string{"Bots\\A", "Bots\\B", "Bots\\C"} {
		det := first.val.Details[p]
		if det.URL != "https://exec.example.automationanywhere.digital/"+p || det.Headers["X-Authorization"] != "task-1" ||
			!det.ValidUntil.Equal(det.FetchedAt.Add(defaultAccessMaxAge)) {
			t.Fatalf("details of %s = %+v", p, det)
		}
	}
	if d.err != nil || e.err != nil || d.val.Details["Bots\\D"].Headers["X-Authorization"] != "task-2" ||
		e.val.Details["Bots\\E"].Headers["X-Authorization"] != "task-2" || e.val.Details["Bots\\A"].Headers["X-Authorization"] != "task-1" {
		t.Fatalf("batched callers: d=%+v %v e=%+v %v", d.val, d.err, e.val, e.err)
	}
	if hit.err != nil || hit.at.Sub(hit.sentAt) != 0 || hit.val.Details["Bots\\A"].Generation != first.val.Details["Bots\\A"].Generation {
		t.Fatalf("cache hit = %+v %v", hit.val, hit.err)
	}
	requireAppErr(t, missing.err, contract.ErrNotFound, true, "Bots\\\\Missing")
	if stale.err != nil || stale.val.Details["Bots\\A"].Generation <= first.val.Details["Bots\\A"].Generation ||
		stale.val.Details["Bots\\A"].ValidUntil.Sub(stale.at) < 90*time.Second {
		t.Fatalf("stale entry not refetched: %+v %v", stale.val, stale.err)
	}
}

// Criterion 4: a recently used path is refreshed ahead of time with nobody
// waiting; a path nobody uses any more is dropped.
func TestControlRoomSession_AccessDetailsKeepWarmAndDrop(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	in := sessionInput{SessionInput: contract.SessionInput{Profile: "cr", AccessDetailsMaxAge: contract.Duration(5 * time.Minute), KeepWarm: contract.Duration(15 * time.Minute)}}
	var uses []*outcome[contract.AccessDetailsResult]
	for _, at := range []time.Duration{time.Minute, 3 * time.Minute, 5*time.Minute + 30*time.Second, 12 * time.Minute} {
		uses = append(uses, sendUpdate[contract.AccessDetailsResult](env, at, contract.UpdateAccessDetails,
			contract.AccessDetailsRequest{Paths: []string{"Hot"}, MinValidity: contract.Duration(30 * time.Second)}))
	}
	once := sendUpdate[contract.AccessDetailsResult](env, 2*time.Minute, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"Once"}})
	var mid, end contract.SessionStatus
	statusAt(t, env, 10*time.Minute, &mid)
	statusAt(t, env, 90*time.Minute, &end)
	logoutAt(env, 91*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for i, o := range append(uses, once) {
		if o.err != nil {
			t.Fatalf("use %d: %v", i, o.err)
		}
		if w := o.at.Sub(o.sentAt); i > 0 && i < len(uses) && w != 0 {
			t.Fatalf("use %d of a warm path waited %s", i, w)
		}
	}
	hot := f.callsWithPath("Hot")
	// Fetched at 1m, then kept warm as the details reach the max age (every
	// 5m) while used within 15m (last use at 12m), then no more.
	var offs []time.Duration
	for _, c := range hot {
		offs = append(offs, c.at.Sub(t0))
	}
	if len(hot) < 4 {
		t.Fatalf("Hot fetched at %v: not kept warm", offs)
	}
	for i := 1; i < len(hot); i++ {
		if d := hot[i].at.Sub(hot[i-1].at); d != 5*time.Minute {
			t.Fatalf("Hot refreshed at %v: want every 5m (one fetch per max age)", offs)
		}
	}
	if lastUse := t0.Add(12 * time.Minute); hot[len(hot)-1].at.After(lastUse.Add(15 * time.Minute)) {
		t.Fatalf("Hot refreshed at %v although unused since 12m (keepWarm 15m)", offs)
	}
	onceCalls := f.callsWithPath("Once")
	if len(onceCalls) == 0 || onceCalls[len(onceCalls)-1].at.After(t0.Add(17*time.Minute+time.Second)) {
		t.Fatalf("Once fetched %d times, last at %v", len(onceCalls), onceCalls)
	}
	if len(mid.Paths) != 2 {
		t.Fatalf("status at 10m lists %+v, want Hot and Once", mid.Paths)
	}
	for _, p := range mid.Paths {
		if p.AgeSeconds < 0 || p.AgeSeconds > 300 || p.Generation == 0 {
			t.Fatalf("path status %+v", p)
		}
	}
	if len(end.Paths) != 0 {
		t.Fatalf("status at 90m still lists %+v; unused paths must be dropped", end.Paths)
	}
	// Dropping a path costs no activity: the calls after the last warm fetch are token renewals only.
	for _, c := range f.snapshot() {
		if c.at.After(t0.Add(30*time.Minute)) && len(c.in.Paths) != 0 {
			t.Fatalf("path fetch after 30m: %+v", c)
		}
	}
}

// Criterion 5: 30 days of 20-minute tokens with consumers throughout.
func TestControlRoomSession_ThirtyDays(t *testing.T) {
	if testing.Short() {
		t.Skip("long simulation")
	}
	const days = 30
	end := t0.Add(days * 24 * time.Hour)
	var (
		in       = crIn()
		start    = t0
		runs     int
		timers   int
		requests int
		allCalls []renewCall
		tokens   int
		cur      struct {
			tok string
			gen int64
		}
	)
	for run := 0; ; run++ {
		if run > 40 {
			t.Fatal("too many runs")
		}
		runs++
		env := newEnv(t)
		env.SetStartTime(start)
		f := newFakeCR(env, aaLife)
		f.tokens = tokens // token names continue across runs
		if in.State != nil {
			f.cur = activities.Credential{Token: in.State.Token, IssuedAt: in.State.IssuedAt, Expiry: in.State.Expiry}
		}
		env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
		var outs []*outcome[contract.TokenResult]
		var mins []time.Duration
		for i := 0; i < 3*24*60/7; i++ {
			at := time.Duration(i)*7*time.Minute + time.Duration(i%13)*time.Second
			minV := time.Duration((i*37)%240) * time.Second // 0..4m: never forces an early renewal
			outs = append(outs, tokenAt(env, at, minV))
			mins = append(mins, minV)
		}
		if left := end.Sub(start); left < 3*24*time.Hour {
			logoutAt(env, left)
		}
		env.ExecuteWorkflow(ControlRoomSession, in)
		err := env.GetWorkflowError()
		calls := f.snapshot()
		for i, o := range outs {
			if !o.sent {
				continue
			}
			requests++
			if !o.done || o.err != nil {
				t.Fatalf("run %d: token request %d: done=%v err=%v", run, i, o.done, o.err)
			}
			if left := o.val.Expiry.Sub(o.at); left < max(mins[i], contract.DefaultMinValidity) {
				t.Fatalf("run %d: token request %d at %s got a token with %s left, asked for %s", run, i, o.at, left, mins[i])
			}
			if o.val.Token != fmt.Sprintf("tok-%d", o.val.Generation) {
				t.Fatalf("run %d: token %q has generation %d", run, o.val.Token, o.val.Generation)
			}
		}
		if run > 0 && len(calls) > 0 && calls[0].in.Action != activities.RenewRefresh {
			t.Fatalf("run %d started with %q: a continued session must not log in again", run, calls[0].in.Action)
		}
		if len(calls) > defaultCyclesPerRun {
			t.Fatalf("run %d made %d renewals, more than cyclesPerRun", run, len(calls))
		}
		allCalls = append(allCalls, calls...)
		f.mu.Lock()
		tokens = f.tokens
		cur.tok, cur.gen = f.cur.Token, int64(f.tokens)
		f.mu.Unlock()
		if err == nil {
			if env.Now().Before(end) {
				t.Fatalf("run %d completed at %s before the logout", run, env.Now())
			}
			break
		}
		can, next := continueAsNew(t, err)
		if can.WorkflowType == nil || can.WorkflowType.Name != contract.ControlRoomSessionWorkflow {
			t.Fatalf("continue-as-new to %+v", can.WorkflowType)
		}
		if len(calls) != defaultCyclesPerRun {
			t.Fatalf("run %d continued as new after %d cycles, want %d", run, len(calls), defaultCyclesPerRun)
		}
		s := next.State
		if s == nil || s.Token != cur.tok || s.Generation != cur.gen || s.Token == "" || !s.Expiry.After(env.Now()) {
			t.Fatalf("run %d carried %+v, want token %s generation %d", run, s, cur.tok, cur.gen)
		}
		if next.Profile != "cr" {
			t.Fatalf("carried profile %q", next.Profile)
		}
		in, start = next, env.Now()
	}
	logins := 0
	for _, c := range allCalls {
		if c.in.Action == activities.RenewLogin {
			logins++
		}
		if c.in.Action == "" {
			t.Fatalf("a cycle without a renewal: %+v", c)
		}
	}
	if logins != 1 {
		t.Fatalf("%d logins in %d days, want 1", logins, days)
	}
	elapsed := end.Sub(t0)
	lo, hi := int(elapsed/(aaLife*80/100)), int(elapsed/(aaLife*75/100))+1
	if n := len(allCalls); n < lo || n > hi {
		t.Fatalf("%d activities in %d days, want %d..%d (one per 75-80%% of a 20m lifetime)", n, days, lo, hi)
	}
	// One timer per cycle, plus at most one per run for its first wait.
	if timers > len(allCalls)+runs {
		t.Fatalf("%d timers for %d renewals in %d runs: more than one timer per cycle", timers, len(allCalls), runs)
	}
	if runs < 10 || requests < 5000 {
		t.Fatalf("runs=%d requests=%d: the simulation did not cover what it should", runs, requests)
	}
	t.Logf("%d runs, %d renewals, %d timers, %d token requests", runs, len(allCalls), timers, requests)
}

// Criterion 6: logout calls AALogout once and completes; later updates fail with SessionClosed.
// The expiry gauge follows each renewal and drops to 0 when the session
// ends, so an alert on it does not fire for a session that logged out.
func TestControlRoomSession_ExpiryGaugeEndsAtZero(t *testing.T) {
	rec := newTimerRecorder()
	env := newEnv(t, func(s *testsuite.WorkflowTestSuite) { s.SetMetricsHandler(rec) })
	newFakeCR(env, aaLife)
	tokenAt(env, time.Second, 0)
	logoutAt(env, time.Hour)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	g := rec.gauge("rpaflow_session_token_expiry_timestamp_seconds")
	if len(g) < 3 {
		t.Fatalf("expiry gauge set %d times in an hour of 20-minute tokens: %v", len(g), g)
	}
	for i, v := range g[:len(g)-1] {
		if v <= 0 || i > 0 && v <= g[i-1] {
			t.Fatalf("expiry gauge %d = %v, want a later expiry after each renewal: %v", i, v, g)
		}
	}
	if last := g[len(g)-1]; last != 0 {
		t.Fatalf("expiry gauge after logout = %v, want 0", last)
	}
}

func TestControlRoomSession_Logout(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.logoutDelay = 10 * time.Second
	lo := logoutAt(env, time.Minute)
	lo2 := logoutAt(env, time.Minute+time.Second)
	tok := tokenAt(env, time.Minute+2*time.Second, 0)
	ad := sendUpdate[contract.AccessDetailsResult](env, time.Minute+3*time.Second, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"x"}})
	inv := sendUpdate[contract.InvalidateResult](env, time.Minute+4*time.Second, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1})
	var st contract.SessionStatus
	statusAt(t, env, time.Minute+5*time.Second, &st)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("session ended with %v", err)
	}
	if !env.IsWorkflowCompleted() {
		t.Fatal("not completed")
	}
	if len(f.logouts) != 1 || f.logouts[0] != "cr/tok-1" {
		t.Fatalf("AALogout calls = %v, want one for cr/tok-1", f.logouts)
	}
	for i, o := range []*outcome[any]{lo, lo2} {
		if !o.done || o.err != nil {
			t.Fatalf("logout %d = %+v", i, o)
		}
	}
	if st.State != "closing" {
		t.Fatalf("status while logging out = %q", st.State)
	}
	requireAppErr(t, tok.err, contract.ErrSessionClosed, true)
	requireAppErr(t, ad.err, contract.ErrSessionClosed, true)
	requireAppErr(t, inv.err, contract.ErrSessionClosed, true)
	if calls := f.snapshot(); len(calls) != 1 {
		t.Fatalf("a closing session renewed: %+v", calls)
	}
}

// A waiting caller is released with SessionClosed when the session logs out.
func TestControlRoomSession_LogoutReleasesWaiters(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.fail = func(n int, in activities.RenewInput, now time.Time) error { return unavailable("down") }
	w := tokenAt(env, time.Second, 0)
	logoutAt(env, time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	requireAppErr(t, w.err, contract.ErrSessionClosed, true)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.logouts) != 0 {
		t.Fatalf("logged out a session that never had a token: %v", f.logouts)
	}
}

// Cancelling a session ends it (after logging out) instead of spinning.
func TestControlRoomSession_Cancel(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	tokenAt(env, time.Second, 0)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want a canceled error, got %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.logouts) != 1 {
		t.Fatalf("logouts on cancel = %v, want 1", f.logouts)
	}
	if n := len(f.calls); n < 4 || n > 5 {
		t.Fatalf("%d renewals in 1h", n)
	}
}

// token validation and the minValidity-longer-than-lifetime answer.
func TestControlRoomSession_TokenRequestLimits(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	neg := tokenAt(env, time.Minute, -time.Second)
	huge := tokenAt(env, time.Minute+time.Second, 13*time.Hour)
	long := tokenAt(env, 2*time.Minute, time.Hour)
	after := tokenAt(env, 3*time.Minute, 0)
	logoutAt(env, 4*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !neg.rejected || !huge.rejected {
		t.Fatalf("out-of-range minValidity accepted: %+v %+v", neg, huge)
	}
	requireAppErr(t, neg.err, contract.ErrInvalidInput, true, "minValidity")
	requireAppErr(t, long.err, contract.ErrInvalidInput, true, "minValidity", "20m0s")
	if after.err != nil || after.val.Generation != 2 {
		t.Fatalf("after = %+v %v", after.val, after.err)
	}
	// One renewal for the impossible request, not a loop of them.
	if calls := f.snapshot(); len(calls) != 2 {
		t.Fatalf("%d calls: %+v", len(calls), calls)
	}
}

// Criterion 7: the Orchestrator session renews by OrchAuthenticate at ~75–80% of a 1h token.
func TestOrchestratorSession_Renews(t *testing.T) {
	env := newEnv(t)
	var calls []time.Time
	var profiles []string
	n := 0
	env.OnActivity(orch.OrchAuthenticate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, profile string) (activities.Credential, error) {
			now := env.Now()
			calls = append(calls, now)
			profiles = append(profiles, profile)
			n++
			return activities.Credential{Token: fmt.Sprintf("orch-%d", n), IssuedAt: now, Expiry: now.Add(time.Hour)}, nil
		})
	first := tokenAt(env, time.Second, 0)
	inv := sendUpdate[contract.InvalidateResult](env, 10*time.Hour, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 13})
	logoutAt(env, 10*time.Hour+time.Minute)
	env.ExecuteWorkflow(OrchestratorSession, sessionInput{SessionInput: contract.SessionInput{Profile: "orch"}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if first.err != nil || first.val.Token != "orch-1" || first.val.Generation != 1 {
		t.Fatalf("first token %+v %v", first.val, first.err)
	}
	// 10h / 45..48m = 12.5..13.3 renewals after the first authentication.
	if len(calls) != 14 {
		var offs []time.Duration
		for _, c := range calls {
			offs = append(offs, c.Sub(t0))
		}
		t.Fatalf("%d authentications in 10h: %v", len(calls), offs)
	}
	for i := 1; i < 14; i++ {
		frac := float64(calls[i].Sub(calls[i-1])) / float64(time.Hour)
		if (frac < 0.75 || frac > 0.80) && i != 13 {
			t.Fatalf("renewal %d at %.3f of the lifetime", i, frac)
		}
	}
	// The invalidate at 10h (generation 13) re-authenticates directly: Orchestrator has no validate.
	if inv.err != nil || !inv.val.Renewed || inv.val.Generation != 14 || !calls[13].Equal(t0.Add(10*time.Hour)) {
		t.Fatalf("invalidate = %+v %v; last call at %s", inv.val, inv.err, calls[13].Sub(t0))
	}
	for _, p := range profiles {
		if p != "orch" {
			t.Fatalf("authenticated profile %q", p)
		}
	}
}

// The Orchestrator session has no accessDetails update.
func TestOrchestratorSession_NoAccessDetails(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(orch.OrchAuthenticate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, profile string) (activities.Credential, error) {
			return activities.Credential{Token: "o", IssuedAt: env.Now(), Expiry: env.Now().Add(time.Hour)}, nil
		})
	ad := sendUpdate[contract.AccessDetailsResult](env, time.Second, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"x"}})
	logoutAt(env, time.Minute)
	env.ExecuteWorkflow(OrchestratorSession, sessionInput{SessionInput: contract.SessionInput{Profile: "orch"}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if ad.err == nil {
		t.Fatal("accessDetails accepted by an Orchestrator session")
	}
}

// status never carries the token.
func TestSessionStatusHasNoSecrets(t *testing.T) {
	env := newEnv(t)
	newFakeCR(env, aaLife)
	sendUpdate[contract.AccessDetailsResult](env, time.Second, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"p"}})
	var raw string
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(contract.QueryStatus)
		if err != nil {
			t.Error(err)
			return
		}
		var m map[string]any
		_ = v.Get(&m)
		raw = fmt.Sprint(m)
	}, time.Minute)
	logoutAt(env, 2*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		t.Fatal("no status")
	}
	for _, secret := range []string{"tok-1", "task-", "https://"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("status exposes %q: %s", secret, raw)
		}
	}
}

// A path that was fresh when the request came but is invalidated while the
// other paths are fetched is fetched again before the answer (it used to be
// a nil dereference in the handler).
func TestControlRoomSession_AccessDetailsPathInvalidatedWhileWaiting(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	a := sendUpdate[contract.AccessDetailsResult](env, time.Minute, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"A"}})
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.delay = 5 * time.Second; f.mu.Unlock() }, 2*time.Minute-time.Millisecond)
	both := sendUpdate[contract.AccessDetailsResult](env, 2*time.Minute, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"A", "B"}})
	var inv *outcome[contract.InvalidateResult]
	env.RegisterDelayedCallback(func() {
		inv = sendUpdate[contract.InvalidateResult](env, 0, contract.UpdateInvalidate,
			contract.InvalidateRequest{Generation: a.val.Details["A"].Generation, Path: "A"})
	}, 2*time.Minute+time.Second)
	logoutAt(env, 3*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if a.err != nil || both.err != nil || inv == nil || inv.err != nil {
		t.Fatalf("a=%v both=%v inv=%+v", a.err, both.err, inv)
	}
	if g := both.val.Details["A"].Generation; g <= a.val.Details["A"].Generation || g != inv.val.Generation || !inv.val.Renewed {
		t.Fatalf("A answered with generation %d after generation %d was invalidated (invalidate said %+v)", g, a.val.Details["A"].Generation, inv.val)
	}
	if both.val.Details["B"].URL == "" {
		t.Fatalf("B missing: %+v", both.val)
	}
	if n := len(f.callsWithPath("A")); n != 2 {
		t.Fatalf("A fetched %d times, want 2", n)
	}
}

// A validation that keeps the token must not swallow a concurrent caller's
// need for a longer validity: that caller gets a renewed token at once.
func TestControlRoomSession_ValidateKeepsDemandForLongerValidity(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.validateOK = true
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.delay = 2 * time.Second; f.mu.Unlock() }, 9*time.Minute)
	inv := sendUpdate[contract.InvalidateResult](env, 10*time.Minute, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1})
	tok := tokenAt(env, 10*time.Minute+time.Second, 12*time.Minute)
	logoutAt(env, 11*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if inv.err != nil || inv.val.Renewed {
		t.Fatalf("invalidate = %+v %v", inv.val, inv.err)
	}
	if tok.err != nil || tok.val.Generation != 2 || tok.at.Sub(tok.sentAt) > 10*time.Second {
		t.Fatalf("token = %+v %v after %s", tok.val, tok.err, tok.at.Sub(tok.sentAt))
	}
	var acts []string
	for _, c := range f.snapshot() {
		acts = append(acts, c.in.Action)
	}
	if fmt.Sprint(acts) != "[login validate refresh]" {
		t.Fatalf("actions = %v", acts)
	}
}

// An accessDetails request while authFailed triggers an attempt at once, like a token request.
func TestControlRoomSession_AccessDetailsWhileAuthFailed(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.fail = func(n int, in activities.RenewInput, now time.Time) error {
		if n < 3 {
			return authFailed("401")
		}
		return nil
	}
	ad := sendUpdate[contract.AccessDetailsResult](env, 2*time.Minute, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"A"}})
	logoutAt(env, 5*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if ad.err != nil || ad.at.Sub(ad.sentAt) > time.Second || ad.val.Details["A"].URL == "" {
		t.Fatalf("accessDetails = %+v %v after %s", ad.val, ad.err, ad.at.Sub(ad.sentAt))
	}
	calls := f.snapshot()
	if len(calls) != 4 || calls[3].in.Action != activities.RenewLogin || len(calls[3].in.Paths) != 1 {
		t.Fatalf("want the 4th call to log in and fetch A in one activity, got %+v", calls)
	}
}

// When the server suggests it, the session continues as new once its
// handlers are done, carrying token and cache; no caller is dropped.
func TestControlRoomSession_ContinueAsNewSuggested(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.delay = 2 * time.Second
	env.SetContinueAsNewSuggested(true)
	tok := tokenAt(env, time.Second, 0)
	ad := sendUpdate[contract.AccessDetailsResult](env, time.Second, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"P"}})
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	_, next := continueAsNew(t, env.GetWorkflowError())
	if tok.err != nil || ad.err != nil || !tok.done || !ad.done {
		t.Fatalf("callers before continue-as-new: %+v %+v", tok, ad)
	}
	s := next.State
	if s == nil || s.Token != "tok-1" || s.Generation != 1 || s.Logins != 1 || s.Paths["P"] == nil || s.Paths["P"].URL == "" {
		t.Fatalf("carried state %+v", s)
	}
	// The next run serves the carried token and cache without an activity.
	env2 := newEnv(t)
	env2.SetStartTime(env.Now())
	f2 := newFakeCR(env2, aaLife)
	tok2 := tokenAt(env2, time.Second, 0)
	ad2 := sendUpdate[contract.AccessDetailsResult](env2, time.Second, contract.UpdateAccessDetails, contract.AccessDetailsRequest{Paths: []string{"P"}})
	logoutAt(env2, time.Minute)
	env2.ExecuteWorkflow(ControlRoomSession, next)
	if err := env2.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if tok2.err != nil || tok2.val.Token != "tok-1" || tok2.val.Generation != 1 || ad2.err != nil || ad2.val.Details["P"].Generation != s.Paths["P"].Generation {
		t.Fatalf("next run: %+v %v / %+v %v", tok2.val, tok2.err, ad2.val, ad2.err)
	}
	if calls := f2.snapshot(); len(calls) != 0 {
		t.Fatalf("next run called the Control Room: %+v", calls)
	}
	if f2.logouts[0] != "cr/tok-1" {
		t.Fatalf("logout %v", f2.logouts)
	}
}

// A run that continues as new while AuthFailed keeps its backoff: the next
// run must not retry at once (a locked account would be hammered every run).
func TestControlRoomSession_ContinueAsNewKeepsAuthFailedBackoff(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.fail = func(int, activities.RenewInput, time.Time) error { return authFailed("401") }
	env.ExecuteWorkflow(ControlRoomSession, sessionInput{SessionInput: contract.SessionInput{Profile: "cr", CyclesPerRun: 3,
		AuthFailedBackoff: contract.Duration(10 * time.Minute)}})
	_, next := continueAsNew(t, env.GetWorkflowError())
	st := next.State
	if st == nil || !st.AuthFailed || st.Failures != 3 || st.LastErrorType != contract.ErrAuthFailed {
		t.Fatalf("carried state = %+v, want AuthFailed after 3 failures", st)
	}
	if want := t0.Add(15*time.Second + 10*time.Minute); !st.BackoffUntil.Equal(want) {
		t.Fatalf("carried backoff until %v, want %v", st.BackoffUntil, want)
	}

	env2 := newEnv(t)
	f2 := newFakeCR(env2, aaLife)
	f2.fail = f.fail
	env2.RegisterDelayedCallback(env2.CancelWorkflow, 5*time.Minute)
	env2.ExecuteWorkflow(ControlRoomSession, next)
	if calls := f2.snapshot(); len(calls) != 0 {
		t.Fatalf("next run tried %d logins within the carried backoff, want none", len(calls))
	}
}

// When the access-details call fails after a login, the session keeps the
// new token (no second login) and fetches the paths again after a backoff.
func TestControlRoomSession_PathsFailedKeepsTokenAndRetries(t *testing.T) {
	env := newEnv(t)
	var calls []activities.RenewInput
	env.OnActivity(cr.AARenewSession, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RenewInput) (activities.RenewResult, error) {
			calls = append(calls, in)
			now := env.Now()
			if len(calls) == 1 {
				return activities.RenewResult{LoggedIn: true, PathsFailed: "HTTP 503",
					Credential: &activities.Credential{Token: "tok-1", IssuedAt: now, Expiry: now.Add(aaLife)}}, nil
			}
			return activities.RenewResult{Details: map[string]activities.CachedPath{
				"Bots\\A": {URL: "https://x.automationanywhere.digital/e", Headers: map[string]string{"X-Authorization": "task"}, FetchedAt: now}}}, nil
		})
	env.OnActivity(cr.AALogout, mock.Anything, mock.Anything, mock.Anything).Return(nil)
	got := sendUpdate[contract.AccessDetailsResult](env, time.Second, contract.UpdateAccessDetails,
		contract.AccessDetailsRequest{Paths: []string{"Bots\\A"}})
	var st contract.SessionStatus
	statusAt(t, env, time.Minute, &st)
	logoutAt(env, 2*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !got.done || got.err != nil || got.val.Details["Bots\\A"].URL == "" {
		t.Fatalf("accessDetails = %+v (err %v), want details after the retry", got.val, got.err)
	}
	if len(calls) != 2 || calls[1].Action != "" || calls[1].Token != "tok-1" {
		t.Fatalf("renewals = %+v, want a login then a paths-only retry with the kept token", calls)
	}
	if st.Generation != 1 || st.Logins != 1 {
		t.Fatalf("status = %+v, want one login, generation 1", st)
	}
}

// The token query hands out what the token update would without waiting,
// and nothing while the token is reported rejected or the session closes.
func TestControlRoomSession_TokenQuery(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.delay = 2 * time.Second // the re-login after the report takes 2 s
	queries := map[time.Duration]*contract.TokenResult{}
	queryAt := func(d time.Duration) {
		queries[d] = &contract.TokenResult{}
		env.RegisterDelayedCallback(func() {
			v, err := env.QueryWorkflow(contract.QueryToken)
			if err != nil {
				t.Errorf("token query at %s: %v", d, err)
				return
			}
			if err := v.Get(queries[d]); err != nil {
				t.Errorf("token query at %s: %v", d, err)
			}
		}, d)
	}
	first := tokenAt(env, time.Second, 0)
	queryAt(time.Minute)
	sendUpdate[contract.InvalidateResult](env, 2*time.Minute, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1})
	queryAt(2*time.Minute + time.Second) // while the re-login runs
	queryAt(3 * time.Minute)
	logoutAt(env, 4*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if first.err != nil || first.val.UsableUntil.IsZero() || !first.val.UsableUntil.Equal(first.val.Expiry.Add(-5*time.Second)) {
		t.Fatalf("update answer %+v %v: want usableUntil = expiry − 5s", first.val, first.err)
	}
	if q := queries[time.Minute]; q.Token != "tok-1" || q.Generation != 1 || !q.Expiry.Equal(first.val.Expiry) || !q.UsableUntil.Equal(first.val.UsableUntil) {
		t.Fatalf("query after login = %+v, want the update's answer %+v", *q, first.val)
	}
	if q := queries[2*time.Minute+time.Second]; q.Token != "" {
		t.Fatalf("query while generation 1 is reported rejected handed out %q", q.Token)
	}
	if q := queries[3*time.Minute]; q.Token != "tok-2" || q.Generation != 2 {
		t.Fatalf("query after the re-login = %+v, want tok-2", *q)
	}
}

// Scheduled renewals report how late they started; the first login, and a
// retry after a failed refresh, are not scheduled renewals.
func TestControlRoomSession_RenewalLagMetric(t *testing.T) {
	rec := newTimerRecorder()
	env := newEnv(t, func(s *testsuite.WorkflowTestSuite) { s.SetMetricsHandler(rec) })
	f := newFakeCR(env, aaLife)
	failed := false
	f.fail = func(n int, in activities.RenewInput, now time.Time) error {
		if in.Action == activities.RenewRefresh && n == 3 && !failed {
			failed = true
			return unavailable("503 from the Control Room")
		}
		return nil
	}
	tokenAt(env, time.Second, 0)
	logoutAt(env, 3*time.Hour)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	refreshes := 0
	for _, c := range f.snapshot() {
		if c.in.Action == activities.RenewRefresh {
			refreshes++
		}
	}
	lags := rec.recorded("rpaflow_session_renewal_lag")
	if !failed || len(lags) != refreshes-1 {
		t.Fatalf("%d lags recorded for %d refresh attempts (one a retry after a failure): want %d", len(lags), refreshes, refreshes-1)
	}
	for i, d := range lags {
		if d != 0 { // time skipping fires timers exactly on time
			t.Fatalf("lag %d = %s, want 0", i, d)
		}
	}
}

// A session never runs under a Nexus-style workflow ID, whose payloads
// would be written unencrypted for callers.
func TestSessionRefusesNexusWorkflowID(t *testing.T) {
	env := newEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "nexus:deployApiTask:r1"})
	env.ExecuteWorkflow(ControlRoomSession, sessionInput{SessionInput: contract.SessionInput{Profile: "cr"}})
	requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "nexus:")
}

// Task tokens that state a 30-second lifetime, behind 15-second session
// tokens: details are handed out only until the token's expiry less the
// safety margin (not for the 5-minute max age), kept warm before then, the
// status says the same, and one login serves two minutes of use.
func TestControlRoomSession_AccessDetailsValidUntilTaskTokenExpiry(t *testing.T) {
	const taskLife, validity = 30 * time.Second, 27 * time.Second // 30 s less a tenth
	env := newEnv(t)
	f := newFakeCR(env, 15*time.Second)
	f.taskLife = taskLife
	var uses []*outcome[contract.AccessDetailsResult]
	for at := time.Second; at <= 2*time.Minute; at += 1500 * time.Millisecond {
		uses = append(uses, sendUpdate[contract.AccessDetailsResult](env, at, contract.UpdateAccessDetails,
			contract.AccessDetailsRequest{Paths: []string{"Hot"}}))
	}
	tooLong := sendUpdate[contract.AccessDetailsResult](env, 30*time.Second, contract.UpdateAccessDetails,
		contract.AccessDetailsRequest{Paths: []string{"Other"}, MinValidity: contract.Duration(time.Minute)})
	var st contract.SessionStatus
	statusAt(t, env, 70*time.Second, &st)
	logoutAt(env, 2*time.Minute+time.Second)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for i, o := range uses {
		d := o.val.Details["Hot"]
		if o.err != nil || !o.done {
			t.Fatalf("use %d: %v", i, o.err)
		}
		if !d.ValidUntil.Equal(d.FetchedAt.Add(validity)) {
			t.Fatalf("use %d: validUntil %v, want fetchedAt %v + %s", i, d.ValidUntil, d.FetchedAt, validity)
		}
		if o.at.After(d.ValidUntil) {
			t.Fatalf("use %d at %v was handed details valid until %v", i, o.at.Sub(t0), d.ValidUntil.Sub(t0))
		}
	}
	hot := f.callsWithPath("Hot")
	for i := 1; i < len(hot); i++ {
		if d := hot[i].at.Sub(hot[i-1].at); d > validity {
			t.Fatalf("Hot refetched %s after the previous fetch; its details were valid for %s only", d, validity)
		}
	}
	if n := len(hot); n < 4 || n > 6 {
		t.Fatalf("Hot fetched %d times in 2m, want 4..6 (one per 27 s of validity)", n)
	}
	logins := 0
	for _, c := range f.snapshot() {
		if c.in.Action == activities.RenewLogin {
			logins++
		}
	}
	if logins != 1 {
		t.Fatalf("%d logins, want 1 (refreshes keep the 15 s session tokens)", logins)
	}
	requireAppErr(t, tooLong.err, contract.ErrInvalidInput, true, "minValidity", "27s")
	// No fetch loop: after the one fetch for the request, only keep-warm fetches, one per validity.
	other := f.callsWithPath("Other")
	for i := 1; i < len(other); i++ {
		if d := other[i].at.Sub(other[i-1].at); d < validity {
			t.Fatalf("Other fetched again after %s: an unsatisfiable minValidity loops", d)
		}
	}
	if len(st.Paths) == 0 {
		t.Fatalf("status lists no paths: %+v", st)
	}
	for _, p := range st.Paths {
		if !p.ValidUntil.Equal(p.FetchedAt.Add(validity)) || p.TokenLifetime.D() != taskLife {
			t.Fatalf("status path %+v, want validUntil = fetchedAt + %s and tokenLifetime %s", p, validity, taskLife)
		}
	}
}

// A token kept after validation keeps the times it was received with: its
// remaining life is not a fresh token's, so it is renewed on its own schedule.
func TestControlRoomSession_ValidatedTokenKeepsItsExpiry(t *testing.T) {
	env := newEnv(t)
	f := newFakeCR(env, aaLife)
	f.validateOK, f.validateFresh = true, true
	inv := sendUpdate[contract.InvalidateResult](env, 10*time.Minute, contract.UpdateInvalidate, contract.InvalidateRequest{Generation: 1})
	var st contract.SessionStatus
	statusAt(t, env, 11*time.Minute, &st)
	logoutAt(env, 17*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if inv.err != nil || inv.val.Renewed {
		t.Fatalf("invalidate = %+v %v, want the token kept", inv.val, inv.err)
	}
	if st.Generation != 1 || !st.Expiry.Equal(t0.Add(aaLife)) {
		t.Fatalf("after validation: generation %d expiry +%s, want generation 1 expiring at +%s", st.Generation, st.Expiry.Sub(t0), aaLife)
	}
	calls := f.snapshot()
	var acts []string
	for _, c := range calls {
		acts = append(acts, fmt.Sprintf("%s@%s", c.in.Action, c.at.Sub(t0)))
	}
	// Renewal at 75–80% of the original 20 minutes, not of a life restarted at 10m.
	if len(calls) != 3 || calls[2].in.Action != activities.RenewRefresh ||
		calls[2].at.Before(t0.Add(15*time.Minute)) || calls[2].at.After(t0.Add(16*time.Minute)) {
		t.Fatalf("activities %v, want login, validate, then a refresh at 15–16m", acts)
	}
}

// A run continued as new by earlier versions carried its state inside the
// public input's "state" field: the session still reads it, and what it
// continues with has the same shape.
func TestSessionInputKeepsTheContinueAsNewWireShape(t *testing.T) {
	old := []byte(`{"profile":"cr","cyclesPerRun":3,"state":{"token":"tok-7","issuedAt":"2026-11-22T10:00:00Z","expiry":"2026-11-22T10:20:00Z","generation":7,"pathSeq":2,"lastRefresh":"2026-11-22T10:00:00Z","logins":1,"refreshes":6,"paths":{"p":{"url":"u","headers":{"h":"v"},"fetchedAt":"2026-11-22T10:00:00Z","lastUsed":"2026-11-22T10:00:00Z","generation":2}},"failures":1,"lastError":"e","lastErrorType":"Unavailable"}}`)
	var in sessionInput
	if err := json.Unmarshal(old, &in); err != nil {
		t.Fatal(err)
	}
	if in.Profile != "cr" || in.CyclesPerRun != 3 || in.State == nil || in.State.Token != "tok-7" || in.State.Generation != 7 ||
		in.State.Paths["p"] == nil || in.State.Paths["p"].Headers["h"] != "v" || in.State.Failures != 1 || in.State.LastErrorType != contract.ErrUnavailable {
		t.Fatalf("decoded %+v (state %+v)", in, in.State)
	}
	back, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var again map[string]any
	if err := json.Unmarshal(back, &again); err != nil || again["profile"] != "cr" || again["state"] == nil {
		t.Fatalf("re-encoded %s", back)
	}
	if pub, _ := json.Marshal(contract.SessionInput{Profile: "cr"}); strings.Contains(string(pub), "state") {
		t.Errorf("the public input still carries state: %s", pub)
	}
}

// A token that expires before any refresh succeeds is replaced by a login
// that says so in the log: reason "expired", with the old token's expiry
// and when its renewal was due, so a login forced by an outage can be told
// from one that should not have happened.
func TestControlRoomSession_LoginAfterExpiryLogsWhy(t *testing.T) {
	var logs logRecords
	env := newEnv(t, func(s *testsuite.WorkflowTestSuite) { s.SetLogger(log.NewStructuredLogger(slog.New(&logs))) })
	f := newFakeCR(env, aaLife)
	f.fail = func(_ int, in activities.RenewInput, _ time.Time) error {
		if in.Action == activities.RenewRefresh {
			return unavailable("503 from the Control Room")
		}
		return nil
	}
	first := tokenAt(env, time.Second, time.Minute)
	logoutAt(env, aaLife+5*time.Minute)
	env.ExecuteWorkflow(ControlRoomSession, crIn())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if first.err != nil {
		t.Fatal(first.err)
	}
	logins := logs.find("session token renewed", "outcome", "login")
	if len(logins) != 2 {
		t.Fatalf("logged logins %v, want the first and one after the expiry", logins)
	}
	if logins[0]["reason"] != "no token" {
		t.Errorf("first login's reason = %v, want \"no token\"", logins[0]["reason"])
	}
	l := logins[1]
	expiry := t0.Add(aaLife)
	due, err := time.Parse(time.RFC3339Nano, fmt.Sprint(l["renewalDue"]))
	if l["reason"] != "expired" || l["previousExpiry"] != expiry.Format(time.RFC3339Nano) || err != nil ||
		due.Before(t0.Add(aaLife*3/4)) || !due.Before(expiry) {
		t.Errorf("login after the expiry logged %v (%v); want reason expired, previousExpiry %s and the renewal due at 75-80%% of the life",
			l, err, expiry.Format(time.RFC3339Nano))
	}
}

// logRecords keeps the log's records as attribute maps.
type logRecords struct {
	mu   sync.Mutex
	recs []map[string]any
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, m)
	return nil
}

// find returns the records with message msg whose attribute key is val.
func (l *logRecords) find(msg, key string, val any) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.recs {
		if m["msg"] == msg && m[key] == val {
			out = append(out, m)
		}
	}
	return out
}
