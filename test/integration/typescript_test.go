package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"

	"github.com/rpaflow/rpaflow/test/guide"
)

// tsCaller is the TypeScript project: pinned packages, the type generator
// and the caller's workflows and worker.
const tsCaller = "testdata/tscaller"

// tsOutcome is what the TypeScript workflows return (src/workflows.ts).
type tsOutcome[T any] struct {
	Result    *T                       `json:"result"`
	ErrorType string                   `json:"errorType"`
	Info      *contract.ErrorInfo      `json:"info"`
	Job       *contract.StartJobResult `json:"job"`
	Message   string                   `json:"message"`
}

// A TypeScript workflow in another namespace calls rpaflow's Nexus service
// with types generated from contract/schema: the README's example runs a
// job and reads a Faulted job's final state from RunFailed; the API Task's
// result arrives typed; a bad input is InvalidInput naming its field; and
// cancelling a running startJob stops the job at Orchestrator.
func TestTypeScriptCallerThroughNexus(t *testing.T) {
	begin := time.Now()
	s := newStack(t, stackOptions{})
	npm := requireTool(t, "node", "npm")
	steps := timings{last: time.Now()}

	root := moduleRoot(t)
	if err := npmCI(t, npm); err != nil {
		t.Fatal(err)
	}
	steps.mark("npm ci (when node_modules is missing)")
	writeREADMEExample(t, root)
	node(t, "gen-types.mjs", filepath.Join(root, "contract", "schema"), filepath.Join("src", "rpaflow.ts"))
	steps.mark("types generated")
	node(t, filepath.Join("node_modules", "typescript", "bin", "tsc"), "-p", ".")
	steps.mark("tsc")

	ns, err := namespaces.Next()
	if err != nil {
		t.Fatal(err)
	}
	// The example names the endpoint "rpaflow", as the README's recipe creates it.
	if _, err := s.cli("operator", "nexus", "endpoint", "create", "--name", "rpaflow",
		"--target-namespace", s.Namespace, "--target-task-queue", s.TaskQueue); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = s.cli("operator", "nexus", "endpoint", "delete", "--name", "rpaflow") })
	const queue = "ts-caller"
	startTSWorker(t, devServer.FrontendHostPort(), ns, queue)
	steps.mark("worker bundled and polling")

	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: ns, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := func(id, workflow string, args ...any) client.WorkflowRun {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflow, args...)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	invoices := start("ts-invoices", "runProcess", "Invoices", 3)
	broken := start("ts-broken", "runProcess", "Broken", 1)
	task := start("ts-api-task", "apiTask", contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask,
		BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)}})
	bad := start("ts-bad-input", "apiTask", map[string]any{"profile": "cr", "botRepositoryPath": ""})
	long := start("ts-long-job", "job", contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "LongRunning"})

	orch := s.Sims.Orchestrator
	waitFor(t, time.Minute, "the LongRunning job to run at Orchestrator", func() bool {
		return orch.Counters().Get("stopJobs.SoftStop") == 0 && orch.Running() == 1 && stillRunning(ctx, c, "ts-long-job")
	})
	time.Sleep(time.Second) // the job's wait is polling
	if err := c.CancelWorkflow(ctx, "ts-long-job", ""); err != nil {
		t.Fatal(err)
	}

	var job contract.StartJobResult
	if err := invoices.Get(ctx, &job); err != nil || job.State != contract.JobSuccessful || job.OutputArguments["count"] != float64(3) {
		t.Errorf("README example, Invoices: %+v, %v; want Successful with the count echoed", job, err)
	}
	var faulted contract.StartJobResult
	if err := broken.Get(ctx, &faulted); err != nil || faulted.State != "Faulted" || !strings.Contains(faulted.Info, "Invoice file missing") || faulted.ID == 0 {
		t.Errorf("README example, Broken: %+v, %v; want the Faulted job's final state from RunFailed", faulted, err)
	}
	var out tsOutcome[contract.DeployAPITaskResult]
	if err := task.Get(ctx, &out); err != nil || out.Result == nil || out.Result.BotOutput["State"] != "California" {
		t.Errorf("deployApiTask: %+v, %v; want the typed result with State California", out, err)
	}
	var rejected tsOutcome[contract.DeployAPITaskResult]
	if err := bad.Get(ctx, &rejected); err != nil || rejected.ErrorType != string(contract.ErrInvalidInput) ||
		rejected.Info == nil || rejected.Info.Field != "botRepositoryPath" {
		t.Errorf("bad input: %+v (info %+v), %v; want InvalidInput naming botRepositoryPath", rejected, rejected.Info, err)
	}
	var stopped tsOutcome[contract.StartJobResult]
	if err := long.Get(ctx, &stopped); err != nil || stopped.ErrorType != "Cancelled" {
		t.Errorf("cancelled startJob: %+v, %v; want the operation cancelled", stopped, err)
	}
	if orch.Running() != 0 || orch.Counters().Get("stopJobs.SoftStop") != 1 {
		t.Errorf("Orchestrator after the cancel: %d jobs running, counters %v; want the job stopped with one SoftStop",
			orch.Running(), orch.Counters().Snapshot())
	}
	steps.mark("five workflows")
	t.Logf("typescript caller: %s; total %v", steps, time.Since(begin).Round(100*time.Millisecond))
}

// timings records how long each step took.
type timings struct {
	last  time.Time
	parts []string
}

func (s *timings) mark(step string) {
	now := time.Now()
	s.parts = append(s.parts, fmt.Sprintf("%s %v", step, now.Sub(s.last).Round(100*time.Millisecond)))
	s.last = now
}

func (s timings) String() string { return strings.Join(s.parts, ", ") }

func stillRunning(ctx context.Context, c client.Client, id string) bool {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() == nil
}

// requireTool returns the path of the last tool, after checking each is on
// PATH; a missing one fails the test under make test and skips it otherwise.
func requireTool(t *testing.T, tools ...string) string {
	t.Helper()
	var path string
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			if os.Getenv("RPAFLOW_REQUIRE_INTEGRATION") == "1" {
				t.Fatalf("%s not found: run scripts/test-deps.sh (make test-deps) to install Node.js and npm", tool)
			}
			t.Skipf("%s not found (scripts/test-deps.sh installs it)", tool)
		}
		path = p
	}
	return path
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// npmCI installs the locked packages when node_modules is missing or older
// than the lockfile.
func npmCI(t *testing.T, npm string) error {
	t.Helper()
	lock, err := os.Stat(filepath.Join(tsCaller, "package-lock.json"))
	if err != nil {
		return err
	}
	if installed, err := os.Stat(filepath.Join(tsCaller, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = tsCaller
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci: %v\n%s", err, out)
	}
	return nil
}

func node(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = tsCaller
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// writeREADMEExample writes the README's TypeScript example where the
// caller's workflows import it from.
func writeREADMEExample(t *testing.T, root string) {
	t.Helper()
	raw, err := guide.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- example: typescript -->\n```ts\n(.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatal("README.md has no TypeScript example (<!-- example: typescript --> before a ```ts block)")
	}
	if err := os.WriteFile(filepath.Join(tsCaller, "src", "readme-example.ts"), m[1], 0o644); err != nil {
		t.Fatal(err)
	}
}

// startTSWorker runs the caller's TypeScript worker until the test ends.
func startTSWorker(t *testing.T, address, namespace, queue string) {
	t.Helper()
	cmd := exec.Command("node", filepath.Join("lib", "worker.js"), address, namespace, queue)
	cmd.Dir = tsCaller
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{buf: new(bytes.Buffer)}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				once.Do(func() { close(ready) })
			}
			_, _ = io.WriteString(logs, sc.Text()+"\n")
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("TypeScript worker output:\n%s", logs.String())
		}
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("the TypeScript worker exited: %v\n%s", waitErr, logs.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the TypeScript worker is not ready after 2m:\n%s", logs.String())
	}
}
