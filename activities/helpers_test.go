package activities_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/session"
)

// newFakeClock starts at the real time so token expiries the activities
// compare with time.Now stay sensible.
func newFakeClock() *simkit.ManualClock {
	return simkit.NewManualClock(time.Now().UTC().Truncate(time.Second))
}

// fakeSessions stands in for the session workflows: it logs in through the
// provider client, caches access details per generation like the real
// session, and counts what the activities asked for.
type fakeSessions struct {
	login   func(ctx context.Context) (string, time.Time, error)
	details func(ctx context.Context, token string, paths []string) (aa.AccessDetails, error) // AA only
	// afterDetails runs after access details were fetched (tests use it to
	// revoke what was just handed out).
	afterDetails func()

	mu          sync.Mutex
	token       string
	expiry      time.Time
	gen         int64
	cache       map[string]contract.AccessDetail
	calls       map[string]int
	invalidated []int64
	refs        []session.Ref
}

func (f *fakeSessions) count(update string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[update]
}

func (f *fakeSessions) invalidations() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.invalidated...)
}

// ensure logs in when no token is held; the caller holds f.mu.
func (f *fakeSessions) ensure(ctx context.Context) error {
	if f.token != "" {
		return nil
	}
	tok, exp, err := f.login(ctx)
	if err != nil {
		return err
	}
	f.token, f.expiry = tok, exp
	f.gen++
	f.cache = map[string]contract.AccessDetail{}
	return nil
}

// record counts a request; the caller holds f.mu.
func (f *fakeSessions) record(s session.Ref, update string) {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[update]++
	f.refs = append(f.refs, s)
}

func (f *fakeSessions) Token(ctx context.Context, s session.Ref, _ time.Duration) (contract.TokenResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(s, contract.UpdateToken)
	if err := f.ensure(ctx); err != nil {
		return contract.TokenResult{}, err
	}
	return contract.TokenResult{Token: f.token, Expiry: f.expiry, UsableUntil: f.expiry.Add(-5 * time.Second), Generation: f.gen}, nil
}

func (f *fakeSessions) AccessDetails(ctx context.Context, s session.Ref, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(s, contract.UpdateAccessDetails)
	if err := f.ensure(ctx); err != nil {
		return contract.AccessDetailsResult{}, err
	}
	var missing []string
	for _, p := range req.Paths {
		if _, ok := f.cache[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		d, err := f.details(ctx, f.token, missing)
		if err != nil {
			return contract.AccessDetailsResult{}, err
		}
		for p, det := range d.Details {
			f.cache[p] = contract.AccessDetail{URL: det.URL, Headers: det.Headers, Generation: f.gen}
		}
		if f.afterDetails != nil {
			f.afterDetails()
		}
	}
	out := contract.AccessDetailsResult{Details: map[string]contract.AccessDetail{}}
	for _, p := range req.Paths {
		if d, ok := f.cache[p]; ok {
			out.Details[p] = d
		}
	}
	return out, nil
}

func (f *fakeSessions) Invalidate(ctx context.Context, s session.Ref, req contract.InvalidateRequest) (contract.InvalidateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(s, contract.UpdateInvalidate)
	f.invalidated = append(f.invalidated, req.Generation)
	renewed := false
	if req.Generation == f.gen {
		f.token = "" // re-authenticate once per generation
		if err := f.ensure(ctx); err != nil {
			return contract.InvalidateResult{}, err
		}
		renewed = true
	}
	return contract.InvalidateResult{Generation: f.gen, Renewed: renewed}, nil
}

// aaEnv is a Control Room simulator on loopback with a client, a registry
// holding it as profile "cr", and fake sessions for it.
type aaEnv struct {
	sim      *aasim.Server
	srv      *httptest.Server
	client   *aa.Client
	reg      *activities.Registry
	sessions *fakeSessions
	cr       *activities.AutomationAnywhere
}

type aaSetup struct {
	sim    func(*aasim.Options)
	client func(*aa.Options)
	wrap   func(http.Handler) http.Handler // in front of the simulator
}

func newAAEnv(t *testing.T, s aaSetup) *aaEnv {
	t.Helper()
	o := aasim.DefaultOptions()
	if s.sim != nil {
		s.sim(&o)
	}
	sim := aasim.New(o)
	var h http.Handler = sim
	if s.wrap != nil {
		h = s.wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	co := aa.Options{BaseURL: srv.URL, Username: aasim.DemoUsername, APIKey: aasim.DemoAPIKey, AllowHTTP: true}
	if s.client != nil {
		s.client(&co)
	}
	c, err := aa.New(co)
	if err != nil {
		t.Fatal(err)
	}
	reg := activities.NewRegistry()
	reg.AddAA("cr", c)
	fs := &fakeSessions{
		login: func(ctx context.Context) (string, time.Time, error) {
			tok, err := c.Login(ctx)
			return tok.Value, tok.Expiry, err
		},
		details: c.AccessDetails,
	}
	return &aaEnv{sim: sim, srv: srv, client: c, reg: reg, sessions: fs,
		cr: &activities.AutomationAnywhere{Registry: reg, Sessions: fs, Budget: &activities.Budget{PerMinute: 60000}, Marks: heartbeatMarks{}}}
}

// warm makes the fake session log in and cache the zip task's details.
func (e *aaEnv) warm(t *testing.T) {
	t.Helper()
	if _, err := e.sessions.AccessDetails(context.Background(), session.Ref{Profile: "cr"},
		contract.AccessDetailsRequest{Paths: []string{aasim.ZipCodeTaskPath}}); err != nil {
		t.Fatal(err)
	}
}

func (e *aaEnv) activityEnv(t *testing.T) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(e.cr)
	return env
}

// orchEnv is the Orchestrator simulator with a client as profile "orch".
type orchEnv struct {
	sim      *orchsim.Server
	srv      *httptest.Server
	client   *orchestrator.Client
	clock    *simkit.ManualClock
	sessions *fakeSessions
	orch     *activities.Orchestrator
}

// newOrchEnv serves the demo tenant; every job read moves the simulator's
// clock by step, so a job's life is a number of polls, not wall time.
func newOrchEnv(t *testing.T, step time.Duration, budget *activities.Budget) *orchEnv {
	t.Helper()
	return newOrchEnvWith(t, step, budget, nil)
}

// newOrchEnvWith is newOrchEnv with the tenant edited first.
func newOrchEnvWith(t *testing.T, step time.Duration, budget *activities.Budget, edit func(*orchsim.Options)) *orchEnv {
	t.Helper()
	return orchEnvOf(t, step, budget, edit, nil)
}

// newOrchEnvWrapped is newOrchEnv with wrap in front of the simulator.
func newOrchEnvWrapped(t *testing.T, step time.Duration, budget *activities.Budget, wrap func(http.Handler) http.Handler) *orchEnv {
	t.Helper()
	return orchEnvOf(t, step, budget, nil, wrap)
}

func orchEnvOf(t *testing.T, step time.Duration, budget *activities.Budget, edit func(*orchsim.Options), wrap func(http.Handler) http.Handler) *orchEnv {
	t.Helper()
	clk := newFakeClock()
	o := orchsim.DefaultOptions()
	o.Clock = clk.Now
	if edit != nil {
		edit(&o)
	}
	sim := orchsim.New(o)
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := strings.ToLower(r.URL.Path); strings.HasPrefix(p, "/odata/jobs(") || strings.HasPrefix(p, "/odata/queueitems(") {
			clk.Advance(step)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := orchestrator.New(orchestrator.Options{BaseURL: srv.URL, ClientID: orchsim.DemoClientID, ClientSecret: orchsim.DemoClientSecret,
		Scopes: []string{"OR.Folders.Read", "OR.Execution.Read", "OR.Jobs", "OR.Queues"}, AllowHTTP: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	reg := activities.NewRegistry()
	reg.AddOrchestrator("orch", c)
	fs := &fakeSessions{login: func(ctx context.Context) (string, time.Time, error) {
		tok, err := c.Authenticate(ctx)
		return tok.Value, tok.Expiry, err
	}}
	return &orchEnv{sim: sim, srv: srv, client: c, clock: clk, sessions: fs,
		orch: &activities.Orchestrator{Registry: reg, Sessions: fs, Budget: budget}}
}

// heartbeatMarks store marks with the test environment's heartbeat, which
// records them at once (a worker's may hold them back).
type heartbeatMarks struct{}

func (heartbeatMarks) Mark(ctx context.Context, details any) error {
	activity.RecordHeartbeat(ctx, details)
	return nil
}

// appError unwraps the classified error an activity returned.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	if err == nil {
		t.Fatal("activity succeeded; want a classified error")
	}
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("error is not an application error: %T %v", err, err)
	}
	return app
}

func wantClass(t *testing.T, err error, class contract.ErrorType) *temporal.ApplicationError {
	t.Helper()
	app := appError(t, err)
	if contract.ErrorType(app.Type()) != class {
		t.Fatalf("error class = %q, want %q (%v)", app.Type(), class, err)
	}
	return app
}

// recLogger keeps the activity log so tests can read what it reported.
type recLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLogger) add(level, msg string, kv []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	parts := []string{level, msg}
	for _, v := range kv {
		parts = append(parts, fmt.Sprint(v))
	}
	l.lines = append(l.lines, strings.Join(parts, " ")+" ")
}

func (l *recLogger) Debug(msg string, kv ...any) { l.add("DEBUG", msg, kv) }
func (l *recLogger) Info(msg string, kv ...any)  { l.add("INFO", msg, kv) }
func (l *recLogger) Warn(msg string, kv ...any)  { l.add("WARN", msg, kv) }
func (l *recLogger) Error(msg string, kv ...any) { l.add("ERROR", msg, kv) }

// values returns the value logged after key on lines with msg, in order.
func (l *recLogger) values(msg, key string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		_, kv, ok := strings.Cut(line, " "+msg+" ")
		if !ok {
			continue
		}
		if _, rest, ok := strings.Cut(" "+kv, " "+key+" "); ok {
			v, _, _ := strings.Cut(rest, " ")
			out = append(out, v)
		}
	}
	return out
}
