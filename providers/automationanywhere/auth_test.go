package automationanywhere

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

var ctx = context.Background()

func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewValidates(t *testing.T) {
	cases := []struct {
		o     Options
		field string
	}{
		{Options{BaseURL: "cr.example.com", Username: "u", APIKey: "k"}, "url"},
		{Options{BaseURL: "http://cr.example.com", Username: "u", APIKey: "k"}, "url"},
		{Options{BaseURL: "https://admin:hunter2@cr.example.com", Username: "u", APIKey: "k"}, "url"},
		{Options{BaseURL: "https://cr.example.com", APIKey: "k"}, "username"},
		{Options{BaseURL: "https://cr.example.com", Username: "u"}, "apiKey/password"},
		{Options{BaseURL: "https://cr.example.com", Username: "u", APIKey: "k", Password: "p"}, "apiKey/password"},
	}
	for _, c := range cases {
		_, err := New(c.o)
		var ie *apierror.InvalidError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("New(%+v) = %v, want InvalidError on %q", c.o, err, c.field)
		}
		if err != nil && (strings.Contains(err.Error(), "\"k\"") || strings.Contains(err.Error(), "\"p\"") || strings.Contains(err.Error(), "hunter2")) {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
	if _, err := New(Options{BaseURL: "http://127.0.0.1:1", Username: "u", Password: "p", AllowHTTP: true}); err != nil {
		t.Errorf("http with AllowHTTP: %v", err)
	}
}

func TestDefaultExecutionHosts(t *testing.T) {
	cases := map[string][]string{
		"https://cr.example.com/": {"cr.example.com", "*.automationanywhere.digital"},
		// never the parent domain: every Azure VM of the region lives there
		"https://cr.westeurope.cloudapp.azure.com": {"cr.westeurope.cloudapp.azure.com", "*.automationanywhere.digital"},
		"https://Example.com:8443":                 {"example.com", "*.automationanywhere.digital"},
		"http://127.0.0.1:8080/control":            {"127.0.0.1", "*.automationanywhere.digital"},
	}
	for u, want := range cases {
		c, err := New(Options{BaseURL: u, Username: "u", APIKey: "k", AllowHTTP: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ExecutionHosts(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: hosts %v, want %v", u, got, want)
		}
	}
}

// Wildcards over a public suffix are refused when the client is built
// (at worker start), naming the pattern and the suffix.
func TestExecutionHostPatternsChecked(t *testing.T) {
	for pattern, ok := range map[string]bool{
		"*.com": false, "*.cloudapp.azure.com": false, "*.westeurope.cloudapp.azure.com": false, "*.co.uk": false, "*.github.io": false,
		"*.internal": false, "*.*.example.com": false, "a*.example.com": false, "*.127.0.0.1": false, "": false,
		"*.automationanywhere.digital": true, "*.my.automationanywhere.digital": true, "*.example.co.uk": true, "*.corp.internal": true,
		"*.vm1.westeurope.cloudapp.azure.com": true, "api.example.com": true, "com": true, // an exact host is only itself
	} {
		_, err := New(Options{BaseURL: "https://cr.example.com", Username: "u", APIKey: "k", ExecutionHosts: []string{pattern}})
		if (err == nil) != ok {
			t.Errorf("ExecutionHosts %q: %v, want accepted=%v", pattern, err, ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "executionHosts") || !strings.Contains(err.Error(), "EXECUTION_HOSTS")) {
			t.Errorf("ExecutionHosts %q: %v does not name the setting", pattern, err)
		}
	}
}

func TestLoginWithAPIKey(t *testing.T) {
	e := newEnv(t, nil, func(o *Options) { o.Now = e0 })
	tok := e.login(t)
	c := claims(t, tok.Value)
	if c["sub"] != "3" || c["iss"] != "AutomationAnywhere" {
		t.Fatalf("claims %v", c)
	}
	// exp − iat counted on the client's clock (which here is far from the simulator's).
	if iat, exp := c["iat"].(float64), c["exp"].(float64); exp-iat != 1200 {
		t.Fatalf("claims iat %v exp %v, want a 20-minute token", iat, exp)
	}
	if want := e0().Add(20 * time.Minute); !tok.Expiry.Equal(want) {
		t.Fatalf("Expiry %v, want the client clock + exp − iat %v", tok.Expiry, want)
	}
	if !tok.IssuedAt.Equal(e0()) {
		t.Fatalf("IssuedAt %v, want the client clock", tok.IssuedAt)
	}
	if e.requested("/v2/authentication") != 1 || e.requested("/v1/authentication") != 0 {
		t.Fatalf("paths %v", e.paths)
	}
	if n := e.sim.Counters().Get("login"); n != 1 {
		t.Fatalf("login counter %d", n)
	}
}

func e0() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func TestLoginWithPasswordSendsMultipleLogin(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) {
		o.Users = append(o.Users, aasim.User{ID: 9, Username: "jdoe", Password: "pw-secret", MultipleLogin: true})
	}, func(o *Options) { o.Username, o.APIKey, o.Password, o.MultipleLogin = "jdoe", "", "pw-secret", true })
	first := e.login(t)
	if c := claims(t, first.Value); c["multipleLogin"] != true || c["sub"] != "9" {
		t.Fatalf("claims %v: multipleLogin was not sent", c)
	}
	// Multi-session: a second login leaves the first token valid.
	e.login(t)
	if ok, err := e.c.Validate(ctx, first.Value); err != nil || !ok {
		t.Fatalf("first token after second login: %v %v", ok, err)
	}
}

func TestSingleSessionLoginRevokesOlderToken(t *testing.T) {
	e := newEnv(t, nil, nil)
	first := e.login(t)
	second := e.login(t)
	if ok, err := e.c.Validate(ctx, first.Value); err != nil || ok {
		t.Fatalf("first token: valid=%v err=%v, want revoked", ok, err)
	}
	if ok, err := e.c.Validate(ctx, second.Value); err != nil || !ok {
		t.Fatalf("second token: valid=%v err=%v", ok, err)
	}
	_, err := e.c.AccessDetails(ctx, first.Value, []string{aasim.ZipCodeTaskPath})
	apiErr(t, err, 401, "auth.token.invalid")
}

func TestWrongCredentials(t *testing.T) {
	e := newEnv(t, nil, func(o *Options) { o.APIKey = "wrong-key-wrong-key-wrong-key-wrong-key!" })
	_, err := e.c.Login(ctx)
	ae := apiErr(t, err, 401, "auth.credentials.invalid")
	if ae.Message == "" || strings.Contains(err.Error(), "wrong-key") {
		t.Fatalf("error %q: want the platform message and no key", err)
	}
	noSecrets(t, e.sim, err)
	if n := e.sim.Counters().Get("login.failed"); n != 1 {
		t.Fatalf("login.failed = %d", n)
	}
}

func TestV1FallbackIsRemembered(t *testing.T) {
	e := newEnv(t, func(o *aasim.Options) { o.DisableV2Auth = true }, nil)
	tok := e.login(t)
	e.login(t)
	if _, err := e.c.Refresh(ctx, e.login(t).Value); err != nil {
		t.Fatalf("Refresh on v1: %v", err)
	}
	if n := e.requested("/v2/authentication"); n != 1 {
		t.Fatalf("/v2/authentication asked %d times, want once", n)
	}
	if e.requested("/v1/authentication") != 3 || e.requested("/v2/authentication/token") != 0 || e.requested("/v1/authentication/token") != 1 {
		t.Fatalf("paths %v", e.paths)
	}
	if tok.Value == "" {
		t.Fatal("no token")
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t, nil, nil)
	old := e.login(t)
	e.clock.Advance(10 * time.Minute)
	fresh, err := e.c.Refresh(ctx, old.Value)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Value == old.Value || !fresh.Expiry.After(old.Expiry) {
		t.Fatalf("refresh did not issue a later token: %v vs %v", fresh.Expiry, old.Expiry)
	}
	if e.requested("/v2/authentication/token") != 1 {
		t.Fatalf("paths %v", e.paths)
	}
	// The old token stays valid until its own exp.
	if ok, _ := e.c.Validate(ctx, old.Value); !ok {
		t.Fatal("old token invalid right after refresh")
	}
	e.clock.Advance(11 * time.Minute) // old expired, fresh still valid
	if ok, _ := e.c.Validate(ctx, old.Value); ok {
		t.Fatal("old token valid after its exp")
	}
	_, err = e.c.Refresh(ctx, old.Value)
	apiErr(t, err, 401, "")
	noSecrets(t, e.sim, err)
	if n := e.sim.Counters().Get("refresh"); n != 2 {
		t.Fatalf("refresh counter %d", n)
	}
}

func TestValidateAndLogout(t *testing.T) {
	e := newEnv(t, nil, nil)
	tok := e.login(t)
	if ok, err := e.c.Validate(ctx, tok.Value); err != nil || !ok {
		t.Fatalf("Validate = %v %v", ok, err)
	}
	if ok, err := e.c.Validate(ctx, "not-a-token"); err != nil || ok {
		t.Fatalf("Validate(garbage) = %v %v", ok, err)
	}
	if err := e.c.Logout(ctx, tok.Value); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if ok, err := e.c.Validate(ctx, tok.Value); err != nil || ok {
		t.Fatalf("Validate after logout = %v %v", ok, err)
	}
	_, err := e.c.Deploy(ctx, tok.Value, DeployRequest{BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{3}})
	apiErr(t, err, 401, "")
	if n := e.sim.Counters().Get("http.401"); n < 1 {
		t.Fatalf("http.401 = %d", n)
	}
}

func TestRevokeAll(t *testing.T) {
	e := newEnv(t, nil, nil)
	tok := e.login(t)
	e.sim.RevokeAll()
	if ok, err := e.c.Validate(ctx, tok.Value); err != nil || ok {
		t.Fatalf("Validate after RevokeAll = %v %v", ok, err)
	}
}

func TestCodeInSuccessBodyIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":"generic.server.exception","details":{"why":"x"},"message":"An unexpected problem occurred"}`))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Username: "u", APIKey: "k", AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(ctx)
	ae := apiErr(t, err, 200, "generic.server.exception")
	if ae.Op != "login" || ae.Details != `{"why":"x"}` || ae.Message != "An unexpected problem occurred" {
		t.Fatalf("error %+v", ae)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.sim.Faults().Fail(1, 503)
	_, err := e.c.Login(ctx)
	apiErr(t, err, 503, "injected.failure")

	e.sim.Faults().Throttle(1, 3*time.Second)
	_, err = e.c.Login(ctx)
	if ae := apiErr(t, err, 429, ""); ae.RetryAfter != 3*time.Second {
		t.Fatalf("RetryAfter %v", ae.RetryAfter)
	}

	e.sim.Faults().Outage(time.Minute, false)
	_, err = e.c.Login(ctx)
	apiErr(t, err, 503, "")

	e.sim.Faults().Outage(time.Minute, true)
	_, err = e.c.Login(ctx)
	var te *apierror.TransportError
	if !errors.As(err, &te) || te.Op != "login" {
		t.Fatalf("outage with refused connections: %T %v", err, err)
	}
	e.sim.Faults().EndOutage()
	e.login(t)
}
