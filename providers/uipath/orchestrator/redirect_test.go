package orchestrator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/providers/simkit"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// A token endpoint that redirects elsewhere gets no client secret across:
// the login fails naming the other host.
func TestLoginRefusesRedirect(t *testing.T) {
	trap := simkit.NewRedirectTrap(http.StatusPermanentRedirect)
	defer trap.Close()
	c, err := orchestrator.New(orchestrator.Options{BaseURL: trap.URL, Organization: "o", Tenant: "t", ClientID: "id", ClientSecret: "orch-secret-1", AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Authenticate(context.Background())
	if err == nil || !strings.Contains(err.Error(), trap.OtherHost) || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("login through a redirect: %v, want an error naming %s", err, trap.OtherHost)
	}
	if trap.Reached() != 0 {
		t.Error("the redirect's target was called")
	}
}
