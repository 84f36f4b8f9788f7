package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/contract"
)

// webhook ensure refuses bad input before it connects, naming the flag's
// field; good input starts EnsureWebhook under the profile's ID and prints
// what the worker did.
func TestWebhookEnsure(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "https://x.example/events/uipath/orch"}, "--profile and --url are required"},
		{[]string{"--profile", "orch", "--url", "http://rpa-events.example.com/events/uipath/orch"}, "url: \"http://rpa-events.example.com/events/uipath/orch\" is http"},
		{[]string{"--profile", "orch", "--url", "https://rpa-events.example.com/events/uipath/cr"}, "url: path \"/events/uipath/cr\" does not end with /events/uipath/orch"},
		{[]string{"--profile", "orch", "--url", "https://u:p@rpa-events.example.com/events/uipath/orch"}, "url: holds a user name or password"},
		{[]string{"--profile", "orch", "--url", "https://rpa-events.example.com/events/uipath/orch?x=1"}, "url: has a query"},
		{[]string{"--profile", "Orch", "--url", "https://rpa-events.example.com/events/uipath/Orch"}, "profile: \"Orch\" is not a profile name"},
		{[]string{"--profile", "orch", "--name", strings.Repeat("n", 129), "--url", "https://rpa-events.example.com/events/uipath/orch"}, "name: is 129 characters long"},
	} {
		h := newHarness(t, &fakeClient{})
		code, _, stderr := h.run(append([]string{"webhook", "ensure"}, c.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", c.args, code, stderr, c.want)
		}
		if len(h.fc.started) != 0 {
			t.Errorf("%v: started a workflow", c.args)
		}
	}

	fc := &fakeClient{result: contract.EnsureWebhookResult{ID: 7, Name: "rpaflow-orch", URL: "http://127.0.0.1:8083/events/uipath/orch",
		Outcome: contract.WebhookUpdated, Changed: []string{"url"}, Enabled: true, Events: []string{"job.completed"}, Pinged: true}}
	h := newHarness(t, fc)
	code, stdout, stderr := h.run("webhook", "ensure", "--profile", "orch", "--url", "http://127.0.0.1:8083/events/uipath/orch", "--ping")
	if code != ExitOK || !strings.Contains(stdout, "webhook rpaflow-orch (id 7) updated") || !strings.Contains(stdout, "changed: url") ||
		!strings.Contains(stdout, "ping sent") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if len(fc.started) != 1 || fc.started[0].opts.ID != "webhook-ensure:orch" || fc.started[0].workflow != contract.EnsureWebhookWorkflow {
		t.Fatalf("started %+v", fc.started)
	}
	in, ok := fc.started[0].args[0].(contract.EnsureWebhookInput)
	if !ok || !in.Ping || in.Profile != "orch" || in.URL != "http://127.0.0.1:8083/events/uipath/orch" {
		t.Fatalf("input %#v", fc.started[0].args[0])
	}
	code, stdout, _ = h.run("webhook", "ensure", "--profile", "orch", "--url", "http://[::1]:8083/events/uipath/orch", "--json")
	var out struct{ Result contract.EnsureWebhookResult }
	if code != ExitOK || json.Unmarshal([]byte(stdout), &out) != nil || out.Result.ID != 7 || out.Result.Outcome != "updated" {
		t.Fatalf("--json: exit %d %s", code, stdout)
	}
}
