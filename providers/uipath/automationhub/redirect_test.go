package automationhub_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/providers/simkit"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub"
)

// The hub's token and app key never follow a redirect: net/http would
// forward the custom app-key header to any host.
func TestHubRefusesRedirect(t *testing.T) {
	trap := simkit.NewRedirectTrap(http.StatusFound)
	defer trap.Close()
	c, err := automationhub.New(automationhub.Options{BaseURL: trap.URL, TenantID: "t-1", Token: "hub-token-1", AppKey: "hub-app-key-1", AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background())
	if err == nil || !strings.Contains(err.Error(), trap.OtherHost) {
		t.Errorf("validate through a redirect: %v, want an error naming %s", err, trap.OtherHost)
	}
	if trap.Reached() != 0 {
		t.Error("the redirect's target was called")
	}
}
