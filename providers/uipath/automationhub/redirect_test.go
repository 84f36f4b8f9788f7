package automationhub_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rpaflow/rpaflow/providers/uipath/automationhub"
)

// The hub's token and app key never follow a redirect: net/http would
// forward the custom app-key header to any host.
func TestHubRefusesRedirect(t *testing.T) {
	var reached atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	c, err := automationhub.New(automationhub.Options{BaseURL: srv.URL, TenantID: "t-1", Token: "hub-token-1", AppKey: "hub-app-key-1", AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background())
	if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(other.URL, "http://")) {
		t.Errorf("validate through a redirect: %v, want an error naming %s", err, other.URL)
	}
	if reached.Load() != 0 {
		t.Error("the redirect's target was called")
	}
}
