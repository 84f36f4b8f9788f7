package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// The starter asks sessions through package session: it carries no
// platform client and no activity code.
func TestStarterImportsNoPlatformClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "..").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/rpaflow/rpaflow/providers/") || pkg == "github.com/rpaflow/rpaflow/activities" {
			t.Errorf("the starter depends on %s; it reaches sessions through package session", pkg)
		}
	}
}
