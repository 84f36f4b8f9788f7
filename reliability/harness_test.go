package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/devserver"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/internal/teststack"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub/hubsim"
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
	Gate      *gate
	FastGate  *gate
	Client    client.Client
	HostPort  string
	Namespace string
	Queue     string
	env       map[string]string
	rec       *record
	worker    *workerProc
}

func newStack(t *testing.T, name string, o stackOptions) *stack {
	t.Helper()
	if shared == nil {
		t.Skip("no Temporal dev server (run `make test` or `make test-reliability`)")
	}
	sims := simenv.New(o.Sims)
	s := &stack{t: t, name: name, Sims: sims, Gate: newGate(sims), HostPort: o.HostPort, Namespace: o.Namespace,
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
		s.FastGate = newGate(s.Fast)
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
				t.Logf("worker log (tail):\n%s", tailFile(s.worker.log, 6000))
			}
			s.worker.stop(t)
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

// workerProc is one worker process; its output goes to a log file.
type workerProc struct {
	cmd       *exec.Cmd
	log       string
	done      chan struct{}
	httpAddr  string // /healthz, /metrics
	codecAddr string // /codec
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
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	httpAddr, err := devserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	codecAddr, err := devserver.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(workerBin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "RPAFLOW_HTTP_ADDR=" + httpAddr, "RPAFLOW_CODEC_ADDR=" + codecAddr}
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting the worker: %v", err)
	}
	p := &workerProc{cmd: cmd, log: path, done: make(chan struct{}), httpAddr: httpAddr, codecAddr: codecAddr}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	s.worker = p
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(readFile(path), "worker running") {
		select {
		case <-p.done:
			t.Fatalf("worker exited before it was ready:\n%s", tailFile(path, 4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready within a minute:\n%s", tailFile(path, 4000))
		}
	}
}

// killWorker SIGKILLs the worker: no graceful stop, in-flight calls cut.
func (s *stack) killWorker() {
	p := s.worker
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("SIGKILL worker: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		s.t.Fatal("killed worker did not exit")
	}
}

func (p *workerProc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(45 * time.Second):
		t.Error("worker did not stop within 45s of SIGTERM; killing it")
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tailFile(path string, n int) string {
	s := readFile(path)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// gate sits in front of a simulator: it can hold token refreshes (so a kill
// lands mid-refresh) and it counts API Task executions per input key as
// they reach the platform, whatever happens to the answer.
type gate struct {
	next            http.Handler
	holdRefresh     atomic.Bool
	refreshInFlight atomic.Int32
	executeInFlight atomic.Int32
	mu              sync.Mutex
	executions      map[string]int
}

func newGate(next http.Handler) *gate { return &gate{next: next, executions: map[string]int{}} }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/authentication/token") && g.holdRefresh.Load():
		g.refreshInFlight.Add(1)
		defer g.refreshInFlight.Add(-1)
		deadline := time.After(2 * time.Minute)
		for g.holdRefresh.Load() {
			select {
			case <-r.Context().Done():
				return // the caller is gone: the refresh never reaches the platform
			case <-deadline:
				http.Error(w, "held too long", http.StatusServiceUnavailable)
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/hotbot/"):
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			BotInput map[string]botvalue.Value `json:"botInput"`
		}
		_ = json.Unmarshal(body, &req)
		g.mu.Lock()
		g.executions[req.BotInput["iStrZipCode"].String]++
		g.mu.Unlock()
		g.executeInFlight.Add(1)
		defer g.executeInFlight.Add(-1)
	}
	g.next.ServeHTTP(w, r)
}

func (g *gate) executionsOf(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.executions[key]
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
