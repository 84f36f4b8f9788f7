package contract

import (
	"strings"
	"testing"
)

func TestStartKeyFitsEachPlatformField(t *testing.T) {
	long := strings.Repeat("order-é'\"/x", 100)
	for _, k := range []StartKey{
		{WorkflowID: "invoices-7", RunID: "r1", ActivityID: "5"},
		{WorkflowID: long, RunID: "0196a1b2-run", ActivityID: "12"},
		{},
	} {
		ref := k.Reference()
		if len(ref) > MaxReference || !strings.HasPrefix(ref, "rpaflow:") || !strings.HasSuffix(ref, ":"+k.Hash()) {
			t.Errorf("Reference() = %q (%d bytes)", ref, len(ref))
		}
		for _, name := range []string{"", "Nightly invoices", strings.Repeat("ü", 90)} {
			n := k.AutomationName(name)
			if len(n) > MaxAutomationName || !k.NamedBy(n) || !strings.HasPrefix(n, strings.TrimSpace(name)[:min(len(name), 10)]) {
				t.Errorf("AutomationName(%q) = %q (%d bytes), named by key %v", name, n, len(n), k.NamedBy(n))
			}
			if strings.ContainsAny(strings.TrimPrefix(n, name), " :/'\"") {
				t.Errorf("AutomationName(%q) = %q adds characters outside [A-Za-z0-9._-]", name, n)
			}
		}
	}
	a := StartKey{WorkflowID: "w", RunID: "r", ActivityID: "5"}
	if a.Reference() != a.Reference() || a.Hash() == (StartKey{WorkflowID: "w", RunID: "r2", ActivityID: "5"}).Hash() ||
		a.Hash() == (StartKey{WorkflowID: "w", RunID: "r", ActivityID: "6"}).Hash() {
		t.Error("keys of the same activity differ, or keys of different activities collide")
	}
	if got := a.Reference(); got != "rpaflow:w:"+a.Hash() {
		t.Errorf("Reference() = %q", got)
	}
	if (StartKey{WorkflowID: "w", RunID: "r", ActivityID: "6"}).NamedBy(a.AutomationName("x")) {
		t.Error("another activity's key matched the name")
	}
}
