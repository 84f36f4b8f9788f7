package activities_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// lostAnswer sits in front of a simulator and loses the answer to the
// first `times` requests that match: the platform acts on each (act) or
// never sees it, and the client gets a cut connection after sending
// (status 0) or a gateway's status instead of the answer.
type lostAnswer struct {
	match  func(*http.Request) bool
	act    bool
	status int
	times  int32
	hits   atomic.Int32
}

func (f *lostAnswer) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.match(r) || f.hits.Add(1) > f.times {
			next.ServeHTTP(w, r)
			return
		}
		if f.act {
			next.ServeHTTP(httptest.NewRecorder(), r)
		} else {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		if f.status != 0 {
			http.Error(w, "the upstream gave no answer", f.status)
			return
		}
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
	})
}

func isStartJobs(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, ".StartJobs") }
func isDeploy(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/v4/automations/deploy"
}

var startJobIn = contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"}

func deployIn() activities.DeployInput {
	return activities.DeployInput{DeployBotInput: contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID,
		RunAsUserIDs: []int64{aasim.DemoUserID}, BotInput: map[string]json.RawMessage{"sInput1": json.RawMessage(`"x"`)}}}
}

// activityEnvLogged is an activity environment whose log l keeps.
func activityEnvLogged(l *recLogger, act any) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(l)
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(act)
	return env
}

func logged(l *recLogger, text string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, text) {
			return true
		}
	}
	return false
}

// attemptErrors records each activity attempt's error.
type attemptErrors struct {
	interceptor.WorkerInterceptorBase
	mu   sync.Mutex
	errs []error
}

func (a *attemptErrors) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &attemptError{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, root: a}
}

type attemptError struct {
	interceptor.ActivityInboundInterceptorBase
	root *attemptErrors
}

func (a *attemptError) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	a.root.mu.Lock()
	defer a.root.mu.Unlock()
	a.root.errs = append(a.root.errs, err)
	return res, err
}

// retried runs act (an activity method) in a workflow with retries, as a
// worker would, and returns its result and each attempt's error.
func retried(t *testing.T, l *recLogger, impl, act any, in any, out any) []error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(l)
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(impl)
	rec := &attemptErrors{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
	wf := func(ctx workflow.Context) (json.RawMessage, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3,
				NonRetryableErrorTypes: contract.NonRetryableTypes(false)}})
		var res json.RawMessage
		err := workflow.ExecuteActivity(ctx, act, in).Get(ctx, &res)
		return res, err
	}
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "retried"})
	env.ExecuteWorkflow("retried")
	rec.mu.Lock()
	errs := rec.errs
	rec.mu.Unlock()
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow: %v (attempts' errors: %v)", err, errs)
	}
	var raw json.RawMessage
	if err := env.GetWorkflowResult(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
	return errs
}

// A StartJobs whose answer is lost after Orchestrator created the job: the
// same attempt finds the job by its reference and adopts it.
func TestStartJobAnswerLostIsAdoptedInTheSameAttempt(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
	}{{"connection cut", 0}, {"gateway timeout", http.StatusGatewayTimeout}, {"bad gateway", http.StatusBadGateway}} {
		t.Run(c.name, func(t *testing.T) {
			f := &lostAnswer{match: isStartJobs, act: true, status: c.status, times: 1}
			o := newOrchEnvWrapped(t, time.Millisecond, &activities.Budget{PerMinute: 60000}, f.wrap)
			o.orch.Lookups.Backoff = 5 * time.Millisecond
			logs := &recLogger{}
			val, err := activityEnvLogged(logs, o.orch).ExecuteActivity(o.orch.OrchStartJob, startJobIn)
			if err != nil {
				t.Fatal(err)
			}
			var job activities.JobRef
			if err := val.Get(&job); err != nil {
				t.Fatal(err)
			}
			if !job.Adopted || job.ID == 0 || o.sim.Jobs() != 1 || o.sim.Counters().Get("startJobs") != 1 {
				t.Errorf("job %+v, jobs on the platform %d, StartJobs calls %d; want the one job, adopted", job, o.sim.Jobs(), o.sim.Counters().Get("startJobs"))
			}
			if !logged(logs, "attempt 1 found the job its own request started") {
				t.Errorf("no adoption log line: %q", logs.lines)
			}
		})
	}
}

// A StartJobs whose answer is lost before Orchestrator created anything:
// the attempt's look-ups find no job, so it fails retryable, and the next
// attempt (looking once more) starts the one job.
func TestStartJobAnswerLostNotFoundStartsOnTheNextAttempt(t *testing.T) {
	f := &lostAnswer{match: isStartJobs, times: 1}
	o := newOrchEnvWrapped(t, time.Millisecond, &activities.Budget{PerMinute: 60000}, f.wrap)
	o.orch.Lookups.Backoff = 5 * time.Millisecond
	var job activities.JobRef
	errs := retried(t, &recLogger{}, o.orch, o.orch.OrchStartJob, startJobIn, &job)
	if len(errs) != 2 || errs[1] != nil {
		t.Fatalf("attempts' errors %v; want a failed first attempt and a second that started the job", errs)
	}
	first := wantClass(t, errs[0], contract.ErrUnavailable)
	if !strings.Contains(first.Error(), "found no job with reference") || !strings.Contains(first.Error(), "the next attempt") {
		t.Errorf("first attempt's error does not say what it found and what happens next: %v", first)
	}
	c := o.sim.Counters()
	if job.Adopted || job.ID == 0 || o.sim.Jobs() != 1 || f.hits.Load() != 2 || c.Get("jobs.list") != 4 {
		t.Errorf("job %+v; jobs %d, StartJobs sent %d, reference look-ups %d; want one job started by the second attempt after 3+1 look-ups",
			job, o.sim.Jobs(), f.hits.Load(), c.Get("jobs.list"))
	}
}

// A deploy whose answer is lost after the Control Room made the
// deployment: the same attempt finds it by its automation name.
func TestDeployAnswerLostIsAdoptedInTheSameAttempt(t *testing.T) {
	f := &lostAnswer{match: isDeploy, act: true, times: 1}
	e := newAAEnv(t, aaSetup{wrap: f.wrap})
	e.cr.Lookups.Backoff = 5 * time.Millisecond
	logs := &recLogger{}
	val, err := activityEnvLogged(logs, e.cr).ExecuteActivity(e.cr.AADeployBot, deployIn())
	if err != nil {
		t.Fatal(err)
	}
	var dep activities.Deployment
	if err := val.Get(&dep); err != nil {
		t.Fatal(err)
	}
	names := e.sim.AutomationNames()
	if !dep.Adopted || dep.ID == "" || len(names) != 1 || e.sim.Counters().Get("deploy") != 1 {
		t.Errorf("deployment %+v; deployments by name %v; want the one deployment, adopted", dep, names)
	}
	if !logged(logs, "attempt 1 found the deployment its own request started") {
		t.Errorf("no adoption log line: %q", logs.lines)
	}
}

// A deploy whose answer is lost and that the activity list does not show:
// no proof it was not made, so Ambiguous with what to check, never a
// second deploy.
func TestDeployAnswerLostNotListedIsAmbiguous(t *testing.T) {
	f := &lostAnswer{match: isDeploy, times: 1}
	e := newAAEnv(t, aaSetup{wrap: f.wrap})
	e.cr.Lookups.Backoff = 5 * time.Millisecond
	_, err := e.activityEnv(t).ExecuteActivity(e.cr.AADeployBot, deployIn())
	app := wantClass(t, err, contract.ErrAmbiguous)
	info, _ := contract.InfoOf(app)
	for _, want := range []string{"answer was lost", "3 look-ups", "\"rpaflow.default-test-workflow-id.", "To check by hand", "start the workflow again"} {
		if !strings.Contains(app.Error(), want) {
			t.Errorf("error lacks %q: %v", want, app)
		}
	}
	c := e.sim.Counters()
	if info.SentAt == nil || f.hits.Load() != 1 || c.Get("deploy") != 0 || c.Get("activity.list") != 3 {
		t.Errorf("sentAt %v, deploys sent %d, made %d, list reads %d; want the time sent, one deploy sent, three reads",
			info.SentAt, f.hits.Load(), c.Get("deploy"), c.Get("activity.list"))
	}
}

// A deploy answered 502 that the list does not show: retried, and the next
// attempt, finding the "sent" mark, looks until the list's lag has passed,
// then deploys (once).
func TestDeployRetryNotListedDeploysAgain(t *testing.T) {
	f := &lostAnswer{match: isDeploy, status: http.StatusBadGateway, times: 1}
	e := newAAEnv(t, aaSetup{wrap: f.wrap})
	e.cr.Lookups = activities.Lookups{Backoff: 5 * time.Millisecond, ListGrace: 300 * time.Millisecond}
	logs := &recLogger{}
	var dep activities.Deployment
	errs := retried(t, logs, e.cr, e.cr.AADeployBot, deployIn(), &dep)
	if len(errs) != 2 || errs[1] != nil {
		t.Fatalf("attempts' errors %v; want a failed first attempt and a second that deployed", errs)
	}
	wantClass(t, errs[0], contract.ErrUnavailable)
	names := e.sim.AutomationNames()
	if dep.Adopted || dep.ID == "" || len(names) != 1 || f.hits.Load() != 2 || e.sim.Counters().Get("deploy") != 1 {
		t.Errorf("deployment %+v; by name %v; deploys sent %d; want one deployment by the second attempt", dep, names, f.hits.Load())
	}
	if !logged(logs, "no deployment carries its automation name; deploying") {
		t.Errorf("the retry did not say it deploys again: %q", logs.lines)
	}
}
