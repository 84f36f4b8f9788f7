package plugin

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/rpaflow/rpaflow/contract"
)

// The Nexus service the worker registers is the one contract/schema
// describes to callers in other languages: the same operations.
func TestServiceFileListsTheRegisteredOperations(t *testing.T) {
	p, err := New(Options{Nexus: true})
	if err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, op := range p.nexusOperations() {
		registered = append(registered, op.Name())
	}
	raw, err := os.ReadFile("../contract/schema/rpaflow.nexusrpc.json")
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		Services map[string]struct {
			Operations map[string]json.RawMessage `json:"operations"`
		} `json:"services"`
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	var described []string
	for name := range def.Services[contract.NexusService].Operations {
		described = append(described, name)
	}
	slices.Sort(registered)
	slices.Sort(described)
	if !slices.Equal(registered, described) {
		t.Errorf("the worker registers %v, contract/schema/rpaflow.nexusrpc.json describes %v; add the operation to contract/schema/main.go's calls and run go generate ./contract/...", registered, described)
	}
}
