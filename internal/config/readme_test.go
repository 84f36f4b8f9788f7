package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the configuration table in docs/configuration.md from Variables()")

const (
	readmePath       = "../../docs/configuration.md"
	readmeTableBegin = "<!-- BEGIN configuration table: generated from config.Variables(); `go test ./internal/config -run TestREADMEConfigTable -update-readme` -->"
	readmeTableEnd   = "<!-- END configuration table -->"
)

// configTable renders Variables() as the reference's Markdown table.
func configTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Secret | Description |\n|---|---|---|---|\n")
	for _, v := range Variables() {
		def := ""
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		secret := ""
		if v.Secret {
			secret = "yes (or `_FILE`)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Name, def, secret, strings.ReplaceAll(v.Description, "|", `\|`))
	}
	return b.String()
}

// TestREADMEConfigTable fails when docs/configuration.md's table and
// the variables the loader reads differ.
func TestREADMEConfigTable(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatalf("reading docs/configuration.md: %v", err)
	}
	readme := string(raw)
	before, rest, ok := strings.Cut(readme, readmeTableBegin+"\n")
	table, after, ok2 := strings.Cut(rest, readmeTableEnd)
	if !ok || !ok2 {
		t.Fatalf("docs/configuration.md lacks the configuration table markers:\n%s\n...\n%s", readmeTableBegin, readmeTableEnd)
	}
	want := configTable()
	if table == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(readmePath, []byte(before+readmeTableBegin+"\n"+want+readmeTableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("docs/configuration.md configuration table rewritten")
		return
	}
	got := strings.Split(table, "\n")
	exp := strings.Split(want, "\n")
	for i := range max(len(got), len(exp)) {
		var g, e string
		if i < len(got) {
			g = got[i]
		}
		if i < len(exp) {
			e = exp[i]
		}
		if g != e {
			t.Fatalf("docs/configuration.md's configuration table differs from config.Variables() at row %d:\n README: %s\n want:   %s\nregenerate it: go test ./internal/config -run TestREADMEConfigTable -update-readme", i+1, g, e)
		}
	}
}
