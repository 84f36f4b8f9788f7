package caller

import (
	"os/exec"
	"strings"
	"testing"
)

// A caller's workflows need rpaflow's contract and the Temporal SDK only:
// no provider, activity or HTTP client code of rpaflow's.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/rpaflow/rpaflow/") && !strings.HasPrefix(pkg, "github.com/rpaflow/rpaflow/contract") &&
			pkg != "github.com/rpaflow/rpaflow/test/integration/caller" {
			t.Errorf("the caller depends on %s; callers import only package contract", pkg)
		}
	}
}
