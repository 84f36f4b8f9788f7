package activities_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/session"
)

func orchActivityEnv(o *orchEnv) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(o.orch)
	return env
}

func TestStartJobThenWaitJob(t *testing.T) {
	// Each job read moves Orchestrator time by 300 ms: Pending 0.5 s and
	// Running 2 s make the job final on the ninth read (2.7 s).
	o := newOrchEnv(t, 300*time.Millisecond, &activities.Budget{PerMinute: 60000})
	env := orchActivityEnv(o)
	val, err := env.ExecuteActivity(o.orch.OrchStartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared",
		Process: "Invoices", InputArguments: map[string]any{"count": 3}})
	if err != nil {
		t.Fatal(err)
	}
	var job activities.JobRef
	if err := val.Get(&job); err != nil {
		t.Fatal(err)
	}
	if job.ID == 0 || job.Key == "" || job.Folder != "Shared" || job.FolderID != 1 {
		t.Errorf("job = %+v", job)
	}
	val, err = env.ExecuteActivity(o.orch.OrchWaitJob, activities.WaitJobInput{Profile: "orch", Job: job,
		PollInitial: 5 * time.Millisecond, PollMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.StartJobResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.State != "Successful" || res.ID != job.ID || res.OutputArguments["count"] != float64(3) {
		t.Errorf("result = %+v", res)
	}
	c := o.sim.Counters()
	if c.Get("job.get") != 9 || c.Get("jobs.list") != 0 || c.Get("startJobs") != 1 || c.Get("token") != 1 {
		t.Errorf("job reads %d, list reads %d, starts %d, tokens %d; want 9 by id, 0 list, 1, 1",
			c.Get("job.get"), c.Get("jobs.list"), c.Get("startJobs"), c.Get("token"))
	}
}

func TestAddQueueItemDuplicateReference(t *testing.T) {
	o := newOrchEnv(t, time.Second, nil)
	env := orchActivityEnv(o)
	in := contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: "PO-1",
		SpecificContent: map[string]any{"amount": 12}}
	var first, second contract.AddQueueItemResult
	val, err := env.ExecuteActivity(o.orch.OrchAddQueueItem, in)
	if err != nil {
		t.Fatal(err)
	}
	_ = val.Get(&first)
	if first.Duplicate || first.ID == 0 || first.Status != "New" {
		t.Errorf("first add = %+v", first)
	}
	val, err = env.ExecuteActivity(o.orch.OrchAddQueueItem, in)
	if err != nil {
		t.Fatalf("a duplicate reference failed the activity: %v", err)
	}
	_ = val.Get(&second)
	if !second.Duplicate || second.Reference != "PO-1" {
		t.Errorf("second add = %+v, want Duplicate for reference PO-1", second)
	}
	if got := o.sim.Counters().Get("addQueueItem.duplicate"); got != 1 {
		t.Errorf("duplicates seen by Orchestrator = %d, want 1", got)
	}
}

func TestMissingFolderIsNotFound(t *testing.T) {
	o := newOrchEnv(t, time.Second, nil)
	env := orchActivityEnv(o)
	_, err := env.ExecuteActivity(o.orch.OrchAddQueueItem, contract.AddQueueItemInput{Profile: "orch", Folder: "Nowhere", Queue: "Orders"})
	app := wantClass(t, err, contract.ErrNotFound)
	if !strings.Contains(app.Error(), "Nowhere") || !strings.Contains(app.Error(), "known folders: Finance/Invoices, Shared") {
		t.Errorf("error does not name the folder and the known ones: %v", app)
	}
	_, err = env.ExecuteActivity(o.orch.OrchStartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "NoSuchProcess"})
	wantClass(t, err, contract.ErrNotFound)
	if got := o.sim.Counters().Get("startJobs"); got != 0 {
		t.Errorf("jobs started = %d, want 0", got)
	}
}

func TestOrchestratorRevokedTokenIsRenewedOnce(t *testing.T) {
	o := newOrchEnv(t, time.Second, nil)
	env := orchActivityEnv(o)
	if _, err := o.sessions.Token(context.Background(), session.Ref{Profile: "orch"}, 0); err != nil {
		t.Fatal(err)
	}
	// The session's cached token expires (1 h lifetime) without the session noticing.
	o.clock.Advance(2 * time.Hour)
	_, err := env.ExecuteActivity(o.orch.OrchAddQueueItem, contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: "PO-9"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.sessions.invalidations(); len(got) != 1 || got[0] != 1 {
		t.Errorf("invalidate reports = %v, want [1]", got)
	}
}

// The budget is per profile: with one call a minute, a second call on the
// same profile cannot fit a 2 s deadline (the limiter says so at once),
// while another profile is not held back.
func TestBudgetPerProfile(t *testing.T) {
	b := &activities.Budget{PerMinute: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	passed := map[string]int{}
	for i := 0; i < 5; i++ {
		for _, p := range []string{"a", "b"} {
			if b.Wait(ctx, p) == nil {
				passed[p]++
			}
		}
	}
	if passed["a"] != 1 || passed["b"] != 1 {
		t.Errorf("passed = %v, want one call per profile within the interval", passed)
	}
	if ctx.Err() != nil {
		t.Error("the waits slept instead of refusing what cannot fit the deadline")
	}

	// The zero value allows 60 a minute: the second call needs about a second.
	var z activities.Budget
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	if err := z.Wait(ctx2, "a"); err != nil {
		t.Fatal(err)
	}
	if err := z.Wait(ctx2, "a"); err == nil {
		t.Error("zero Budget allowed two calls within 500 ms")
	}

	// Concurrent waiters share one limiter per profile.
	c := &activities.Budget{PerMinute: 1}
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Wait(ctx, "shared") == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 20 concurrent waits passed, want 1", ok)
	}

	var nilBudget *activities.Budget
	if err := nilBudget.Wait(context.Background(), "a"); err != nil {
		t.Errorf("nil budget: %v", err)
	}
}

func TestRegistryMessages(t *testing.T) {
	reg := activities.NewRegistry()
	c, err := aa.New(aa.Options{BaseURL: "https://cr.example.com", Username: "u", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	reg.AddAA("cr", c)
	reg.AddAA("cr-eu", c)
	oc, err := orchestrator.New(orchestrator.Options{BaseURL: "https://cloud.uipath.com", Organization: "o", Tenant: "t", ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	reg.AddOrchestrator("orch", oc)

	if got, err := reg.AA("cr-eu"); err != nil || got != c {
		t.Errorf("AA(cr-eu) = %v, %v", got, err)
	}
	_, err = reg.AA("crx")
	app := wantClass(t, err, contract.ErrInvalidInput)
	for _, want := range []string{`"crx"`, "known automationanywhere profiles: cr, cr-eu", "RPAFLOW_PROFILES"} {
		if !strings.Contains(app.Error(), want) {
			t.Errorf("unknown profile message %q lacks %q", app.Error(), want)
		}
	}
	if !app.NonRetryable() {
		t.Error("unknown profile is retryable")
	}
	_, err = reg.Orchestrator("cr")
	app = wantClass(t, err, contract.ErrInvalidInput)
	for _, want := range []string{`"cr" is configured with kind automationanywhere`, "needs kind uipath-orchestrator", "known uipath-orchestrator profiles: orch"} {
		if !strings.Contains(app.Error(), want) {
			t.Errorf("wrong kind message %q lacks %q", app.Error(), want)
		}
	}
	_, err = reg.Hub("orch")
	if app := wantClass(t, err, contract.ErrInvalidInput); !strings.Contains(app.Error(), "known uipath-automationhub profiles: (none)") {
		t.Errorf("no hub profiles: %v", app)
	}
}

// Job reads that wait for the budget together are one call: six waits of
// ended jobs queued behind a spent budget are answered by one $filter
// read when the next permit comes.
func TestOrchCheckJobBatches(t *testing.T) {
	budget := &activities.Budget{PerMinute: 60} // one a second
	o := newOrchEnv(t, 0, budget)
	var jobs []activities.JobRef
	for range 6 {
		jobs = append(jobs, startJob(t, o, "Invoices", ""))
	}
	o.clock.Advance(time.Hour) // every job has ended
	if err := budget.Wait(context.Background(), "orch"); err != nil {
		t.Fatal(err)
	}
	results := make([]activities.Check[contract.StartJobResult], len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			val, err := orchActivityEnv(o).ExecuteActivity(o.orch.OrchCheckJob, activities.WaitJobInput{Profile: "orch", Job: job, Event: i%2 == 0})
			if err == nil {
				err = val.Get(&results[i])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil || !r.Done || r.Result.ID != jobs[i].ID || r.State != "Successful" {
			t.Errorf("job %d: %+v, %v; want it read Successful", jobs[i].ID, r, errs[i])
		}
	}
	c := o.sim.Counters()
	if c.Get("jobs.list") != 1 || c.Get("job.get") != 0 {
		t.Errorf("%d list reads and %d reads by id for 6 jobs; want one list read", c.Get("jobs.list"), c.Get("job.get"))
	}
}

// Routine reads that come within each other's Gather are one call, even
// with the budget free; without Gather each is a call of its own.
func TestOrchCheckJobGathers(t *testing.T) {
	for _, gather := range []time.Duration{0, time.Second} {
		o := newOrchEnv(t, 0, &activities.Budget{PerMinute: 60000})
		var jobs []activities.JobRef
		for range 3 {
			jobs = append(jobs, startJob(t, o, "Invoices", ""))
		}
		o.clock.Advance(time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, len(jobs))
		for i, job := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c activities.Check[contract.StartJobResult]
				val, err := orchActivityEnv(o).ExecuteActivity(o.orch.OrchCheckJob, activities.WaitJobInput{Profile: "orch", Job: job, Gather: gather})
				if err == nil {
					err = val.Get(&c)
				}
				if err == nil && (!c.Done || c.Result.ID != job.ID) {
					err = fmt.Errorf("read %+v", c)
				}
				errs[i] = err
			}()
			time.Sleep(100 * time.Millisecond)
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		c := o.sim.Counters()
		calls := c.Get("jobs.list") + c.Get("job.get")
		if gather > 0 && (calls != 1 || c.Get("jobs.list") != 1) || gather == 0 && calls != 3 {
			t.Errorf("gather %s: %d list reads and %d reads by id for 3 jobs", gather, c.Get("jobs.list"), c.Get("job.get"))
		}
	}
}

// A job Orchestrator leaves Pending because the folder's only robot is
// busy ends a wait that asked to hear of it, with the pending reason, and
// a reconciliation read names the reason; a wait that did not ask waits on.
func TestWaitJobReportsPendingForCapacity(t *testing.T) {
	o := newOrchEnvWith(t, 300*time.Millisecond, &activities.Budget{PerMinute: 60000}, func(so *orchsim.Options) { so.Folders[0].Robots = 1 })
	env := orchActivityEnv(o)
	startJob(t, o, "LongRunning", "") // takes the robot for an hour
	job := startJob(t, o, "Invoices", "")
	val, err := env.ExecuteActivity(o.orch.OrchWaitJob, activities.WaitJobInput{Profile: "orch", Job: job, ReportNoCapacity: true,
		PollInitial: 5 * time.Millisecond, PollMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.StartJobResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.State != "Pending" || res.Info != "RobotBusy" || res.ID != job.ID {
		t.Errorf("wait reporting capacity: %+v, want Pending with reason RobotBusy", res)
	}
	val, err = env.ExecuteActivity(o.orch.OrchCheckJob, activities.WaitJobInput{Profile: "orch", Job: job})
	if err != nil {
		t.Fatal(err)
	}
	var c activities.Check[contract.StartJobResult]
	if err := val.Get(&c); err != nil {
		t.Fatal(err)
	}
	if c.Done || c.State != "Pending" || c.NoCapacity != "RobotBusy" {
		t.Errorf("check: %+v, want Pending for capacity (RobotBusy)", c)
	}
	if n := o.sim.Counters().Get("startJobs"); n != 2 {
		t.Errorf("%d starts, want 2 (the pending job is not started again)", n)
	}
}
