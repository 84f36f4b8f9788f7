package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rpaflow/rpaflow/test/guide"
)

// The README's Go examples (a `<!-- example: NAME -->` line before a
// ```go block, each a whole file) compile and pass go vet, so they stay
// true to the API.
func TestREADMEExamplesCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds each example with the go command")
	}
	raw, err := guide.Read("..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- example: ([a-z-]+) -->\n```go\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d Go examples, want the child workflow, Nexus and plugin ones", len(blocks))
	}
	for _, b := range blocks {
		t.Run(b[1], func(t *testing.T) {
			dir := filepath.Join("testdata", "readme-"+b[1])
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			if err := os.WriteFile(filepath.Join(dir, "example.go"), []byte(b[2]), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("go", "vet", "./"+filepath.ToSlash(dir)).CombinedOutput(); err != nil {
				t.Errorf("README example %q does not compile: %v\n%s", b[1], err, out)
			}
		})
	}
}
