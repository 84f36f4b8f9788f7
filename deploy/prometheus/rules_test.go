// Package prometheus holds rpaflow's alert rules; its test checks that each
// alert has a runbook row in docs/operations.md and a promtool test file of its own
// (`make alert-rules` runs promtool itself).
package prometheus

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// The alerts docs/operations.md's Observability section promises.
var wantAlerts = []string{
	"RpaflowCredentialsRefused", "RpaflowSessionTokenExpiring", "RpaflowRenewalLagHigh",
	"RpaflowHubTokenExpiring", "RpaflowDeploymentFailuresRising", "RpaflowPollBudgetSaturated", "RpaflowEventsSilent",
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile("rpaflow-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatalf("rpaflow-alerts.yml: %v", err)
	}
	return rf
}

func TestEveryAlertHasRunbookRowAndTestFile(t *testing.T) {
	readme, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, trouble, ok := strings.Cut(string(readme), "\n## Troubleshooting\n")
	if !ok {
		t.Fatal("docs/operations.md has no Troubleshooting section")
	}
	trouble, _, _ = strings.Cut(trouble, "\n## ")
	tests, err := filepath.Glob("tests/*.test.yml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no tests/*.test.yml: %v", err)
	}
	tested := map[string]int{}
	alertname := regexp.MustCompile(`(?m)^\s*alertname:\s*(\S+)`)
	for _, f := range tests {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, m := range alertname.FindAllStringSubmatch(string(raw), -1) {
			names[m[1]] = true
		}
		if len(names) != 1 {
			t.Errorf("%s tests %d alerts, want one file per alert", f, len(names))
		}
		for n := range names {
			tested[n]++
		}
		// Each file must show series that fire the alert and a time when it does not.
		if !strings.Contains(string(raw), "exp_alerts: []") || !strings.Contains(string(raw), "exp_labels:") {
			t.Errorf("%s lacks a firing case (exp_labels) or a silent one (exp_alerts: [])", f)
		}
	}

	seen := map[string]bool{}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			seen[r.Alert] = true
			row := "| alert " + r.Alert + " |"
			if want := "docs/operations.md#troubleshooting, row: alert " + r.Alert; r.Annotations["runbook"] != want {
				t.Errorf("%s: runbook annotation %q, want %q", r.Alert, r.Annotations["runbook"], want)
			}
			if !strings.Contains(trouble, "\n"+row) {
				t.Errorf("%s: docs/operations.md's Troubleshooting table has no row starting %q", r.Alert, row)
			}
			if r.Annotations["summary"] == "" || r.For == "" {
				t.Errorf("%s: needs a summary annotation and an explicit for", r.Alert)
			}
			if tested[r.Alert] != 1 {
				t.Errorf("%s is tested by %d files under tests/, want 1", r.Alert, tested[r.Alert])
			}
		}
	}
	for _, a := range wantAlerts {
		if !seen[a] {
			t.Errorf("rpaflow-alerts.yml has no alert %s", a)
		}
	}
	for a := range tested {
		if !seen[a] {
			t.Errorf("tests/ test alert %s, which rpaflow-alerts.yml lacks", a)
		}
	}
}
