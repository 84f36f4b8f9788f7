package orchestrator_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

func newClock() *simkit.ManualClock {
	return simkit.NewManualClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
}

type env struct {
	sim   *orchsim.Server
	srv   *httptest.Server
	clock *simkit.ManualClock
}

// newEnv starts the simulator (demo options, changed by edit) on loopback.
func newEnv(t *testing.T, edit func(*orchsim.Options)) *env {
	t.Helper()
	c := newClock()
	o := orchsim.DefaultOptions()
	o.Clock = c.Now
	if edit != nil {
		edit(&o)
	}
	sim := orchsim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &env{sim: sim, srv: srv, clock: c}
}

// cloudOptions are demo client-credential options for the cloud URL shape.
func (e *env) cloudOptions() orchestrator.Options {
	return orchestrator.Options{BaseURL: e.srv.URL, Organization: "rpaflow", Tenant: "DefaultTenant",
		ClientID: orchsim.DemoClientID, ClientSecret: orchsim.DemoClientSecret,
		Scopes:    []string{"OR.Folders.Read", "OR.Execution.Read", "OR.Jobs", "OR.Queues"},
		AllowHTTP: true, HTTPClient: e.srv.Client(), Now: e.clock.Now}
}

func (e *env) client(t *testing.T, edit func(*orchestrator.Options)) *orchestrator.Client {
	t.Helper()
	o := e.cloudOptions()
	if edit != nil {
		edit(&o)
	}
	c, err := orchestrator.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// login returns a client and a fresh token.
func (e *env) login(t *testing.T, edit func(*orchestrator.Options)) (*orchestrator.Client, string) {
	t.Helper()
	c := e.client(t, edit)
	tok, err := c.Authenticate(context.Background())
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return c, tok.Value
}

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// raw sends a request as-is, for wire details the client does not expose.
func (e *env) raw(t *testing.T, method, path string, header map[string]string, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(bytes.TrimSpace(b))}
}

func asAPIError(t *testing.T, err error) *apierror.Error {
	t.Helper()
	var e *apierror.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *apierror.Error, got %T: %v", err, err)
	}
	return e
}

func asInvalid(t *testing.T, err error) *apierror.InvalidError {
	t.Helper()
	var e *apierror.InvalidError
	if !errors.As(err, &e) {
		t.Fatalf("want *apierror.InvalidError, got %T: %v", err, err)
	}
	return e
}

// noSecrets fails when an error text contains any credential the simulator knows.
func noSecrets(t *testing.T, sim *orchsim.Server, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range sim.IssuedSecrets() {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error text leaks a secret: %v", err)
		}
	}
}
