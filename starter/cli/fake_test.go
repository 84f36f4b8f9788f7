package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
)

var dc = converter.GetDefaultDataConverter()

// encodeInto passes v through the default data converter into ptr, as the
// SDK does with a real payload.
func encodeInto(v, ptr any) error {
	if ptr == nil {
		return nil
	}
	p, err := dc.ToPayload(v)
	if err != nil {
		return err
	}
	return dc.FromPayload(p, ptr)
}

type startCall struct {
	opts     client.StartWorkflowOptions
	workflow any
	args     []any
}

// fakeClient records calls and answers with canned values.
type fakeClient struct {
	mu sync.Mutex

	started    []startCall
	executeErr error
	getCalls   []string // workflowID/runID of GetWorkflow

	// run outcome
	result any
	runErr error
	block  bool // Get waits for ctx (or for progress to be exhausted)

	// DescribeWorkflowExecution answers, one per call; the last repeats.
	progress  []contract.PollProgress
	describes int
	drained   chan struct{}

	queried     []string
	queryResult any
	queryErr    error
	queryErrN   int // when > 0, queryErr answers only this many queries

	withStart   []startCall
	uws         []client.UpdateWithStartWorkflowOptions
	updates     []client.UpdateWorkflowOptions
	updateValue any
	updateErr   error // returned by the update call itself
	outcomeErr  error // returned by handle.Get
}

func (f *fakeClient) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, startCall{o, wf, args})
	if f.executeErr != nil {
		return nil, f.executeErr
	}
	return &fakeRun{f: f, id: o.ID, runID: "run-1"}, nil
}

func (f *fakeClient) GetWorkflow(ctx context.Context, id, runID string) client.WorkflowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getCalls = append(f.getCalls, id+"/"+runID)
	return &fakeRun{f: f, id: id, runID: runID}
}

func (f *fakeClient) DescribeWorkflowExecution(ctx context.Context, id, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.progress) == 0 {
		return &workflowservice.DescribeWorkflowExecutionResponse{}, nil
	}
	i := min(f.describes, len(f.progress)-1)
	f.describes++
	if f.describes == len(f.progress)+1 && f.drained != nil {
		close(f.drained) // every answer was seen at least once (the last twice)
	}
	p, err := dc.ToPayloads(f.progress[i])
	if err != nil {
		return nil, err
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{
		PendingActivities: []*workflowpb.PendingActivityInfo{
			{ActivityId: "5", HeartbeatDetails: p, Attempt: 1},
			{ActivityId: "6"}, // no heartbeat yet: ignored
		},
	}, nil
}

func (f *fakeClient) QueryWorkflow(ctx context.Context, id, runID, queryType string, args ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queried = append(f.queried, id+"/"+queryType)
	if f.queryErr != nil {
		if f.queryErrN > 0 {
			if f.queryErrN--; f.queryErrN == 0 {
				defer func() { f.queryErr = nil }()
			}
		}
		return nil, f.queryErr
	}
	return fakeValue{f.queryResult}, nil
}

func (f *fakeClient) NewWithStartWorkflowOperation(o client.StartWorkflowOptions, wf any, args ...any) client.WithStartWorkflowOperation {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.withStart = append(f.withStart, startCall{o, wf, args})
	return fakeOp{}
}

func (f *fakeClient) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uws = append(f.uws, o)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return fakeHandle{f: f}, nil
}

func (f *fakeClient) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, o)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return fakeHandle{f: f}, nil
}

type fakeRun struct {
	f         *fakeClient
	id, runID string
}

func (r *fakeRun) GetID() string                  { return r.id }
func (r *fakeRun) GetRunID() string               { return r.runID }
func (r *fakeRun) GetFirstExecutionRunID() string { return r.runID }
func (r *fakeRun) Get(ctx context.Context, ptr any) error {
	r.f.mu.Lock()
	block, drained, result, err := r.f.block, r.f.drained, r.f.result, r.f.runErr
	r.f.mu.Unlock()
	if block {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-drained: // nil channel: wait for ctx
		}
	}
	if err != nil {
		return err
	}
	return encodeInto(result, ptr)
}
func (r *fakeRun) GetWithOptions(ctx context.Context, ptr any, _ client.WorkflowRunGetOptions) error {
	return r.Get(ctx, ptr)
}

type fakeValue struct{ v any }

func (v fakeValue) HasValue() bool    { return v.v != nil }
func (v fakeValue) Get(ptr any) error { return encodeInto(v.v, ptr) }

type fakeOp struct{}

func (fakeOp) Get(ctx context.Context) (client.WorkflowRun, error) {
	return nil, errors.New("not used")
}

type fakeHandle struct{ f *fakeClient }

func (h fakeHandle) WorkflowID() string { return "" }
func (h fakeHandle) RunID() string      { return "session-run" }
func (h fakeHandle) UpdateID() string   { return "u1" }
func (h fakeHandle) Get(ctx context.Context, ptr any) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if h.f.outcomeErr != nil {
		return h.f.outcomeErr
	}
	return encodeInto(h.f.updateValue, ptr)
}

// harness runs commands against a fakeClient.
type harness struct {
	t       *testing.T
	fc      *fakeClient
	env     map[string]string
	stdin   string
	connErr error
	cfg     *config.Config // as passed to Connect
	// schedules answers schedule commands (nil: the connection has none).
	schedules Schedules
}

func newHarness(t *testing.T, fc *fakeClient) *harness {
	return &harness{t: t, fc: fc, env: map[string]string{"RPAFLOW_INSECURE_PLAINTEXT": "true"}}
}

func (h *harness) run(args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	r := &Runner{
		Stdin:  strings.NewReader(h.stdin),
		Stdout: &out,
		Stderr: &errb,
		Env:    h.env,
		Connect: func(ctx context.Context, cfg *config.Config, _ zerolog.Logger) (Conn, error) {
			h.cfg = cfg
			if h.connErr != nil {
				return Conn{}, h.connErr
			}
			return Conn{Client: h.fc, Schedules: h.schedules}, nil
		},
		ProgressEvery: time.Millisecond,
		NewID:         func(wt string) string { return kebab(wt) + "-test" },
	}
	code = r.Run(context.Background(), args)
	return code, out.String(), errb.String()
}
