package orchestrator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// A token endpoint that redirects elsewhere gets no client secret across:
// the login fails naming the other host.
func TestLoginRefusesRedirect(t *testing.T) {
	var reached atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusPermanentRedirect)
	}))
	defer srv.Close()
	c, err := orchestrator.New(orchestrator.Options{BaseURL: srv.URL, Organization: "o", Tenant: "t", ClientID: "id", ClientSecret: "orch-secret-1", AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Authenticate(context.Background())
	if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(other.URL, "http://")) || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("login through a redirect: %v, want an error naming %s", err, other.URL)
	}
	if reached.Load() != 0 {
		t.Error("the redirect's target was called")
	}
}
