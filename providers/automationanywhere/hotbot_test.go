package automationanywhere

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/internal/jwt"
)

func zip(code string) map[string]botvalue.Value {
	return map[string]botvalue.Value{"iStrZipCode": botvalue.Str(code)}
}

func (e *env) detail(t *testing.T, path string) AccessDetail {
	t.Helper()
	ad, err := e.c.AccessDetails(ctx, e.login(t).Value, []string{path})
	if err != nil {
		t.Fatalf("AccessDetails: %v", err)
	}
	d, ok := ad.Details[path]
	if !ok {
		t.Fatalf("no details for %q: %v", path, ad.Errors)
	}
	return d
}

func TestAccessDetailsAndExecute(t *testing.T) {
	e := newEnv(t, nil, nil)
	tok := e.login(t)
	ad, err := e.c.AccessDetails(ctx, tok.Value, []string{aasim.ZipCodeTaskPath, `Automation Anywhere\Bots\Nope`})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := ad.Details[aasim.ZipCodeTaskPath]
	if !ok || !strings.HasSuffix(d.URL, "/hotbot/2689/execute") || d.Headers["X-Authorization"] == "" {
		t.Fatalf("details %+v", ad.Details)
	}
	if c := claims(t, d.Headers["X-Authorization"]); c["botId"] != 2689.0 {
		t.Fatalf("task token claims %v", c)
	}
	if msg := ad.Errors[`Automation Anywhere\Bots\Nope`]; !strings.Contains(msg, `"code":"hotbot.allocation.not.found"`) {
		t.Fatalf("errors %v", ad.Errors)
	}
	for code, want := range map[string][2]string{"95134": {"California", "San Jose"}, "10001": {"New York", "New York"}, "00000": {"Unknown", ""}} {
		out, err := e.c.Execute(ctx, d, zip(code))
		if err != nil {
			t.Fatalf("Execute(%s): %v", code, err)
		}
		if out["State"].String != want[0] || out["City"].String != want[1] {
			t.Fatalf("Execute(%s) = %+v", code, out)
		}
	}
	if n := e.sim.Counters().Get("execute"); n != 3 {
		t.Fatalf("execute counter %d", n)
	}
}

func TestAccessDetailsPathNotReturned(t *testing.T) {
	e := newEnv(t, nil, nil)
	_, err := e.c.AccessDetails(ctx, "t", nil)
	var ie *apierror.InvalidError
	if !errors.As(err, &ie) || ie.Field != "botRepositoryPath" {
		t.Fatalf("empty paths: %v", err)
	}
}

func TestExecuteUnknownInput(t *testing.T) {
	e := newEnv(t, nil, nil)
	_, err := e.c.Execute(ctx, e.detail(t, aasim.ZipCodeTaskPath), map[string]botvalue.Value{"zip": botvalue.Str("95134")})
	ae := apiErr(t, err, 400, "hotbot.input.unknown")
	if !strings.Contains(ae.Message, `"zip"`) {
		t.Fatalf("message %q", ae.Message)
	}
}

func TestExecuteStaleTaskToken(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) { o.TaskTokenLifetime = 5 * time.Minute }, nil)
	d := e.detail(t, aasim.ZipCodeTaskPath)
	e.clock.Advance(6 * time.Minute)
	_, err := e.c.Execute(ctx, d, zip("95134"))
	apiErr(t, err, 401, "")
	noSecrets(t, e.sim, err)
}

func TestExecuteConcurrencyLimit(t *testing.T) {
	started, gate := make(chan struct{}, 4), make(chan struct{}, 4)
	e := newEnv(t, func(o *aasim.Options) {
		o.APITasks = append(o.APITasks, aasim.APITask{FileID: 7, Path: "slow", ConcurrencyLimit: 1,
			Run: func(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
				started <- struct{}{}
				<-gate
				return map[string]botvalue.Value{"done": botvalue.Str("yes")}, nil
			}})
	}, nil)
	d := e.detail(t, "slow")
	var wg sync.WaitGroup
	var firstErr error
	wg.Go(func() { _, firstErr = e.c.Execute(ctx, d, nil) })
	<-started
	_, err := e.c.Execute(ctx, d, nil)
	ae := apiErr(t, err, 429, "hotbot.concurrency.limit")
	if ae.Message != "concurrency limit reached" || ae.RetryAfter != time.Second {
		t.Fatalf("429 %+v", ae)
	}
	gate <- struct{}{}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("first execution: %v", firstErr)
	}
	if e.sim.Counters().Get("execute.rejected") != 1 {
		t.Fatal("execute.rejected not counted")
	}
	// The slot is free again.
	gate <- struct{}{}
	if _, err := e.c.Execute(ctx, d, nil); err != nil {
		t.Fatalf("after the slot freed: %v", err)
	}
}

func TestExecuteTimeoutAfterSend(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) { o.APITasks[0].Latency = 2 * time.Second },
		func(o *Options) { o.ExecuteTimeout = 100 * time.Millisecond })
	_, err := e.c.Execute(ctx, e.detail(t, aasim.ZipCodeTaskPath), zip("95134"))
	var te *apierror.TransportError
	if !errors.As(err, &te) || !te.Sent || te.Op != "execute" {
		t.Fatalf("got %T %v, want TransportError sent", err, err)
	}
	noSecrets(t, e.sim, err)
}

func TestExecutionHostNotAllowed(t *testing.T) {
	e := newEnv(t, nil, func(o *Options) { o.ExecutionHosts = []string{"*.automationanywhere.digital"} })
	_, err := e.c.Execute(ctx, e.detail(t, aasim.ZipCodeTaskPath), zip("95134"))
	var ie *apierror.InvalidError
	if !errors.As(err, &ie) || ie.Field != "executionUrl" {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{`"127.0.0.1"`, "*.automationanywhere.digital", "RPAFLOW_<PROFILE>_EXECUTION_HOSTS"} {
		if !strings.Contains(ie.Message, want) {
			t.Fatalf("message %q lacks %q", ie.Message, want)
		}
	}
	noSecrets(t, e.sim, err)
	if n := e.sim.Counters().Get("execute"); n != 0 {
		t.Fatalf("the task token reached the execution URL %d times", n)
	}
}

func TestCheckExecutionURL(t *testing.T) {
	c, err := New(Options{BaseURL: "https://cr.example.com", Username: "u", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	ok := []string{
		"https://hotbot-2689-knative-0a66.prod-ause1-ee.my.automationanywhere.digital/execute",
		"https://cr.example.com/hotbot/1/execute",
		"https://cr.example.com:8443/execute",
	}
	for _, u := range ok {
		if err := c.CheckExecutionURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	bad := map[string]string{
		"http://hotbot.my.automationanywhere.digital/execute":    "plain http",
		"https://evil.example.org/execute":                       `"evil.example.org"`,
		"https://runner.example.com/execute":                     `"runner.example.com"`, // a neighbour of the Control Room is not the Control Room
		"https://automationanywhere.digital.evil.org/execute":    "not an allowed",
		"https://user:pw@hotbot.automationanywhere.digital/exec": "user information",
		"/relative": "not an absolute",
	}
	for u, want := range bad {
		err := c.CheckExecutionURL(u)
		var ie *apierror.InvalidError
		if !errors.As(err, &ie) || ie.Field != "executionUrl" || !strings.Contains(ie.Message, want) {
			t.Errorf("%s: %v, want executionUrl error containing %q", u, err, want)
		}
	}
}

// The task token's lifetime is read from the token (exp − iat), so a
// Control Room clock hours off ours does not change it.
func TestAccessDetailLifetimeFromTaskToken(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) { o.TaskTokenLifetime = 30 * time.Second }, nil)
	e.clock.Advance(5 * time.Hour)
	if d := e.detail(t, aasim.ZipCodeTaskPath); d.Lifetime != 30*time.Second {
		t.Fatalf("Lifetime = %s, want the task token's 30s", d.Lifetime)
	}
	for _, h := range []map[string]string{
		{"X-Authorization": "opaque"},
		{"Authorization": "Bearer " + mintTest(0, 0)},
	} {
		if got := taskTokenLifetime(h); got != 0 {
			t.Errorf("taskTokenLifetime(%v) = %s, want 0 (unknown)", h, got)
		}
	}
	if got := taskTokenLifetime(map[string]string{"Authorization": "Bearer " + mintTest(100, 160), "X-Other": mintTest(100, 400)}); got != time.Minute {
		t.Errorf("taskTokenLifetime = %s, want the shortest stated lifetime 1m0s", got)
	}
}

// mintTest is a JWT with the given iat and exp (0: absent).
func mintTest(iat, exp int64) string {
	c := map[string]any{"sub": "1"}
	if iat != 0 {
		c["iat"] = iat
	}
	if exp != 0 {
		c["exp"] = exp
	}
	return jwt.Mint(c)
}
