package automationhub_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub/hubsim"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

const cloudPrefix = "/rpaflow/DefaultTenant/automationhub_/api/v1/openapi"

func start(t *testing.T) (*hubsim.Server, *httptest.Server, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	o := hubsim.DefaultOptions()
	o.Clock = c.Now
	o.Tokens[0].Expires = c.Now().Add(30 * 24 * time.Hour)
	o.Tokens = append(o.Tokens, hubsim.Token{TenantID: "t-2", Token: "no-app-key-token", Active: true})
	sim := hubsim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv, c
}

func client(t *testing.T, srv *httptest.Server, prefix string, edit func(*automationhub.Options)) *automationhub.Client {
	t.Helper()
	o := automationhub.Options{BaseURL: srv.URL + prefix, TenantID: hubsim.DemoTenantID, Token: hubsim.DemoToken,
		AppKey: hubsim.DemoAppKey, AllowHTTP: true, HTTPClient: srv.Client()}
	if edit != nil {
		edit(&o)
	}
	c, err := automationhub.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func status401(t *testing.T, err error) *apierror.Error {
	t.Helper()
	var e *apierror.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Platform != automationhub.Platform {
		t.Fatalf("want a 401 *apierror.Error, got %T %v", err, err)
	}
	for _, secret := range []string{hubsim.DemoToken, hubsim.DemoAppKey} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error leaks a secret: %v", err)
		}
	}
	return e
}

func TestNewValidatesOptions(t *testing.T) {
	ok := automationhub.Options{BaseURL: "https://cloud.uipath.com/o/t/automationhub_/api/v1/openapi", TenantID: "tid", Token: "tok"}
	for _, tc := range []struct {
		edit  func(*automationhub.Options)
		field string
	}{
		{func(o *automationhub.Options) { o.BaseURL = "http://cloud.uipath.com/x" }, "url"},
		{func(o *automationhub.Options) { o.TenantID = "" }, "tenantId"},
		{func(o *automationhub.Options) { o.TenantID = "a/b" }, "tenantId"},
		{func(o *automationhub.Options) { o.Token = " " }, "token"},
	} {
		o := ok
		tc.edit(&o)
		_, err := automationhub.New(o)
		var ie *apierror.InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("want field %q, got %v", tc.field, err)
		}
	}
}

func TestValidate(t *testing.T) {
	sim, srv, _ := start(t)
	for _, prefix := range []string{cloudPrefix, "/api/v1/openapi", "/automationhub_/api/v1/openapi/"} {
		info, err := client(t, srv, prefix, nil).Validate(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", prefix, err)
		}
		if info.TenantID != hubsim.DemoTenantID || info.Raw["token_type"] != "tenant" || info.Raw["app_key_required"] != true {
			t.Fatalf("%s: info = %+v", prefix, info)
		}
	}
	if got := sim.Counters().Get("authinfo"); got != 3 {
		t.Fatalf("authinfo = %d", got)
	}
	// A token without an App Key needs no header.
	c := client(t, srv, cloudPrefix, func(o *automationhub.Options) { o.TenantID, o.Token, o.AppKey = "t-2", "no-app-key-token", "" })
	if _, err := c.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejections(t *testing.T) {
	sim, srv, clk := start(t)
	ctx := context.Background()

	_, err := client(t, srv, cloudPrefix, func(o *automationhub.Options) { o.AppKey = "wrong-key" }).Validate(ctx)
	status401(t, err)
	_, err = client(t, srv, cloudPrefix, func(o *automationhub.Options) { o.AppKey = "" }).Validate(ctx)
	if e := status401(t, err); !strings.Contains(e.Message, "App Key") {
		t.Fatalf("message = %q", e.Message)
	}
	_, err = client(t, srv, cloudPrefix, func(o *automationhub.Options) { o.TenantID = "other-tenant" }).Validate(ctx)
	status401(t, err)
	_, err = client(t, srv, cloudPrefix, func(o *automationhub.Options) { o.Token = "unknown" }).Validate(ctx)
	status401(t, err)

	c := client(t, srv, cloudPrefix, nil)
	sim.SetActive(hubsim.DemoToken, false)
	_, err = c.Validate(ctx)
	if e := status401(t, err); !strings.Contains(e.Message, "inactive") {
		t.Fatalf("message = %q", e.Message)
	}
	sim.SetActive(hubsim.DemoToken, true)
	if _, err := c.Validate(ctx); err != nil {
		t.Fatal(err)
	}

	// Expiry follows the simulator clock and SetExpiry.
	clk.Set(clk.Now().Add(31 * 24 * time.Hour))
	_, err = c.Validate(ctx)
	if e := status401(t, err); !strings.Contains(e.Message, "expired") {
		t.Fatalf("message = %q", e.Message)
	}
	sim.SetExpiry(hubsim.DemoToken, clk.Now().Add(time.Hour))
	if _, err := c.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sim.Counters().Get("http.401"); got != 6 {
		t.Fatalf("http.401 = %d", got)
	}
}

func TestWireHeaders(t *testing.T) {
	_, srv, _ := start(t)
	get := func(h map[string]string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+cloudPrefix+"/users?s=ben", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	full := map[string]string{"Authorization": "Bearer " + hubsim.DemoTenantID + "/" + hubsim.DemoToken,
		"x-ah-openapi-auth": "openapi-token", "x-ah-openapi-app-key": hubsim.DemoAppKey}
	code, body := get(full)
	if code != 200 || !strings.HasPrefix(body, `{"message":"Success","statusCode":200,"data":{`) ||
		!strings.Contains(body, `"user_email":"ben.builder@rpaflow.example"`) || !strings.Contains(body, `"totalItems":1`) {
		t.Fatalf("users: %d %s", code, body)
	}
	noMode := map[string]string{"Authorization": full["Authorization"], "x-ah-openapi-app-key": hubsim.DemoAppKey}
	if code, body = get(noMode); code != 401 || !strings.Contains(body, `"statusCode":401`) {
		t.Fatalf("missing x-ah-openapi-auth: %d %s", code, body)
	}
	tokenInMode := map[string]string{"Authorization": full["Authorization"], "x-ah-openapi-auth": hubsim.DemoToken, "x-ah-openapi-app-key": hubsim.DemoAppKey}
	if code, _ = get(tokenInMode); code != 401 {
		t.Fatalf("token in x-ah-openapi-auth: %d", code)
	}
}

func TestClientHeader(t *testing.T) {
	c, err := automationhub.New(automationhub.Options{BaseURL: "https://automation-hub.uipath.com/api/v1/openapi", TenantID: "tid", Token: "tok", AppKey: "key"})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Header()
	if h["Authorization"][0] != "Bearer tid/tok" || h["x-ah-openapi-auth"][0] != "openapi-token" || h["x-ah-openapi-app-key"][0] != "key" {
		t.Fatalf("header = %v", h)
	}
}

var hubErrorBodies = []struct{ body, message, details string }{
	{`{"message":"Unauthorized","statusCode":401}`, "Unauthorized", ""},
	{`{"Message":"Please fill in all the required information","StatusCode":400,"errorDetails":{"process_name": "required"}}`,
		"Please fill in all the required information", `{"process_name":"required"}`},
	{`{"message":"x","errorDetails":{}}`, "x", ""},
	{`{"error":"Not Found"}`, "Not Found", ""},
	{`not json`, "", ""},
}

func TestParseError(t *testing.T) {
	for _, tc := range hubErrorBodies {
		code, msg, details := automationhub.ParseError([]byte(tc.body))
		if code != "" || msg != tc.message || details != tc.details {
			t.Errorf("%s: got (%q, %q, %q)", tc.body, code, msg, details)
		}
	}
}

func FuzzParseError(f *testing.F) {
	for _, tc := range hubErrorBodies {
		f.Add([]byte(tc.body))
	}
	f.Add([]byte(`{"MESSAGE":"a","message":"b","errordetails":[1]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c1, m1, d1 := automationhub.ParseError(body)
		c2, m2, d2 := automationhub.ParseError(body)
		if c1 != c2 || m1 != m2 || d1 != d2 {
			t.Fatalf("not deterministic for %q", body)
		}
	})
}
