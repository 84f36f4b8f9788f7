package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub/hubsim"
	"github.com/rpaflow/rpaflow/test/gate"
	"github.com/rpaflow/rpaflow/test/proc"
	"github.com/rpaflow/rpaflow/test/teststack"
)

// record is what the final secrets scan needs from a case: where its
// histories live, what secrets its simulators saw and its worker logs.
type record struct {
	name      string
	hostPort  string
	namespace string
	secrets   func() []string
	mu        sync.Mutex
	logs      []string
}

var records struct {
	sync.Mutex
	list []*record
}

type stackOptions struct {
	Sims simenv.Options
	// Fast, when set, adds a second Control Room behind profile "fast" with
	// these options (e.g. short tokens next to the demo profile's long ones).
	Fast *aasim.Options
	// HostPort and Namespace select another Temporal server (default: the
	// shared dev server and a namespace of the stack's own).
	HostPort, Namespace string
}

// stack is one case's world: simulators behind a gate, a worker process
// (restartable, killable) and a Temporal client with the codec.
type stack struct {
	t         *testing.T
	name      string
	Sims      *simenv.Sims
	Fast      *aasim.Server
	Gate      *gate.Gate
	FastGate  *gate.Gate
	Client    client.Client
	HostPort  string
	Namespace string
	Queue     string
	env       map[string]string
	rec       *record
	worker    *proc.Worker
}

func newStack(t *testing.T, name string, o stackOptions) *stack {
	t.Helper()
	if shared == nil {
		t.Skip("no Temporal dev server (run `make test` or `make test-reliability`)")
	}
	sims := simenv.New(o.Sims)
	s := &stack{t: t, name: name, Sims: sims, Gate: gate.New(sims, "iStrZipCode"), HostPort: o.HostPort, Namespace: o.Namespace,
		Queue: "rpaflow-rel-" + name}
	srv := httptest.NewServer(s.Gate)
	t.Cleanup(srv.Close)
	if s.HostPort == "" {
		ns, err := namespaces.Next()
		if err != nil {
			t.Fatalf("%v on the shared server", err)
		}
		s.HostPort, s.Namespace = shared.FrontendHostPort(), ns
	}
	s.env = teststack.Env(teststack.Options{HostPort: s.HostPort, Namespace: s.Namespace, TaskQueue: s.Queue, KeyID: "rel",
		LogLevel: "debug", // the most log text to scan for secrets
		Extra:    map[string]string{"RPAFLOW_LOG_FORMAT": "json"}}, srv.URL)
	if o.Fast != nil {
		s.Fast = aasim.New(*o.Fast)
		s.FastGate = gate.New(s.Fast, "iStrZipCode")
		fsrv := httptest.NewServer(s.FastGate)
		t.Cleanup(fsrv.Close)
		s.env["RPAFLOW_PROFILES"] += ",fast"
		for k, v := range map[string]string{"KIND": "automationanywhere", "URL": fsrv.URL, "ALLOW_HTTP": "true",
			"USERNAME": aasim.DemoUsername, "API_KEY": aasim.DemoAPIKey} {
			s.env[config.EnvVar("fast", k)] = v
		}
	}
	s.rec = &record{name: name, hostPort: s.HostPort, namespace: s.Namespace, secrets: s.secrets}
	records.Lock()
	records.list = append(records.list, s.rec)
	records.Unlock()

	var err error
	if s.Client, err = teststack.Dial(s.env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Client.Close)
	t.Cleanup(func() {
		if s.worker != nil {
			if t.Failed() {
				t.Logf("worker log (tail):\n%s", proc.Tail(s.worker.Log, 6000))
			}
			if err := s.worker.Stop(45 * time.Second); err != nil {
				t.Error(err)
			}
		}
	})
	return s
}

// secrets lists every token, password, API key and client secret the
// simulators issued or were configured with.
func (s *stack) secrets() []string {
	out := append(s.Sims.AA.IssuedSecrets(), s.Sims.Orchestrator.IssuedSecrets()...)
	out = append(out, hubsim.DemoToken, hubsim.DemoAppKey, s.env["RPAFLOW_CODEC_KEY"])
	if s.Fast != nil {
		out = append(out, s.Fast.IssuedSecrets()...)
	}
	return out
}

// startWorker starts a worker process and waits until it polls its queue.
func (s *stack) startWorker() {
	t := s.t
	t.Helper()
	s.rec.mu.Lock()
	n := len(s.rec.logs) + 1
	path := filepath.Join(workDir, fmt.Sprintf("%s-worker-%d.log", s.name, n))
	s.rec.logs = append(s.rec.logs, path)
	s.rec.mu.Unlock()
	p, err := proc.StartWorker(fmt.Sprintf("%s-worker-%d", s.name, n), path, workerBin, s.env)
	if err != nil {
		t.Fatalf("starting the worker: %v", err)
	}
	s.worker = p
}

// killWorker SIGKILLs the worker: no graceful stop, in-flight calls cut.
func (s *stack) killWorker() {
	if err := s.worker.Kill(); err != nil {
		s.t.Fatalf("SIGKILL worker: %v", err)
	}
}

// echoTask is an API Task that answers State "ran:<iStrZipCode>", so every
// workflow's output proves it ran its own input.
func echoTask(latency time.Duration) aasim.APITask {
	return aasim.APITask{
		FileID: aasim.ZipCodeTaskFileID, Path: aasim.ZipCodeTaskPath, ConcurrencyLimit: 1000,
		Inputs: []string{"iStrZipCode"}, Latency: latency,
		Run: func(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
			return map[string]botvalue.Value{"State": botvalue.Str("ran:" + in["iStrZipCode"].String)}, nil
		},
	}
}

// start starts a workflow on the stack's queue.
func (s *stack) start(ctx context.Context, id, wfType string, input any) client.WorkflowRun {
	s.t.Helper()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.Queue}, wfType, input)
	if err != nil {
		s.t.Fatalf("starting %s %s: %v", wfType, id, err)
	}
	return run
}

// workflowStart is one workflow for startAll.
type workflowStart struct {
	id, wfType string
	input      any
}

// startAll starts the workflows on the stack's queue at once.
func (s *stack) startAll(ctx context.Context, starts []workflowStart) []client.WorkflowRun {
	s.t.Helper()
	runs, errs := make([]client.WorkflowRun, len(starts)), make([]error, len(starts))
	var wg sync.WaitGroup
	for i, w := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: w.id, TaskQueue: s.Queue}, w.wfType, w.input)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			s.t.Fatalf("starting %s %s: %v", starts[i].wfType, starts[i].id, err)
		}
	}
	return runs
}

// startSession starts a session workflow directly (as the first consumer would).
func (s *stack) startSession(ctx context.Context, wfType, id, profile string) {
	s.t.Helper()
	s.start(ctx, id, wfType, contract.SessionInput{Profile: profile})
}

func (s *stack) status(ctx context.Context, id string) (contract.SessionStatus, error) {
	var st contract.SessionStatus
	v, err := s.Client.QueryWorkflow(ctx, id, "", contract.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

func (s *stack) token(ctx context.Context, id string, minValidity time.Duration) (contract.TokenResult, error) {
	var res contract.TokenResult
	h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: contract.UpdateToken,
		Args: []any{contract.TokenRequest{MinValidity: contract.Duration(minValidity)}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	return res, err
}

// outcome is how one workflow ended.
type outcome struct {
	id     string
	err    error
	result json.RawMessage
}

// waitAll waits for every run, bounded by ctx.
func waitAll(ctx context.Context, runs []client.WorkflowRun) []outcome {
	out := make([]outcome, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var raw json.RawMessage
			err := r.Get(ctx, &raw)
			out[i] = outcome{id: r.GetID(), err: err, result: raw}
		}()
	}
	wg.Wait()
	return out
}

// errType is the application error type inside err ("" if none).
