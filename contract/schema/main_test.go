package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// The committed files are exactly what the generator writes from the Go
// types today.
func TestCommittedSchemasMatchTheGoTypes(t *testing.T) {
	want, err := Generate("..")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range onDisk {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is committed but no longer generated; run go generate ./contract/...", name)
		}
	}
	for _, name := range sortedKeys(want) {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v; run go generate ./contract/...", name, err)
			continue
		}
		if !bytes.Equal(got, want[name]) {
			t.Errorf("%s differs from the Go types in package contract; run go generate ./contract/...", name)
		}
	}
	again, err := Generate("..")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range want {
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s: two runs of the generator differ", name)
		}
	}
}

// compile loads every committed schema, so refs between files resolve.
func compile(t *testing.T) (*jsonschema.Compiler, map[string]*jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	names, _ := filepath.Glob("*.json")
	for _, n := range names {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(must(os.ReadFile(n))))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := c.AddResource(n, doc); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, n := range names {
		if n == ServiceFile || n == WorkflowsFile {
			continue
		}
		s, err := c.Compile(n)
		if err != nil {
			t.Fatalf("%s does not compile: %v", n, err)
		}
		out[n] = s
	}
	return c, out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The index files name a schema for every operation and workflow, and
// every reference resolves to a committed schema.
func TestServiceFileListsEveryOperation(t *testing.T) {
	_, schemas := compile(t)
	var svc struct {
		Nexusrpc string `json:"nexusrpc"`
		Services map[string]struct {
			Operations map[string]struct {
				Input, Output struct {
					Ref   string `json:"$ref"`
					GoRef string `json:"$goRef"`
				}
			} `json:"operations"`
		} `json:"services"`
	}
	if err := json.Unmarshal(must(os.ReadFile(ServiceFile)), &svc); err != nil {
		t.Fatal(err)
	}
	ops := svc.Services[contract.NexusService].Operations
	for _, op := range []string{contract.OpDeployAPITask, contract.OpDeployBot, contract.OpStartJob,
		contract.OpAddQueueItem, contract.OpAddWorkItem, contract.OpSessionStatus, contract.OpPoolStatus} {
		o, ok := ops[op]
		if !ok {
			t.Errorf("%s lacks operation %s", ServiceFile, op)
			continue
		}
		for _, r := range []string{o.Input.Ref, o.Output.Ref} {
			if schemas[r] == nil {
				t.Errorf("operation %s: %q is not a committed schema", op, r)
			}
		}
	}
	idx := string(must(os.ReadFile(WorkflowsFile)))
	for _, wf := range []string{contract.DeployAPITaskWorkflow, contract.DeployBotWorkflow, contract.StartJobWorkflow,
		contract.AddQueueItemWorkflow, contract.AddWorkItemWorkflow, contract.ControlRoomSessionWorkflow,
		contract.OrchestratorSessionWorkflow, contract.AutomationHubTokenWatchWorkflow} {
		if !strings.Contains(idx, `"`+wf+`"`) {
			t.Errorf("%s lacks workflow %s", WorkflowsFile, wf)
		}
	}
}

// What the worker writes validates against the schemas callers type against.
func TestGoValuesValidate(t *testing.T) {
	_, schemas := compile(t)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	float := 12.5
	for file, v := range map[string]any{
		"DeployAPITaskResult.json": contract.DeployAPITaskResult{BotOutput: map[string]any{"State": "California"},
			RawBotOutput: map[string]botvalue.Value{"State": botvalue.Str("California"),
				"Rows": {Type: botvalue.TypeTable, Table: &botvalue.Table{Schema: []botvalue.Column{{Name: "a"}},
					Rows: []botvalue.Row{{Values: []botvalue.Value{{Type: botvalue.TypeNumber, String: "1"}}}}}},
				"Map": {Type: botvalue.TypeDictionary, Dictionary: []botvalue.Entry{{Key: "k", Value: botvalue.Value{Type: botvalue.TypeBoolean, String: "true"}}}},
				"L":   {Type: botvalue.TypeList, List: []botvalue.Value{botvalue.Str("x")}}}},
		"DeployBotResult.json":    contract.DeployBotResult{DeploymentID: "d-1", Status: "RUN_FAILED", BotOutput: map[string]any{}},
		"StartJobResult.json":     contract.StartJobResult{ID: 7, Key: "k", State: "Faulted", Info: "Invoice file missing"},
		"AddQueueItemResult.json": contract.AddQueueItemResult{ID: 3, Status: "New", Reference: "PO-1"},
		"AddWorkItemResult.json":  contract.AddWorkItemResult{ID: "1", QueueID: "2", Status: "NEW"},
		"SessionStatus.json": contract.SessionStatus{Profile: "cr", State: "active", Expiry: now, LastErrorType: contract.ErrThrottled,
			Paths: []contract.PathStatus{{Path: "p", FetchedAt: now, LastUsed: now, TokenLifetime: contract.Duration(90 * time.Second)}}},
		"RunStop.json":          contract.RunStop{Reason: contract.StopCancelled, RunID: "7", Requests: []string{"SoftStop"}, FinalStatus: "Stopped", Terminal: true, StoppedAt: now},
		"ErrorInfo.json":        contract.ErrorInfo{Field: "botRepositoryPath"},
		"QueueItemFailure.json": contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: 3, Status: "Failed"}, Reason: "r", Type: "BusinessException"},
		"HubWatchInput.json": contract.HubWatchInput{Profile: "hub", Interval: contract.Duration(time.Hour),
			Last: &contract.HubWatchStatus{Profile: "hub", State: "ok", Expires: now, DaysToExpiry: &float}},
		"ErrorType.json": contract.ErrRunFailed,
	} {
		s := schemas[file]
		if s == nil {
			t.Errorf("no schema %s", file)
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(must(json.Marshal(v))))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s rejects what Go writes (%s): %v", file, must(json.Marshal(v)), err)
		}
	}
}

// Package contract stays importable by any Temporal application: the
// generator's and the validator's modules are not among its dependencies.
func TestContractDoesNotImportTheGenerator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "..").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/invopop/", "github.com/santhosh-tekuri/", "github.com/pb33f/", "github.com/rpaflow/rpaflow/contract/schema"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("package contract depends on %s", dep)
			}
		}
	}
}
