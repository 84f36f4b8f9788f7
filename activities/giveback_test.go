package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// poolLog records, in order, the marks an execution stores and the
// release signals it sends.
type poolLog struct {
	client.Client
	mu     sync.Mutex
	events []string
	to     []string
	rel    []contract.PoolRelease
	fail   error
}

func (p *poolLog) add(e string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func (p *poolLog) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	if name != contract.SignalPoolRelease {
		return errors.New("unexpected signal " + name)
	}
	p.add("release")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.to = append(p.to, id)
	p.rel = append(p.rel, arg.(contract.PoolRelease))
	return p.fail
}

// Mark stores marks with the test environment's heartbeat, as heartbeatMarks.
func (p *poolLog) Mark(ctx context.Context, details any) error {
	activity.RecordHeartbeat(ctx, details)
	b, _ := json.Marshal(details)
	switch {
	case strings.Contains(string(b), `"released":true`):
		p.add("released-mark")
	case strings.Contains(string(b), `"sent":true`):
		p.add("sent-mark")
	default:
		p.add("mark " + string(b))
	}
	return nil
}

const testPool = "rpaflow-pool:cr:apitask"

// The execution gives its slot back right after the run ended: a
// non-idempotent one on its "sent" mark, which already keeps a retry from
// calling again; an idempotent one stores the "released" mark first.
func TestExecuteAPITaskGivesTheSlotBack(t *testing.T) {
	for _, idem := range []bool{false, true} {
		e := newAAEnv(t, aaSetup{})
		log := &poolLog{}
		e.cr.PoolClient, e.cr.Marks = log, log
		in := zipIn("95134")
		in.Idempotent, in.ReleasePool = idem, testPool
		res, err := execute(t, e, in)
		if err != nil {
			t.Fatal(err)
		}
		want := "sent-mark,release"
		if idem {
			want = "released-mark,release"
		}
		if got := strings.Join(log.events, ","); !res.Released || got != want || len(log.rel) != 1 || log.to[0] != testPool ||
			log.rel[0].Outcome != contract.ReleaseDone || log.rel[0].Holder.WorkflowID == "" {
			t.Errorf("idempotent %v: released %v, events %s, releases %+v to %v; want released, %s, one done to %s",
				idem, res.Released, got, log.rel, log.to, want, testPool)
		}
		// Unpooled, or the pool out of reach: nothing given back here.
		log = &poolLog{fail: errors.New("unavailable")}
		e.cr.PoolClient, e.cr.Marks = log, log
		if res, err := execute(t, e, in); err != nil || res.Released {
			t.Errorf("idempotent %v, pool unreachable: released %v, %v; want not released, no error", idem, res.Released, err)
		}
		in.ReleasePool = ""
		log = &poolLog{}
		e.cr.PoolClient, e.cr.Marks = log, log
		if res, err := execute(t, e, in); err != nil || res.Released || len(log.rel) != 0 {
			t.Errorf("idempotent %v, no pool: released %v, %d releases, %v", idem, res.Released, len(log.rel), err)
		}
	}
}

// loseFirst turns the first attempt's success into a retryable failure, as
// a worker that dies before reporting the completion does.
type loseFirst struct {
	interceptor.WorkerInterceptorBase
}

func (*loseFirst) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &loseFirstAct{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type loseFirstAct struct {
	interceptor.ActivityInboundInterceptorBase
}

func (l *loseFirstAct) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := l.Next.ExecuteActivity(ctx, in)
	if err == nil && activity.GetInfo(ctx).Attempt == 1 {
		return nil, errors.New("completion lost")
	}
	return res, err
}

// A retry after a lost completion never calls the Control Room without a
// slot: an idempotent one finds the "released" mark and asks the
// deployment to queue again; a non-idempotent one ends Ambiguous as ever.
func TestExecuteAPITaskRetryAfterGivingTheSlotBack(t *testing.T) {
	for _, c := range []struct {
		idem bool
		want contract.ErrorType
	}{{true, activities.ErrSlotGivenBack}, {false, contract.ErrAmbiguous}} {
		e := newAAEnv(t, aaSetup{})
		log := &poolLog{}
		e.cr.PoolClient, e.cr.Marks = log, log
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.RegisterActivity(e.cr)
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&loseFirst{}}})
		in := zipIn("95134")
		in.Idempotent, in.ReleasePool = c.idem, testPool
		env.ExecuteWorkflow(func(ctx workflow.Context) error {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
				RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3,
					NonRetryableErrorTypes: contract.NonRetryableTypes(c.idem)}})
			return workflow.ExecuteActivity(ctx, e.cr.AAExecuteAPITask, in).Get(ctx, nil)
		})
		err := env.GetWorkflowError()
		if !contract.IsType(err, c.want) {
			t.Errorf("idempotent %v: %v, want %s", c.idem, err, c.want)
		}
		if n := e.sim.Counters().Get("execute"); n != 1 || len(log.rel) != 1 {
			t.Errorf("idempotent %v: %d executions, %d releases; want 1 and 1", c.idem, n, len(log.rel))
		}
	}
}
