package orchestrator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/internal/jwt"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

func TestNewValidatesOptions(t *testing.T) {
	ok := orchestrator.Options{BaseURL: "https://cloud.uipath.com", Organization: "o", Tenant: "t", ClientID: "id", ClientSecret: "s3cr3t-value"}
	cases := []struct {
		name  string
		edit  func(*orchestrator.Options)
		field string
	}{
		{"not a URL", func(o *orchestrator.Options) { o.BaseURL = "cloud.uipath.com" }, "url"},
		{"plain http", func(o *orchestrator.Options) { o.BaseURL = "http://orch.example.com" }, "url"},
		{"org without tenant", func(o *orchestrator.Options) { o.Tenant = "" }, "tenant"},
		{"tenant without org", func(o *orchestrator.Options) { o.Organization = "" }, "organization"},
		{"client id without secret", func(o *orchestrator.Options) { o.ClientSecret = "" }, "clientSecret"},
		{"secret without client id", func(o *orchestrator.Options) { o.ClientID = "" }, "clientId"},
		{"no credentials", func(o *orchestrator.Options) { o.ClientID, o.ClientSecret = "", "" }, "username"},
		{"username without password", func(o *orchestrator.Options) { o.ClientID, o.ClientSecret, o.Username = "", "", "u" }, "password"},
		{"bad token URL", func(o *orchestrator.Options) { o.TokenURL = "http://id.example.com/token" }, "tokenUrl"},
		{"scope with a space", func(o *orchestrator.Options) { o.Scopes = []string{"OR.Jobs OR.Queues"} }, "scopes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			_, err := orchestrator.New(o)
			if got := asInvalid(t, err).Field; got != tc.field {
				t.Fatalf("field = %q, want %q (%v)", got, tc.field, err)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
	if _, err := orchestrator.New(ok); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
}

func TestURLShapes(t *testing.T) {
	cloud, err := orchestrator.New(orchestrator.Options{BaseURL: "https://cloud.uipath.com/", Organization: "acme", Tenant: "Prod", ClientID: "a", ClientSecret: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cloud.OrchestratorURL(), "https://cloud.uipath.com/acme/Prod/orchestrator_"; got != want {
		t.Errorf("cloud orchestrator URL = %q, want %q", got, want)
	}
	if got, want := cloud.TokenURL(), "https://cloud.uipath.com/acme/identity_/connect/token"; got != want {
		t.Errorf("cloud token URL = %q, want %q", got, want)
	}
	standalone, err := orchestrator.New(orchestrator.Options{BaseURL: "https://orch.example.com", Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := standalone.OrchestratorURL(), "https://orch.example.com"; got != want {
		t.Errorf("standalone orchestrator URL = %q, want %q", got, want)
	}
	if got, want := standalone.TokenURL(), "https://orch.example.com/identity/connect/token"; got != want {
		t.Errorf("standalone token URL = %q, want %q", got, want)
	}
}

func TestClientCredentialsCloud(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, nil)
	tok, err := c.Authenticate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(time.Hour); !tok.Expiry.Equal(want) {
		t.Errorf("expiry = %v, want %v (expires_in 3600)", tok.Expiry, want)
	}
	if !slices.Equal(tok.Scopes, []string{"OR.Folders.Read", "OR.Execution.Read", "OR.Jobs", "OR.Queues"}) {
		t.Errorf("scopes = %v", tok.Scopes)
	}
	if got := e.sim.Counters().Get("token"); got != 1 {
		t.Errorf("token counter = %d, want 1", got)
	}
	// The token works against the cloud-shaped Orchestrator path.
	if _, err := c.Folder(context.Background(), tok.Value, "Shared"); err != nil {
		t.Fatal(err)
	}
}

func TestClientCredentialsStandaloneAndTokenURLOverride(t *testing.T) {
	e := newEnv(t, nil)
	standalone := func(o *orchestrator.Options) { o.Organization, o.Tenant = "", "" }
	c, tok := e.login(t, standalone)
	if f, err := c.Folder(context.Background(), tok, "Finance/Invoices"); err != nil || f.ID != 2 {
		t.Fatalf("standalone folder = %+v, %v", f, err)
	}
	// The org-less cloud identity path, reached through the override.
	_, _ = e.login(t, func(o *orchestrator.Options) { o.TokenURL = e.srv.URL + "/identity_/connect/token" })
	if got := e.sim.Counters().Get("token"); got != 2 {
		t.Fatalf("token counter = %d, want 2", got)
	}
	// An override pointing nowhere proves the override is used.
	c = e.client(t, func(o *orchestrator.Options) { o.TokenURL = e.srv.URL + "/nowhere/connect/token" })
	_, err := c.Authenticate(context.Background())
	if got := asAPIError(t, err).Status; got != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", got)
	}
}

func TestClientCredentialsExpiryFallbacks(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	// Identity's clock runs 3 minutes ahead: only exp − iat may be used.
	iat := now.Add(3 * time.Minute)
	withIat := jwt.Mint(map[string]any{"iat": iat.Unix(), "exp": iat.Add(17 * time.Minute).Unix()})
	expOnly := jwt.Mint(map[string]any{"exp": now.Add(17 * time.Minute).Unix()})
	for _, tc := range []struct {
		name, token, extra string
		want               time.Time
	}{
		{"JWT exp − iat when expires_in is absent", withIat, "", now.Add(17 * time.Minute)},
		{"JWT exp − iat before expires_in", withIat, `,"expires_in":3600`, now.Add(17 * time.Minute)},
		{"expires_in when the JWT has no iat", expOnly, `,"expires_in":"600"`, now.Add(10 * time.Minute)},
		{"60 minutes for an exp alone", expOnly, "", now.Add(time.Hour)},
		{"60 minutes for an opaque token", "opaque-token", "", now.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"access_token":"` + tc.token + `","token_type":"Bearer"` + tc.extra + `}`))
			}))
			defer srv.Close()
			c, err := orchestrator.New(orchestrator.Options{BaseURL: srv.URL, ClientID: "a", ClientSecret: "b",
				AllowHTTP: true, HTTPClient: srv.Client(), Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.Authenticate(context.Background())
			if err != nil || !tok.Expiry.Equal(tc.want) {
				t.Fatalf("expiry = %v, %v; want %v", tok.Expiry, err, tc.want)
			}
		})
	}
}

func TestInvalidScope(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) {
		o.Apps = append(o.Apps, orchsim.App{ClientID: "all", ClientSecret: "all-secret", Scopes: []string{"OR.Jobs", "OR.Jobs.Read", "OR.Jobs.Write"}})
	})
	for _, tc := range []struct {
		name   string
		id     string
		secret string
		scopes []string
	}{
		{"not granted", orchsim.DemoClientID, orchsim.DemoClientSecret, []string{"OR.Assets"}},
		{"offline_access", orchsim.DemoClientID, orchsim.DemoClientSecret, []string{"OR.Jobs", "offline_access"}},
		{"scope with read and write", "all", "all-secret", []string{"OR.Jobs", "OR.Jobs.Read", "OR.Jobs.Write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t, func(o *orchestrator.Options) { o.ClientID, o.ClientSecret, o.Scopes = tc.id, tc.secret, tc.scopes })
			_, err := c.Authenticate(context.Background())
			ae := asAPIError(t, err)
			if ae.Status != http.StatusBadRequest || ae.Code != "invalid_scope" || ae.Op != "token" {
				t.Fatalf("got %+v", ae)
			}
			noSecrets(t, e.sim, err)
		})
	}
}

func TestInvalidClient(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, func(o *orchestrator.Options) { o.ClientSecret = "wrong-secret-value" })
	_, err := c.Authenticate(context.Background())
	ae := asAPIError(t, err)
	if ae.Status != http.StatusBadRequest || ae.Code != "invalid_client" {
		t.Fatalf("got %+v", ae)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("error leaks the secret: %v", err)
	}
	if got := e.sim.Counters().Get("token.failed"); got != 1 {
		t.Fatalf("token.failed = %d, want 1", got)
	}
}

func TestTokenEndpointWire(t *testing.T) {
	e := newEnv(t, nil)
	// JSON is refused: only form encoding works.
	r := e.raw(t, "POST", "/identity_/connect/token", map[string]string{"Content-Type": "application/json"},
		`{"grant_type":"client_credentials","client_id":"`+orchsim.DemoClientID+`","client_secret":"`+orchsim.DemoClientSecret+`"}`)
	if r.status != 400 || !strings.Contains(r.body, `"error":"invalid_request"`) {
		t.Fatalf("JSON token request: %d %s", r.status, r.body)
	}
	// Unknown and empty fields (as uipathcli sends) are ignored; all three identity paths answer.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {orchsim.DemoClientID},
		"client_secret": {orchsim.DemoClientSecret}, "scope": {"OR.Jobs"}, "code": {""}, "code_verifier": {""},
		"redirect_uri": {""}, "refresh_token": {""}}
	for _, path := range []string{"/identity_/connect/token", "/rpaflow/identity_/connect/token", "/identity/connect/token"} {
		r = e.raw(t, "POST", path, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
		if r.status != 200 || !strings.Contains(r.body, `"expires_in":3600,"token_type":"Bearer","scope":"OR.Jobs"}`) ||
			!strings.HasPrefix(r.body, `{"access_token":"`) {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	r = e.raw(t, "POST", "/otherorg/identity_/connect/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if r.status != 404 {
		t.Fatalf("unknown org token path: %d", r.status)
	}
}

func TestROPC(t *testing.T) {
	e := newEnv(t, nil)
	ropc := func(o *orchestrator.Options) {
		o.Organization, o.Tenant, o.ClientID, o.ClientSecret = "", "", "", ""
		o.Username, o.Password, o.TenancyName = orchsim.DemoUsername, orchsim.DemoPassword, orchsim.DemoTenancyName
	}
	c, tok := e.login(t, ropc)
	claims, err := jwt.Parse(tok)
	if err != nil || !claims.ExpiresAt.Equal(e.clock.Now().Add(30*time.Minute)) {
		t.Fatalf("ROPC token exp = %v, %v; want 30 min", claims.ExpiresAt, err)
	}
	// User tokens carry the user's rights: no scope check.
	if _, err := c.Folder(context.Background(), tok, "Shared"); err != nil {
		t.Fatal(err)
	}
	if got := e.sim.Counters().Get("ropc"); got != 1 {
		t.Fatalf("ropc = %d", got)
	}

	// Wrong password: 400 errorCode 1000.
	c = e.client(t, func(o *orchestrator.Options) { ropc(o); o.Password = "not-the-password" })
	_, err = c.Authenticate(context.Background())
	ae := asAPIError(t, err)
	if ae.Status != 400 || ae.Code != "1000" || ae.Message != "Invalid credentials, failed to login." {
		t.Fatalf("got %+v", ae)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Fatal("error leaks the password")
	}
}

func TestROPCWire(t *testing.T) {
	e := newEnv(t, nil)
	bodies := []string{
		`{"TenancyName":"Default","UsernameOrEmailAddress":"admin","Password":"` + orchsim.DemoPassword + `"}`,
		`{"tenancyName":"Default","usernameOrEmailAddress":"admin","password":"` + orchsim.DemoPassword + `"}`,
		`{"TENANCYNAME":"default","usernameoremailaddress":"ADMIN","PassWord":"` + orchsim.DemoPassword + `"}`,
	}
	for _, path := range []string{"/api/Account/Authenticate", "/api/account/authenticate", "/rpaflow/DefaultTenant/orchestrator_/api/Account/Authenticate"} {
		for _, b := range bodies {
			r := e.raw(t, "POST", path, map[string]string{"Content-Type": "application/json"}, b)
			if r.status != 200 || !strings.HasPrefix(r.body, `{"result":"`) ||
				!strings.HasSuffix(r.body, `","targetUrl":null,"success":true,"error":null,"unAuthorizedRequest":false,"__abp":true}`) {
				t.Fatalf("%s %s: %d %s", path, b, r.status, r.body)
			}
		}
	}
	r := e.raw(t, "POST", "/api/Account/Authenticate", map[string]string{"Content-Type": "application/json"},
		`{"tenancyName":"Default","usernameOrEmailAddress":"admin","password":"nope"}`)
	if r.status != 400 || !strings.HasPrefix(r.body, `{"message":"Invalid credentials, failed to login.","errorCode":1000,"traceId":"`) ||
		!strings.HasSuffix(r.body, `","resourceIds":null}`) || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("bad login: %d %s %v", r.status, r.body, r.header)
	}
}

func TestROPCCloudPath(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) {
		o.Users = []orchsim.User{{TenancyName: "DefaultTenant", Username: "ops", Password: "ops-password"}}
	})
	_, tok := e.login(t, func(o *orchestrator.Options) {
		o.ClientID, o.ClientSecret = "", ""
		o.Username, o.Password = "ops", "ops-password"
	})
	if tok == "" {
		t.Fatal("no token")
	}
	if got := e.sim.Counters().Get("ropc"); got != 1 {
		t.Fatalf("ropc = %d", got)
	}
}
