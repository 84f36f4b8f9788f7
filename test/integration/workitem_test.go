package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/starter/cli"
)

// The starter's add-work-item: a processed item, a failed one (RunFailed
// with the bot's error) and a mistyped queue (NotFound naming near names).
func TestStarterAddWorkItem(t *testing.T) {
	s := newStack(t, stackOptions{})
	code, stdout, stderr := s.starter(t, "add-work-item", "--profile", "cr", "--wait", "--json",
		"--input", `{"queue":"Invoices","data":{"invoice":"INV-7","amount":70},"wait":true,"timeout":"5m"}`)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var o cli.Output
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if !strings.Contains(string(o.Result), `"status":"COMPLETED"`) || !strings.Contains(string(o.Result), "booked INV-7") {
		t.Errorf("result %s", o.Result)
	}
	code, stdout, stderr = s.starter(t, "add-work-item", "--profile", "cr", "--wait",
		"--input", `{"queue":"Invoices","data":{"invoice":"INV-8","amount":-1},"wait":true}`)
	if code != cli.ExitFailed || !strings.Contains(stderr, "RunFailed") || !strings.Contains(stderr, "amount must be positive") {
		t.Errorf("failed item: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = s.starter(t, "add-work-item", "--profile", "cr", "--wait",
		"--input", `{"queue":"invoices","data":{"invoice":"INV-9"}}`)
	if code != cli.ExitFailed || !strings.Contains(stderr, "NotFound") || !strings.Contains(stderr, "Invoices, Invoices Backlog, Invoices-EU") {
		t.Errorf("mistyped queue: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := s.Sims.AA.Counters().Get("wlm.add"); n != 2 {
		t.Errorf("%d work items added, want 2", n)
	}
}
