package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/workflows"
)

// Retries need attempt numbers and heartbeat details carried between
// attempts, which only the workflow test environment provides (the activity
// environment always runs attempt 1), so these run the real DeployAPITask
// workflow with its retry policy around the real activity.
func runDeployAPITask(t *testing.T, e *aaEnv, zip string) (contract.DeployAPITaskResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.DeployAPITask)
	env.RegisterActivity(e.cr)
	env.ExecuteWorkflow(workflows.DeployAPITask, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: aasim.ZipCodeTaskPath,
		BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"` + zip + `"`)}})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res contract.DeployAPITaskResult
	if err := env.GetWorkflowError(); err != nil {
		return res, err
	}
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

// A 429 means the Control Room refused the execution, so the retry Temporal
// schedules after Retry-After must execute, not give up as Ambiguous.
func TestThrottledExecutionIsRetriedAndRuns(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	holderDone := make(chan struct{})
	var once sync.Once
	e := newAAEnv(t, aaSetup{
		sim: blockFirst(started, release),
		// Free the slot before the 429 reaches the activity, so the retry
		// finds it free whatever the (skipped) retry delay.
		wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := &statusWriter{ResponseWriter: w}
				h.ServeHTTP(rec, r)
				if rec.status == http.StatusTooManyRequests {
					once.Do(func() { close(release); <-holderDone })
				}
			})
		},
	})
	go func() {
		defer close(holderDone)
		if _, err := execute(t, e, zipIn("60601")); err != nil {
			t.Errorf("slot holder: %v", err)
		}
	}()
	<-started
	res, err := runDeployAPITask(t, e, "95134")
	if err != nil {
		t.Fatalf("throttled execution was not retried: %v", err)
	}
	if res.BotOutput["State"] != "California" {
		t.Errorf("output = %+v", res.BotOutput)
	}
	c := e.sim.Counters()
	if c.Get("execute.rejected") != 1 || c.Get("execute") != 3 {
		t.Errorf("rejected %d, executions %d; want 1 rejected and 3 requests (holder, throttled, retry)",
			c.Get("execute.rejected"), c.Get("execute"))
	}
}

// A retried attempt whose previous attempt heartbeated "sent" and then
// failed with an unknown outcome must not execute again.
func TestRetryAfterSentIsAmbiguousWithoutExecuting(t *testing.T) {
	var runs atomic.Int32
	e := newAAEnv(t, aaSetup{sim: func(o *aasim.Options) {
		o.APITasks[0].Run = func(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
			if runs.Add(1) == 1 {
				return nil, errors.New("bot runner crashed") // a 500: the task ran, its outcome is unknown
			}
			return map[string]botvalue.Value{"State": botvalue.Str("again")}, nil
		}
	}})
	_, err := runDeployAPITask(t, e, "95134")
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || contract.ErrorType(app.Type()) != contract.ErrAmbiguous {
		t.Fatalf("workflow error = %v, want Ambiguous", err)
	}
	if !strings.Contains(app.Error(), "earlier attempt was about to send the API Task execute request at ") ||
		!strings.Contains(app.Error(), "or that attempt may have ended before the request left") || !strings.Contains(app.Error(), "To check by hand") {
		t.Errorf("error does not explain why it stopped: %v", app)
	}
	if got := e.sim.Counters().Get("execute"); got != 1 {
		t.Errorf("executions = %d, want 1: a non-idempotent task ran again", got)
	}
	if info, ok := contract.InfoOf(err); !ok || info.SentAt == nil || info.Op != "execute" {
		t.Errorf("error info = %+v, want the op and when it was sent", info)
	}
	if got := e.sessions.count(contract.UpdateAccessDetails); got != 1 {
		t.Errorf("access-details updates = %d, want 1 (the second attempt stops before asking)", got)
	}
}

// lostAcks stores every mark, as a Temporal server does that writes a
// heartbeat and then fails to answer (a deadline, a cut connection), and
// loses the acknowledgement of the first `first` marks, or of every mark
// of the first `attempts` attempts.
type lostAcks struct {
	first, attempts int32
	calls           atomic.Int32
}

func (l *lostAcks) Mark(ctx context.Context, details any) error {
	activity.RecordHeartbeat(ctx, details)
	if l.calls.Add(1) <= l.first || activity.GetInfo(ctx).Attempt <= l.attempts {
		return context.DeadlineExceeded
	}
	return nil
}

// A "sent" mark the server stored but whose acknowledgement was lost must
// not make the retry end Ambiguous: nothing was sent. The attempt asks
// again and sends once it is acknowledged, or clears the mark when it gives
// up, so the task runs exactly once either way.
func TestSentMarkAckLostStillRunsOnce(t *testing.T) {
	activities.PaceMarks(t, 10*time.Millisecond, 200*time.Millisecond)
	for _, tc := range []struct {
		name  string
		marks *lostAcks
	}{
		{"asked again in the same attempt", &lostAcks{first: 1}},
		{"every ack of the first attempt lost", &lostAcks{attempts: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAAEnv(t, aaSetup{})
			e.cr.Marks = tc.marks
			res, err := runDeployAPITask(t, e, "95134")
			if err != nil {
				t.Fatalf("workflow error = %v, want the task run once", err)
			}
			if res.BotOutput["State"] != "California" {
				t.Errorf("output = %+v", res.BotOutput)
			}
			if got := e.sim.Counters().Get("execute"); got != 1 {
				t.Errorf("executions = %d, want 1", got)
			}
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	w.status = s
	w.ResponseWriter.WriteHeader(s)
}
