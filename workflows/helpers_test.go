package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// t0 is the test clock's start, so absolute times in assertions are readable.
var t0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, setup ...func(*testsuite.WorkflowTestSuite)) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	for _, f := range setup {
		f(&s)
	}
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.SetTestTimeout(2 * time.Minute)
	env.RegisterActivity(&activities.AutomationAnywhere{})
	env.RegisterActivity(&activities.Orchestrator{})
	env.RegisterActivity(&activities.AutomationHub{})
	env.RegisterActivity(&activities.Events{})
	return env
}

// outcome is the answer of one update (or its rejection).
type outcome[T any] struct {
	sent     bool
	done     bool
	rejected bool
	val      T
	err      error
	sentAt   time.Time
	at       time.Time
}

// sendUpdate schedules update name with args after delay. The callbacks run
// on the test environment's goroutine, so outcomes may be read after the run.
func sendUpdate[T any](env *testsuite.TestWorkflowEnvironment, delay time.Duration, name string, args ...any) *outcome[T] {
	o := &outcome[T]{}
	env.RegisterDelayedCallback(func() {
		if env.IsWorkflowCompleted() {
			return
		}
		o.sent, o.sentAt = true, env.Now()
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.done, o.rejected, o.err, o.at = true, true, err, env.Now() },
			OnComplete: func(v any, err error) {
				o.done, o.err, o.at = true, err, env.Now()
				if err == nil && v != nil {
					b, jerr := json.Marshal(v)
					if jerr == nil {
						jerr = json.Unmarshal(b, &o.val)
					}
					if jerr != nil {
						o.err = fmt.Errorf("decoding update result: %w", jerr)
					}
				}
			},
		}, args...)
	}, delay)
	return o
}

func tokenAt(env *testsuite.TestWorkflowEnvironment, delay, minValidity time.Duration) *outcome[contract.TokenResult] {
	return sendUpdate[contract.TokenResult](env, delay, contract.UpdateToken, contract.TokenRequest{MinValidity: contract.Duration(minValidity)})
}

func logoutAt(env *testsuite.TestWorkflowEnvironment, delay time.Duration) *outcome[any] {
	return sendUpdate[any](env, delay, contract.UpdateLogout)
}

// statusAt queries status after delay into *into.
func statusAt[T any](t *testing.T, env *testsuite.TestWorkflowEnvironment, delay time.Duration, into *T) {
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(contract.QueryStatus)
		if err != nil {
			t.Errorf("status query at %s: %v", delay, err)
			return
		}
		if err := v.Get(into); err != nil {
			t.Errorf("status decode: %v", err)
		}
	}, delay)
}

func appErr(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("want an application error, got %T %v", err, err)
	}
	return app
}

// requireAppErr checks err is an application error of type typ whose message contains every fragment.
func requireAppErr(t *testing.T, err error, typ contract.ErrorType, nonRetryable bool, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got nil", typ)
	}
	app := appErr(t, err)
	if contract.ErrorType(app.Type()) != typ {
		t.Fatalf("error type = %q, want %q (%v)", app.Type(), typ, err)
	}
	if app.NonRetryable() != nonRetryable {
		t.Fatalf("NonRetryable = %v, want %v (%v)", app.NonRetryable(), nonRetryable, err)
	}
	for _, f := range fragments {
		if !strings.Contains(app.Error(), f) {
			t.Fatalf("error %q does not mention %q", app.Error(), f)
		}
	}
}

func continueAsNew(t *testing.T, err error) (*workflow.ContinueAsNewError, sessionInput) {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var in sessionInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatalf("decode continue-as-new input: %v", err)
	}
	return can, in
}

// renewCall is one recorded AARenewSession (or OrchAuthenticate) call.
type renewCall struct {
	at time.Time
	in activities.RenewInput
}

// fakeCR is a scripted Control Room behind the mocked activities.
type fakeCR struct {
	env      *testsuite.TestWorkflowEnvironment
	lifetime time.Duration

	mu         sync.Mutex
	calls      []renewCall
	logouts    []string
	tokens     int
	cur        activities.Credential
	validateOK bool
	// validateFresh: a validated token comes back timed as if just received
	// (what the activity can tell), not with the times it was issued with.
	validateFresh bool
	notFound      map[string]bool
	delay         time.Duration
	// taskLife is the lifetime the task tokens state (0: they do not).
	taskLife time.Duration
	// logoutDelay is how long AALogout takes.
	logoutDelay time.Duration
	// fail, when set, may fail call n (0-based) before anything else happens.
	fail func(n int, in activities.RenewInput, now time.Time) error
}

func newFakeCR(env *testsuite.TestWorkflowEnvironment, lifetime time.Duration) *fakeCR {
	f := &fakeCR{env: env, lifetime: lifetime, notFound: map[string]bool{}}
	env.OnActivity(cr.AARenewSession, mock.Anything, mock.Anything).Return(f.renew).
		AfterFn(func() time.Duration { f.mu.Lock(); defer f.mu.Unlock(); return f.delay })
	env.OnActivity(cr.AALogout, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, profile string, token activities.LogoutToken) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.logouts = append(f.logouts, profile+"/"+string(token))
			return nil
		}).AfterFn(func() time.Duration { f.mu.Lock(); defer f.mu.Unlock(); return f.logoutDelay })
	return f
}

func (f *fakeCR) issue(now time.Time) *activities.Credential {
	f.tokens++
	f.cur = activities.Credential{Token: fmt.Sprintf("tok-%d", f.tokens), IssuedAt: now, Expiry: now.Add(f.lifetime)}
	c := f.cur
	return &c
}

func (f *fakeCR) renew(_ context.Context, in activities.RenewInput) (activities.RenewResult, error) {
	now := f.env.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.calls)
	f.calls = append(f.calls, renewCall{at: now, in: in})
	if f.fail != nil {
		if err := f.fail(n, in, now); err != nil {
			return activities.RenewResult{}, err
		}
	}
	var res activities.RenewResult
	switch in.Action {
	case activities.RenewLogin:
		res.Credential, res.LoggedIn = f.issue(now), true
	case activities.RenewRefresh:
		res.Credential, res.Refreshed = f.issue(now), true
	case activities.RenewValidate:
		if f.validateOK && in.Token == f.cur.Token {
			c := f.cur
			if f.validateFresh {
				c.IssuedAt, c.Expiry = now, now.Add(f.lifetime)
			}
			res.Credential = &c
		} else {
			res.Credential, res.LoggedIn = f.issue(now), true
		}
	}
	for _, p := range in.Paths {
		if f.notFound[p] {
			if res.PathErrors == nil {
				res.PathErrors = map[string]string{}
			}
			res.PathErrors[p] = "no API Task allocation for this path"
			continue
		}
		if res.Details == nil {
			res.Details = map[string]activities.CachedPath{}
		}
		res.Details[p] = activities.CachedPath{URL: "https://exec.example.automationanywhere.digital/" + p,
			Headers: map[string]string{"X-Authorization": fmt.Sprintf("task-%d", n)}, FetchedAt: now,
			Lifetime: contract.Duration(f.taskLife)}
	}
	return res, nil
}

func (f *fakeCR) snapshot() []renewCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]renewCall(nil), f.calls...)
}

func (f *fakeCR) callsWithPath(p string) []renewCall {
	var out []renewCall
	for _, c := range f.snapshot() {
		for _, q := range c.in.Paths {
			if q == p {
				out = append(out, c)
			}
		}
	}
	return out
}

func unavailable(msg string) error {
	return temporal.NewApplicationError(msg, string(contract.ErrUnavailable))
}

func authFailed(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, string(contract.ErrAuthFailed), nil)
}

func continueAsNewHub(t *testing.T, err error) (contract.HubWatchInput, *workflow.ContinueAsNewError) {
	t.Helper()
	return continueAsNewInput[contract.HubWatchInput](t, err)
}

// continueAsNewInput is the input of the next run err continues as.
func continueAsNewInput[T any](t *testing.T, err error) (T, *workflow.ContinueAsNewError) {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var in T
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatalf("decode continue-as-new input: %v", err)
	}
	return in, can
}

// timerRecorder is a metrics handler that keeps what timers record and
// gauges are set to, by name.
type timerRecorder struct {
	mu     *sync.Mutex
	timers map[string][]time.Duration
	gauges map[string][]float64
}

func newTimerRecorder() *timerRecorder {
	return &timerRecorder{mu: &sync.Mutex{}, timers: map[string][]time.Duration{}, gauges: map[string][]float64{}}
}

func (r *timerRecorder) WithTags(map[string]string) client.MetricsHandler { return r }
func (r *timerRecorder) Counter(string) client.MetricsCounter {
	return client.MetricsNopHandler.Counter("")
}
func (r *timerRecorder) Gauge(name string) client.MetricsGauge {
	return gaugeFunc(func(v float64) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.gauges[name] = append(r.gauges[name], v)
	})
}
func (r *timerRecorder) Timer(name string) client.MetricsTimer {
	return timerFunc(func(d time.Duration) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.timers[name] = append(r.timers[name], d)
	})
}

func (r *timerRecorder) recorded(name string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.timers[name])
}

func (r *timerRecorder) gauge(name string) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.gauges[name])
}

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
