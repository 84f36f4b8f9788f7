package activities_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

func renew(t *testing.T, e *aaEnv, in activities.RenewInput) (activities.RenewResult, error) {
	t.Helper()
	val, err := e.activityEnv(t).ExecuteActivity(e.cr.AARenewSession, in)
	if err != nil {
		return activities.RenewResult{}, err
	}
	var res activities.RenewResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func TestRenewSessionLoginAndRefresh(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin})
	if err != nil {
		t.Fatal(err)
	}
	if !res.LoggedIn || res.Credential == nil || res.Credential.Token == "" {
		t.Fatalf("login result = %+v", res)
	}
	if life := res.Credential.Expiry.Sub(res.Credential.IssuedAt); life < 19*time.Minute || life > 21*time.Minute {
		t.Errorf("token lifetime = %v, want the simulator's 20 min from the JWT exp", life)
	}
	first := res.Credential.Token

	res, err = renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewRefresh, Token: first})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Refreshed || res.LoggedIn || res.Credential == nil || res.Credential.Token == first {
		t.Errorf("refresh result = %+v, want a new token from a refresh", res)
	}
	c := e.sim.Counters()
	if c.Get("login") != 1 || c.Get("refresh") != 1 {
		t.Errorf("logins %d, refreshes %d; want 1 and 1", c.Get("login"), c.Get("refresh"))
	}
}

// An expired or revoked token cannot be refreshed: the same attempt logs in.
func TestRenewSessionRefreshRefusedLogsIn(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	tok, err := e.client.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.sim.RevokeAll()
	res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewRefresh, Token: tok.Value,
		Paths: []string{aasim.ZipCodeTaskPath}})
	if err != nil {
		t.Fatalf("refused refresh was not recovered by a login: %v", err)
	}
	if !res.LoggedIn || res.Refreshed || res.Credential == nil || res.Credential.Token == tok.Value {
		t.Errorf("result = %+v, want a fresh login", res)
	}
	if _, ok := res.Details[aasim.ZipCodeTaskPath]; !ok {
		t.Errorf("no access details with the new token: %+v", res)
	}
	c := e.sim.Counters()
	if c.Get("refresh") != 1 || c.Get("login") != 2 {
		t.Errorf("refreshes %d, logins %d; want 1 refused refresh then 1 login (plus the test's own)", c.Get("refresh"), c.Get("login"))
	}
}

func TestRenewSessionValidate(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	tok, err := e.client.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewValidate, Token: tok.Value})
	if err != nil {
		t.Fatal(err)
	}
	if res.LoggedIn || res.Credential == nil || res.Credential.Token != tok.Value || res.Credential.Expiry.Sub(res.Credential.IssuedAt) != tok.Expiry.Sub(tok.IssuedAt) {
		t.Errorf("valid token: result = %+v, want the same token kept with its JWT lifetime", res)
	}
	e.sim.RevokeAll()
	res, err = renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewValidate, Token: tok.Value})
	if err != nil {
		t.Fatal(err)
	}
	if !res.LoggedIn || res.Credential == nil || res.Credential.Token == tok.Value {
		t.Errorf("invalid token: result = %+v, want a login", res)
	}
	if got := e.sim.Counters().Get("validate"); got != 2 {
		t.Errorf("validate calls = %d, want 2", got)
	}
}

func TestRenewSessionAccessDetailsWithPathError(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin,
		Paths: []string{aasim.ZipCodeTaskPath, `Automation Anywhere\Bots\No Such Task`}})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := res.Details[aasim.ZipCodeTaskPath]
	if !ok || !strings.Contains(d.URL, "/hotbot/2689/execute") || d.Headers["X-Authorization"] == "" {
		t.Errorf("zip task details = %+v", d)
	}
	if msg := res.PathErrors[`Automation Anywhere\Bots\No Such Task`]; !strings.Contains(msg, "hotbot.allocation.not.found") {
		t.Errorf("path error = %q, want the Control Room's entry", msg)
	}
	if len(res.Details) != 1 {
		t.Errorf("details for %d paths, want 1", len(res.Details))
	}
}

// A login already paid for is kept even when the access details fail.
func TestRenewSessionPathsFailTokenKept(t *testing.T) {
	var failDetails atomic.Bool
	e := newAAEnv(t, aaSetup{wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failDetails.Load() && strings.HasSuffix(r.URL.Path, "/accessdetails") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"code":"service.unavailable","message":"try later"}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	}})
	failDetails.Store(true)
	res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin, Paths: []string{aasim.ZipCodeTaskPath}})
	if err != nil {
		t.Fatalf("the activity failed and lost the new token: %v", err)
	}
	if res.Credential == nil || !res.LoggedIn {
		t.Fatalf("result = %+v, want the new token", res)
	}
	if len(res.PathErrors) != 0 || !strings.Contains(res.PathsFailed, "503") {
		t.Errorf("pathErrors = %v, pathsFailed = %q; want no permanent path error and the 503 as a retryable failure", res.PathErrors, res.PathsFailed)
	}
	// Without a new token there is nothing to keep: the failure is retryable.
	_, err = renew(t, e, activities.RenewInput{Profile: "cr", Token: res.Credential.Token, Paths: []string{aasim.ZipCodeTaskPath}})
	if app := wantClass(t, err, contract.ErrUnavailable); app.NonRetryable() {
		t.Error("503 on access details is non-retryable")
	}
}

func TestRenewSessionWrongKeyIsAuthFailed(t *testing.T) {
	e := newAAEnv(t, aaSetup{client: func(o *aa.Options) { o.APIKey = "wrong-key-000000000000000000000000000000" }})
	_, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin})
	if app := wantClass(t, err, contract.ErrAuthFailed); !app.NonRetryable() {
		t.Error("AuthFailed is retryable")
	}
	if strings.Contains(err.Error(), "wrong-key") {
		t.Error("error text echoes the API key")
	}
}

func TestRenewSessionControlRoomDown(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	e.srv.Close() // connection refused: nothing was sent
	_, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin})
	if app := wantClass(t, err, contract.ErrUnavailable); app.NonRetryable() {
		t.Error("connection refused is non-retryable")
	}
}

func execute(t *testing.T, e *aaEnv, in activities.ExecuteInput) (activities.ExecuteResult, error) {
	t.Helper()
	val, err := e.activityEnv(t).ExecuteActivity(e.cr.AAExecuteAPITask, in)
	if err != nil {
		return activities.ExecuteResult{}, err
	}
	var res activities.ExecuteResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func zipIn(zip string) activities.ExecuteInput {
	return activities.ExecuteInput{Profile: "cr", Path: aasim.ZipCodeTaskPath,
		BotInput: map[string]botvalue.Value{"iStrZipCode": botvalue.Str(zip)}}
}

func TestExecuteAPITask(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	res, err := execute(t, e, zipIn("95134"))
	if err != nil {
		t.Fatal(err)
	}
	if res.BotOutput["State"].String != "California" || res.BotOutput["City"].String != "San Jose" {
		t.Errorf("output = %+v", res.BotOutput)
	}
	if e.sessions.count(contract.UpdateAccessDetails) != 1 || e.sim.Counters().Get("execute") != 1 {
		t.Errorf("access-details updates %d, executions %d; want 1 and 1",
			e.sessions.count(contract.UpdateAccessDetails), e.sim.Counters().Get("execute"))
	}
	if ref := e.sessions.refs[0]; ref.WorkflowType != contract.ControlRoomSessionWorkflow || ref.Profile != "cr" {
		t.Errorf("asked session %+v", ref)
	}
	// An unknown input variable is the caller's mistake: never retried.
	_, err = execute(t, e, activities.ExecuteInput{Profile: "cr", Path: aasim.ZipCodeTaskPath,
		BotInput: map[string]botvalue.Value{"nope": botvalue.Str("x")}})
	if app := wantClass(t, err, contract.ErrInvalidRequest); !strings.Contains(app.Error(), "nope") {
		t.Errorf("error does not name the variable: %v", app)
	}
}

// A stale task token (401) is reported once with the generation it came
// from, and the task runs with the renewed details.
func TestExecuteAPITaskRejectedOnceIsRenewed(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	e.warm(t)
	e.sim.RevokeAll() // the cached details now hold a dead task token
	res, err := execute(t, e, zipIn("10001"))
	if err != nil {
		t.Fatal(err)
	}
	if res.BotOutput["State"].String != "New York" {
		t.Errorf("output = %+v", res.BotOutput)
	}
	if got := e.sessions.invalidations(); len(got) != 1 || got[0] != 1 {
		t.Errorf("invalidate reports = %v, want [1] (the generation of the rejected details)", got)
	}
	c := e.sim.Counters()
	if c.Get("execute") != 2 || c.Get("http.401") != 1 || c.Get("login") != 2 {
		t.Errorf("executions %d, 401s %d, logins %d; want 2, 1, 2", c.Get("execute"), c.Get("http.401"), c.Get("login"))
	}
}

func TestExecuteAPITaskRejectedTwiceIsTokenRejected(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	e.sessions.afterDetails = e.sim.RevokeAll // every task token dies as soon as it is handed out
	_, err := execute(t, e, zipIn("10001"))
	wantClass(t, err, contract.ErrTokenRejected)
	if got := e.sessions.invalidations(); len(got) != 1 {
		t.Errorf("invalidate reports = %v, want exactly one", got)
	}
	if got := e.sim.Counters().Get("execute"); got != 2 {
		t.Errorf("executions = %d, want 2 (the first try and one after renewal)", got)
	}
}

func TestExecuteAPITaskHostNotAllowed(t *testing.T) {
	e := newAAEnv(t, aaSetup{client: func(o *aa.Options) { o.ExecutionHosts = []string{"*.automationanywhere.digital"} }})
	_, err := execute(t, e, zipIn("95134"))
	app := wantClass(t, err, contract.ErrInvalidInput)
	if !strings.Contains(app.Error(), `"127.0.0.1"`) || !strings.Contains(app.Error(), "EXECUTION_HOSTS") {
		t.Errorf("error does not name the host and the fix: %v", app)
	}
	if got := e.sim.Counters().Get("execute"); got != 0 {
		t.Errorf("executions = %d: the task token was sent to a host not allowed", got)
	}
}

// blockFirst makes the zip task's first execution hold its concurrency slot
// until release is closed.
func blockFirst(started chan<- struct{}, release <-chan struct{}) func(*aasim.Options) {
	var n atomic.Int32
	return func(o *aasim.Options) {
		task := &o.APITasks[0]
		task.ConcurrencyLimit = 1
		run := task.Run
		task.Run = func(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
			if n.Add(1) == 1 {
				close(started)
				<-release
			}
			return run(in)
		}
	}
}

func TestExecuteAPITaskConcurrencyLimitIsThrottled(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	e := newAAEnv(t, aaSetup{sim: blockFirst(started, release)})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // another caller holds the only slot
		defer wg.Done()
		if _, err := execute(t, e, zipIn("60601")); err != nil {
			t.Errorf("slot holder: %v", err)
		}
	}()
	<-started
	_, err := execute(t, e, zipIn("95134"))
	close(release)
	wg.Wait()
	app := wantClass(t, err, contract.ErrThrottled)
	if app.NonRetryable() || app.NextRetryDelay() != time.Second {
		t.Errorf("NonRetryable %v, NextRetryDelay %v; want retryable after the simulator's Retry-After: 1", app.NonRetryable(), app.NextRetryDelay())
	}
	if got := e.sim.Counters().Get("execute.rejected"); got != 1 {
		t.Errorf("rejected executions = %d, want 1", got)
	}
}

func TestExecuteAPITaskTimeout(t *testing.T) {
	slow := aaSetup{
		sim:    func(o *aasim.Options) { o.APITasks[0].Latency = 10 * time.Second },
		client: func(o *aa.Options) { o.ExecuteTimeout = 200 * time.Millisecond },
	}
	e := newAAEnv(t, slow)
	_, err := execute(t, e, zipIn("95134"))
	app := wantClass(t, err, contract.ErrAmbiguous)
	if !strings.Contains(app.Error(), "after the request was sent") {
		t.Errorf("Ambiguous error does not say the request was sent: %v", app)
	}

	e = newAAEnv(t, slow)
	in := zipIn("95134")
	in.Idempotent = true
	_, err = execute(t, e, in)
	if app := wantClass(t, err, contract.ErrUnavailable); app.NonRetryable() {
		t.Error("an idempotent timeout is not retryable")
	}
	if got := e.sim.Counters().Get("execute"); got != 1 {
		t.Errorf("executions = %d, want 1 (retries are Temporal's job)", got)
	}
}

func TestExecuteAPITaskUnknownProfile(t *testing.T) {
	e := newAAEnv(t, aaSetup{})
	_, err := execute(t, e, activities.ExecuteInput{Profile: "nope", Path: aasim.ZipCodeTaskPath})
	app := wantClass(t, err, contract.ErrInvalidInput)
	if !strings.Contains(app.Error(), `"nope"`) || !strings.Contains(app.Error(), "known automationanywhere profiles: cr") {
		t.Errorf("error = %v", app)
	}
	if e.sessions.count(contract.UpdateAccessDetails) != 0 {
		t.Error("an unknown profile reached the session")
	}
}

// A user whose role needs two-factor authentication: with the right seed
// the session logs in (a code per login, a re-login in the same period
// waiting for the next code); a wrong seed or none is AuthFailed and says
// what to set.
func TestRenewSessionTwoFactor(t *testing.T) {
	const seed, wrong = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	setup := func(clientSeed string) aaSetup {
		return aaSetup{
			sim:    func(o *aasim.Options) { o.Users[0].MFASecret, o.Users[0].MFAPeriod = seed, 2*time.Second },
			client: func(o *aa.Options) { o.MFA = aa.TOTP{Secret: clientSeed, Period: 2 * time.Second} },
		}
	}
	e := newAAEnv(t, setup(seed))
	for i := 0; i < 2; i++ { // the second login falls in the same 2 s period more often than not
		if res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin}); err != nil || !res.LoggedIn {
			t.Fatalf("login %d with the right seed: %+v %v", i+1, res, err)
		}
	}
	if n := e.sim.Counters().Get("login.mfa.refused"); n != 0 {
		t.Fatalf("the Control Room refused %d codes", n)
	}
	for _, c := range []struct {
		clientSeed string
		want       []string
	}{
		{wrong, []string{"Invalid two-factor authentication code", "_MFA_SECRET", "clock"}},
		{"", []string{"needs two-factor authentication", "RPAFLOW_<PROFILE>_MFA_SECRET"}},
	} {
		e := newAAEnv(t, setup(c.clientSeed))
		_, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin})
		if app := wantClass(t, err, contract.ErrAuthFailed); !app.NonRetryable() {
			t.Errorf("seed %q: %v is retryable", c.clientSeed, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("seed %q: %q does not say %q", c.clientSeed, err, w)
			}
		}
		if strings.Contains(err.Error(), seed) || strings.Contains(err.Error(), wrong) {
			t.Errorf("error shows a seed: %v", err)
		}
	}
}

// A renewal whose result the session never received (the Temporal server
// lost its workflow task's completion) leaves its token with the worker:
// the session's next renewal, which would log in because the token it
// holds expired or was refused, gets that token back instead, once the
// Control Room confirms it still accepts it. Logged out, it is not reused.
func TestRenewSessionReusesTheTokenOfALostRenewal(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	e := newAAEnv(t, aaSetup{sim: func(o *aasim.Options) {
		o.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	}})
	step := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	res, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin})
	if err != nil {
		t.Fatal(err)
	}
	held := res.Credential.Token
	step(time.Minute)
	lost, err := renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewRefresh, Token: held})
	if err != nil || lost.Credential == nil {
		t.Fatalf("refresh = %+v, %v", lost, err)
	}
	// The session still holds the first token and asks for a login.
	res, err = renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin, Token: held,
		Paths: []string{aasim.ZipCodeTaskPath}})
	if err != nil {
		t.Fatal(err)
	}
	if res.LoggedIn || res.Credential == nil || res.Credential.Token != lost.Credential.Token || !res.Credential.Expiry.Equal(lost.Credential.Expiry) {
		t.Errorf("renewal after the lost refresh = %+v, want the refreshed token back without a login", res)
	}
	if _, ok := res.Details[aasim.ZipCodeTaskPath]; !ok {
		t.Errorf("no access details with the reused token: %+v", res)
	}
	if c := e.sim.Counters(); c.Get("login") != 1 {
		t.Errorf("logins = %d, want 1", c.Get("login"))
	}

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(e.cr)
	if _, err := env.ExecuteActivity(e.cr.AALogout, "cr", activities.LogoutToken(lost.Credential.Token)); err != nil {
		t.Fatal(err)
	}
	res, err = renew(t, e, activities.RenewInput{Profile: "cr", Action: activities.RenewLogin, Token: held})
	if err != nil {
		t.Fatal(err)
	}
	if !res.LoggedIn {
		t.Errorf("renewal after the logout = %+v, want a login", res)
	}
}
