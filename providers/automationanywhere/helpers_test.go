package automationanywhere

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

func newClock() *simkit.ManualClock {
	return simkit.NewManualClock(time.Now().UTC().Truncate(time.Second))
}

type env struct {
	sim   *aasim.Server
	srv   *httptest.Server
	c     *Client
	clock *simkit.ManualClock

	mu    sync.Mutex
	paths []string // every request path, in order
}

// newEnv runs the simulator behind httptest (loopback) and a client logging in
// as the demo user. mod may change either side's options.
func newEnv(t *testing.T, modSim func(*aasim.Options), modClient func(*Options)) *env {
	t.Helper()
	e := &env{clock: newClock()}
	so := aasim.DefaultOptions()
	so.Clock = e.clock.Now
	if modSim != nil {
		modSim(&so)
	}
	e.sim = aasim.New(so)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.Path)
		e.mu.Unlock()
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	co := Options{BaseURL: e.srv.URL, Username: aasim.DemoUsername, APIKey: aasim.DemoAPIKey, AllowHTTP: true}
	if modClient != nil {
		modClient(&co)
	}
	c, err := New(co)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.c = c
	return e
}

func (e *env) requested(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, p := range e.paths {
		if p == path {
			n++
		}
	}
	return n
}

func (e *env) login(t *testing.T) Token {
	t.Helper()
	tok, err := e.c.Login(context.Background())
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return tok
}

// apiErr asserts err is an *apierror.Error with status (and code, if given).
func apiErr(t *testing.T, err error, status int, code string) *apierror.Error {
	t.Helper()
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		t.Fatalf("got %T %v, want *apierror.Error %d", err, err, status)
	}
	if ae.Status != status || (code != "" && ae.Code != code) {
		t.Fatalf("got status %d code %q (%v), want %d %q", ae.Status, ae.Code, err, status, code)
	}
	if ae.Platform != Platform {
		t.Fatalf("platform = %q", ae.Platform)
	}
	return ae
}

// noSecrets fails when err's text contains any secret the simulator knows.
func noSecrets(t *testing.T, sim *aasim.Server, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range sim.IssuedSecrets() {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error %q leaks a secret", err)
		}
	}
}
