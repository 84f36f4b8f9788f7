// Package guide reads rpaflow's user's guide, README.md and the files under
// docs/, for the tests that run its recipes and compile its examples
// wherever they live in it.
package guide

import (
	"os"
	"path/filepath"
	"sort"
)

// Files are the guide's files under the repository root: README.md, then
// docs/*.md in name order.
func Files(root string) ([]string, error) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(docs)
	return append([]string{filepath.Join(root, "README.md")}, docs...), nil
}

// Read is the whole guide under root, its files one after the other.
func Read(root string) ([]byte, error) {
	files, err := Files(root)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(append(out, b...), '\n')
	}
	return out, nil
}
