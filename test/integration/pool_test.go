package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/test/teststack"
)

// TestAPITaskPoolTwoWorkers: 20 API Tasks at once against a Control Room
// licensed for two sessions, served by two workers sharing the pool
// apitask=2: none is refused, all succeed, never more than two run.
func TestAPITaskPoolTwoWorkers(t *testing.T) {
	aa := aasim.DefaultOptions()
	aa.APITaskSessions = 2
	aa.APITasks[0].ConcurrencyLimit = 20 // the licence is what binds
	aa.APITasks[0].Latency = 500 * time.Millisecond
	extra := map[string]string{"RPAFLOW_CR_POOLS": "apitask=2"}
	a := newStack(t, stackOptions{Sims: simenv.Options{AA: &aa}, Extra: extra})
	a.secondWorker(extra, "RPAFLOW_CR_URL")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n = 20
	start := time.Now()
	a.runAll(ctx, contract.DeployAPITaskWorkflow, "pool-it", n, func(i int) any {
		return contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: aasim.ZipCodeTaskPath,
			BotInput:  map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)},
			Admission: &contract.Admission{FairnessKey: fmt.Sprintf("caller-%d", i%3)}}
	})
	took := time.Since(start)
	sims := a.Sims.AA
	if r := sims.Counters().Get("execute.rejected"); r != 0 {
		t.Errorf("%d executions refused by the Control Room, want 0", r)
	}
	if p := sims.PeakExecutions(); p != 2 {
		t.Errorf("peak executions %d, want 2 (the pool's limit and the licence)", p)
	}
	st, err := queryPool(ctx, a.Client, "cr", contract.PoolAPITask)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts.Granted != n || st.InUse != 0 || st.Waiting != 0 || st.Counts.Refused != 0 {
		t.Errorf("pool status %+v: want %d granted, none in use, waiting or refused", st, n)
	}
	t.Logf("%d API Tasks through a pool of 2 on two workers in %s", n, took.Round(time.Millisecond))
	_ = a.Client.TerminateWorkflow(context.Background(), contract.PoolID("cr", contract.PoolAPITask), "", "test done")
}

// secondWorker starts another worker beside s's: the same namespace, task
// queue, codec key and extra environment, and the same simulator (urlVar is
// the profile's URL variable), so both share the profile's sessions, pools
// and budgets.
func (s *stack) secondWorker(extra map[string]string, urlVar string) {
	s.t.Helper()
	env := maps.Clone(extra)
	env[urlVar] = s.SimURL
	env["RPAFLOW_CODEC_KEY"] = base64.StdEncoding.EncodeToString(s.Config.Codec.Key)
	b, err := teststack.Start(teststack.Options{HostPort: devServer.FrontendHostPort(), Namespace: s.Namespace, TaskQueue: s.TaskQueue,
		KeyID: "it", LogLevel: "info", Extra: env, Logs: s.Logs})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = b.Stop() })
}

// runAll starts n workflows of one type at once (IDs idPrefix-0 on, inputs
// from input) and fails the test for each that does not succeed.
func (s *stack) runAll(ctx context.Context, workflow, idPrefix string, n int, input func(i int) any) {
	s.t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", idPrefix, i), TaskQueue: s.TaskQueue},
				workflow, input(i))
			if err == nil {
				err = run.Get(ctx, nil)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			s.t.Errorf("%s %s-%d: %v", workflow, idPrefix, i, err)
		}
	}
}

func queryPool(ctx context.Context, c client.Client, profile, pool string) (contract.PoolStatus, error) {
	var st contract.PoolStatus
	v, err := c.QueryWorkflow(ctx, contract.PoolID(profile, pool), "", contract.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// TestTenantBudgetTwoWorkers: job status polls of two workers share the
// tenant's budget, so an Orchestrator that refuses job reads beyond 60 a
// minute never answers 429.
func TestTenantBudgetTwoWorkers(t *testing.T) {
	oo := orchsim.DefaultOptions()
	oo.JobReadsPerMinute = 60
	extra := map[string]string{"RPAFLOW_ORCH_TENANT_BUDGET_PER_MINUTE": "60", "RPAFLOW_POLL_BUDGET_PER_MINUTE": "600"}
	a := newStack(t, stackOptions{Sims: simenv.Options{Orchestrator: &oo}, Extra: extra})
	a.secondWorker(extra, "RPAFLOW_ORCH_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n = 8
	a.runAll(ctx, contract.StartJobWorkflow, "budget-it", n, func(int) any {
		return contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"}
	})
	c := a.Sims.Orchestrator.Counters()
	if th := c.Get("job.get.throttled"); th != 0 {
		t.Errorf("%d job reads answered 429, want 0", th)
	}
	// Every read drew a permit from the one budget both workers share.
	var st contract.BudgetState
	v, err := a.Client.QueryWorkflow(ctx, contract.BudgetID("orch"), "", contract.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	if err != nil {
		t.Fatal(err)
	}
	if reads := c.Get("job.get"); reads < n || st.Granted < reads || st.PerMinute != 60 {
		t.Errorf("%d job reads for %d jobs, %d permits granted (budget %d/min): every read must draw one", reads, n, st.Granted, st.PerMinute)
	}
	_ = a.Client.TerminateWorkflow(context.Background(), contract.BudgetID("orch"), "", "test done")
}

// TestFolderPoolStartJobs: the folder has two robots and the pool
// Shared=2, so six jobs at once never wait Pending for a robot at
// Orchestrator: they wait in the pool, in order, and all succeed.
func TestFolderPoolStartJobs(t *testing.T) {
	oo := orchsim.DefaultOptions()
	oo.Folders[0].Robots = 2
	s := newStack(t, stackOptions{Sims: simenv.Options{Orchestrator: &oo}, Extra: map[string]string{"RPAFLOW_ORCH_POOLS": "Shared=2"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 6
	s.runAll(ctx, contract.StartJobWorkflow, "folder-pool", n, func(int) any {
		return contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"}
	})
	c := s.Sims.Orchestrator.Counters()
	if p := c.Get("jobs.pending.norobot"); p != 0 || c.Get("startJobs") != n {
		t.Errorf("%d of %d jobs waited Pending for a robot at Orchestrator (want 0); %d starts", p, n, c.Get("startJobs"))
	}
	st, err := queryPool(ctx, s.Client, "orch", "Shared")
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts.Granted != n || st.InUse != 0 {
		t.Errorf("pool status %+v, want %d granted and none in use", st, n)
	}
	_ = s.Client.TerminateWorkflow(context.Background(), contract.PoolID("orch", "Shared"), "", "test done")
}

// TestFolderPoolShrinksOnPendingJobs: the pool Shared=3 thinks the folder
// has three robots, but it has two. The job Orchestrator leaves Pending
// (RobotBusy) tells the pool, which shrinks; that job keeps its slot and
// runs once a robot frees: every job succeeds, none is started twice.
func TestFolderPoolShrinksOnPendingJobs(t *testing.T) {
	oo := orchsim.DefaultOptions()
	oo.Folders[0].Robots = 2
	oo.Folders[0].Releases[0].Running = 4 * time.Second // long enough for a poll to see the third job wait
	s := newStack(t, stackOptions{Sims: simenv.Options{Orchestrator: &oo}, Extra: map[string]string{"RPAFLOW_ORCH_POOLS": "Shared=3"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 4
	s.runAll(ctx, contract.StartJobWorkflow, "pending-pool", n, func(int) any {
		return contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"}
	})
	c := s.Sims.Orchestrator.Counters()
	st, err := queryPool(ctx, s.Client, "orch", "Shared")
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("startJobs") != n || s.Sims.Orchestrator.Jobs() != n || st.Counts.Pending < 1 || st.Counts.Granted != n ||
		st.InUse != 0 || st.PlatformPending != 0 {
		t.Errorf("%d starts, %d jobs (want %d each); pool %+v: want at least one pending answer, %d granted, none held",
			c.Get("startJobs"), s.Sims.Orchestrator.Jobs(), n, st, n)
	}
	t.Logf("%d jobs, pool Shared=3 on a folder of 2 robots: %d waited Pending at Orchestrator, %d pending answers, effective limit %d at the end",
		n, c.Get("jobs.pending.norobot"), st.Counts.Pending, st.Effective)
	_ = s.Client.TerminateWorkflow(context.Background(), contract.PoolID("orch", "Shared"), "", "test done")
}
