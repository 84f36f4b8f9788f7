package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// fakePool answers the acquire (the local activity's signal, or the
// update activity of runs from before it), grants at once by signal what
// granted says, and records releases.
type fakePool struct {
	mu       sync.Mutex
	acquires []activities.PoolAcquireInput
	releases []contract.PoolRelease
	granted  func(n int) bool // whether acquire n (0-based) is granted at once
	// releasedTo and releasedAt: the pool workflow and time of the last release.
	releasedTo string
	releasedAt time.Time
}

func newFakePool(env *testsuite.TestWorkflowEnvironment, granted func(n int) bool) *fakePool {
	f := &fakePool{granted: granted}
	env.RegisterActivity(&activities.Pools{})
	record := func(in activities.PoolAcquireInput) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := len(f.acquires)
		f.acquires = append(f.acquires, in)
		return f.granted(n)
	}
	env.OnActivity(pools.PoolAcquire, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PoolAcquireInput) (activities.PoolAcquireResult, error) {
			return activities.PoolAcquireResult{PoolAcquireResult: contract.PoolAcquireResult{Granted: record(in), Position: 3},
				PoolWorkflowID: contract.PoolID(in.Profile, in.Pool.Name)}, nil
		}).Maybe()
	env.OnActivity(pools.PoolAcquireSignal, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PoolAcquireInput) error {
			if record(in) {
				env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: in.Pool.Name, Round: in.Round})
			}
			return nil
		}).Maybe()
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", contract.SignalPoolRelease, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.releases = append(f.releases, arg.(contract.PoolRelease))
			f.releasedTo, f.releasedAt = id, env.Now()
			return nil
		})
	return f
}

var crPools = &Deployments{Pools: map[string][]contract.PoolConfig{"cr": {{Name: "apitask", Limit: 2}, {Name: "runners", Limit: 4}, {Name: "fast", Limit: 1}}}}

func apiTask(adm *contract.Admission) contract.DeployAPITaskInput {
	return contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: `Automation Anywhere\Bots\Zip`, Admission: adm}
}

func TestDeployAPITaskWithoutPoolMakesNoPoolCall(t *testing.T) {
	env := newEnv(t)
	env.RegisterActivity(&activities.Pools{})
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(activities.ExecuteResult{}, nil).Once()
	// Another profile's pools do not apply to cr.
	d := &Deployments{Pools: map[string][]contract.PoolConfig{"other": {{Name: "apitask", Limit: 1}}}}
	env.ExecuteWorkflow(d.DeployAPITask, apiTask(&contract.Admission{Priority: 1}))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	env.AssertNotCalled(t, "PoolAcquire", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "PoolAcquireSignal", mock.Anything, mock.Anything)
}

func TestDeployAPITaskPooledHoldsSlotAroundExecute(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(int) bool { return true })
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ExecuteInput) (activities.ExecuteResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.acquires) != 1 || len(f.releases) != 0 {
				t.Errorf("execute ran with %d acquires and %d releases; want it between one acquire and the release", len(f.acquires), len(f.releases))
			}
			return activities.ExecuteResult{}, nil
		}).Once()
	env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(&contract.Admission{Priority: 2, FairnessKey: "orders"}))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	a := f.acquires[0]
	if a.Pool.Name != "apitask" || a.Priority != 2 || a.Key != "orders" || a.Slots != 1 {
		t.Fatalf("acquire %+v", a)
	}
	if len(f.releases) != 1 || f.releases[0].Outcome != contract.ReleaseDone || f.releases[0].Holder.WorkflowID == "" {
		t.Fatalf("releases %+v, want one done", f.releases)
	}
}

func TestDeployAPITaskQueuedThenGrantedDefaultsKeyAndPriority(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(int) bool { return false })
	var ranAt time.Time
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ExecuteInput) (activities.ExecuteResult, error) {
			ranAt = env.Now()
			return activities.ExecuteResult{}, nil
		}).Once()
	// A stale grant of an earlier round is ignored; the right one lets it run.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: "apitask", Round: -1}) }, 10*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: "apitask"}) }, 30*time.Second)
	env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(nil))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if a := f.acquires[0]; a.Key != "cr" || a.Priority != contract.DefaultAdmissionPriority {
		t.Fatalf("acquire %+v: want the profile as key and priority 3", a)
	}
	if ranAt.Before(t0.Add(30 * time.Second)) {
		t.Fatalf("executed at %s, before the grant", ranAt.Sub(t0))
	}
}

func TestDeployAPITaskCancelledWhileQueuedMakesNoPlatformCall(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(int) bool { return false })
	env.RegisterActivity(&activities.AutomationAnywhere{})
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(nil))
	err := env.GetWorkflowError()
	if !temporal.IsCanceledError(err) {
		t.Fatalf("want cancelled, got %v", err)
	}
	env.AssertNotCalled(t, "AAExecuteAPITask", mock.Anything, mock.Anything)
	if len(f.releases) != 1 || f.releases[0].Outcome != contract.ReleaseCancelled {
		t.Fatalf("releases %+v, want one cancelled (left the queue)", f.releases)
	}
}

func TestDeployAPITaskCapacityRefusalWaitsInQueue(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(n int) bool { return n == 0 })
	calls := 0
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ExecuteInput) (activities.ExecuteResult, error) {
			calls++
			if calls == 1 {
				return activities.ExecuteResult{}, contract.NewError(contract.ErrThrottled, "concurrency limit reached", contract.ErrorInfo{}, 0)
			}
			return activities.ExecuteResult{}, nil
		})
	// A grant of the refused round is stale; the pool grants round 1.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: "apitask"}) }, 10*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: "apitask", Round: 1}) }, 20*time.Second)
	env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(nil))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("a capacity refusal must not fail the deployment: %v", err)
	}
	if f.acquires[1].Round != 1 {
		t.Fatalf("second acquire %+v: want round 1", f.acquires[1])
	}
	// The refusal was not retried by the activity: one call, back to the
	// queue, one call after the grant.
	if calls != 2 || len(f.acquires) != 2 {
		t.Fatalf("%d executes and %d acquires, want 2 and 2", calls, len(f.acquires))
	}
	outcomes := []string{}
	for _, r := range f.releases {
		outcomes = append(outcomes, r.Outcome)
	}
	if strings.Join(outcomes, ",") != "refused,done" {
		t.Fatalf("releases %v, want refused then done", outcomes)
	}
}

func TestAdmissionInvalidInput(t *testing.T) {
	cases := []struct {
		name string
		run  func(env *testsuite.TestWorkflowEnvironment)
		want string
	}{
		{"priority 6", func(env *testsuite.TestWorkflowEnvironment) {
			env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(&contract.Admission{Priority: 6}))
		}, "admission.priority: 6 is out of range"},
		{"priority negative", func(env *testsuite.TestWorkflowEnvironment) {
			env.ExecuteWorkflow(crPools.StartJob, contract.StartJobInput{Profile: "cr", Folder: "Shared", Process: "P", Admission: &contract.Admission{Priority: -1}})
		}, "admission.priority"},
		{"unknown pool", func(env *testsuite.TestWorkflowEnvironment) {
			env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(&contract.Admission{Pool: "nope"}))
		}, `admission.pool: "nope" is not a pool of profile "cr"; its pools are: apitask, runners, fast`},
		{"ambiguous runner pool", func(env *testsuite.TestWorkflowEnvironment) {
			env.ExecuteWorkflow(crPools.DeployBot, contract.DeployBotInput{Profile: "cr", BotID: 7, RunAsUserIDs: []int64{1}})
		}, "admission.pool: is needed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			env.RegisterActivity(&activities.Pools{})
			c.run(env)
			requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, c.want)
			env.AssertNotCalled(t, "PoolAcquire", mock.Anything, mock.Anything)
			env.AssertNotCalled(t, "PoolAcquireSignal", mock.Anything, mock.Anything)
		})
	}
}

func TestCapacityRefusal(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{contract.NewError(contract.ErrThrottled, "429 concurrency limit reached", contract.ErrorInfo{Status: 429}, 0), true},
		{contract.NewError(contract.ErrInvalidRequest, "StartJobs: 409: No robots available to run the job", contract.ErrorInfo{Status: 409}, 0), true},
		{contract.NewError(contract.ErrInvalidRequest, "StartJobs: 409: Couldn't find any user with unattended robot permissions in the current folder.", contract.ErrorInfo{Status: 409}, 0), false},
		{contract.NewError(contract.ErrInvalidRequest, "400: no robots available", contract.ErrorInfo{Status: 400}, 0), false},
		{contract.NewError(contract.ErrRunFailed, "failed", contract.ErrorInfo{}, 0), false},
	} {
		if got := capacityRefusal(c.err); got != c.want {
			t.Errorf("capacityRefusal(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A Nexus call's fairness key defaults to the endpoint's queue it came
// through; a key of the caller's own lives under that queue, so naming
// another team's key (or its queue) queues under the caller's.
func TestAdmissionKeyDefaultsToNexusCaller(t *testing.T) {
	for _, c := range []struct {
		adm  *contract.Admission
		want string
	}{
		{nil, "rpaflow-orders"},
		{&contract.Admission{FairnessKey: "mine"}, "rpaflow-orders/mine"},
		{&contract.Admission{FairnessKey: "rpaflow-orders/mine"}, "rpaflow-orders/mine"},
		{&contract.Admission{FairnessKey: "rpaflow-orders"}, "rpaflow-orders"},
		{&contract.Admission{FairnessKey: "rpaflow-billing"}, "rpaflow-orders/rpaflow-billing"},
		{&contract.Admission{FairnessKey: "rpaflow-billing/x"}, "rpaflow-orders/rpaflow-billing/x"},
		{&contract.Admission{FairnessKey: "rpaflow-orders-2"}, "rpaflow-orders/rpaflow-orders-2"},
	} {
		env := newEnv(t)
		f := newFakePool(env, func(int) bool { return true })
		env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(activities.ExecuteResult{}, nil)
		// The test environment ignores a start's memo: write it as the
		// Nexus handler's start would have.
		viaNexus := func(ctx workflow.Context, in contract.DeployAPITaskInput) (contract.DeployAPITaskResult, error) {
			if err := workflow.UpsertMemo(ctx, map[string]any{contract.NexusQueueMemo + "rpaflow-orders": true}); err != nil {
				return contract.DeployAPITaskResult{}, err
			}
			return crPools.DeployAPITask(ctx, in)
		}
		env.ExecuteWorkflow(viaNexus, apiTask(c.adm))
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		if got := f.acquires[0].Key; got != c.want {
			t.Errorf("admission %+v: key %q, want %q", c.adm, got, c.want)
		}
	}
}

// A DeployBot takes one slot per run-as user of the profile's runner pool
// and, cancelled while it runs, gives them back only once the stop is
// confirmed.
func TestDeployBotRunnerPoolReleasesAfterStop(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(int) bool { return true })
	env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(activities.DeployRef{ID: "dep-1"}, nil)
	env.OnActivity(cr.AAWaitDeployment, mock.Anything, mock.Anything).Return(
		activities.DeploymentResult{DeploymentID: "dep-1", Status: "COMPLETED"}, nil).After(100 * time.Hour).Maybe()
	var stoppedAt time.Time
	env.OnActivity(cr.AAStopDeployment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StopDeploymentInput) (contract.RunStop, error) {
			stoppedAt = env.Now()
			return contract.RunStop{Reason: in.Reason, RunID: in.DeploymentID, FinalStatus: "RUN_ABORTED", Terminal: true}, nil
		}).After(30 * time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	d := &Deployments{Pools: map[string][]contract.PoolConfig{"cr": {{Name: "apitask", Limit: 2}, {Name: "runners", Limit: 4}}}}
	in := deployIn()
	in.RunAsUserIDs = []int64{3, 4}
	env.ExecuteWorkflow(d.DeployBot, in)
	if !temporal.IsCanceledError(env.GetWorkflowError()) {
		t.Fatalf("want cancelled, got %v", env.GetWorkflowError())
	}
	if a := f.acquires[0]; a.Pool.Name != "runners" || a.Slots != 2 {
		t.Fatalf("acquire %+v, want 2 slots of runners", a)
	}
	if len(f.releases) != 1 || f.releasedTo != contract.PoolID("cr", "runners") || stoppedAt.IsZero() || f.releasedAt.Before(stoppedAt) {
		t.Fatalf("releases %+v to %s at %s, stop confirmed at %s: want one release after the stop", f.releases, f.releasedTo, f.releasedAt, stoppedAt)
	}
}

// Runs from before the acquire signal still acquire by the update
// activity, and those after it only by the local activity's signal.
func TestDeployAPITaskAcquirePathFollowsVersion(t *testing.T) {
	for _, v := range []workflow.Version{workflow.DefaultVersion, 1} {
		env := newEnv(t)
		f := newFakePool(env, func(int) bool { return true })
		env.OnGetVersion(acquireBySignalVersion, workflow.DefaultVersion, 1).Return(v)
		env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(activities.ExecuteResult{}, nil).Once()
		env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(nil))
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		used, unused := "PoolAcquireSignal", "PoolAcquire"
		if v == workflow.DefaultVersion {
			used, unused = unused, used
		}
		env.AssertCalled(t, used, mock.Anything, mock.Anything)
		env.AssertNotCalled(t, unused, mock.Anything, mock.Anything)
		if len(f.acquires) != 1 || len(f.releases) != 1 {
			t.Fatalf("version %d: %d acquires, %d releases; want one each", v, len(f.acquires), len(f.releases))
		}
	}
}

// Without Nexus the caller's key is taken as given, and the profile is the
// default.
func TestFairnessKeyOutsideNexus(t *testing.T) {
	for _, c := range []struct{ asked, want string }{{"", "cr"}, {"orders", "orders"}, {"rpaflow-orders/x", "rpaflow-orders/x"}} {
		if got := fairnessKey("cr", "", c.asked); got != c.want {
			t.Errorf("fairnessKey(cr, no caller, %q) = %q, want %q", c.asked, got, c.want)
		}
	}
}

// A pooled job Orchestrator leaves Pending for want of a robot tells the
// pool once (it shrinks) and keeps its slot; the job is waited for, never
// started again, and its slot goes back when it ends.
func TestStartJobPendingForCapacityTellsThePool(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(int) bool { return true })
	orchPools := &Deployments{Pools: map[string][]contract.PoolConfig{"orch": {{Name: "Shared", Limit: 3}}}}
	env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(activities.JobRef{ID: 42, Key: "k-42", FolderID: 1, Folder: "Shared"}, nil).Once()
	var waits []bool
	env.OnActivity(orch.OrchWaitJob, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WaitJobInput) (contract.StartJobResult, error) {
			waits = append(waits, in.ReportNoCapacity)
			if in.ReportNoCapacity {
				return contract.StartJobResult{ID: 42, Key: "k-42", State: "Pending", Info: "RobotBusy"}, nil
			}
			return contract.StartJobResult{ID: 42, Key: "k-42", State: "Successful"}, nil
		})
	env.ExecuteWorkflow(orchPools.StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"})
	var res contract.StartJobResult
	if err := env.GetWorkflowError(); err != nil || env.GetWorkflowResult(&res) != nil || res.State != "Successful" || res.ID != 42 {
		t.Fatalf("result %+v, %v", res, err)
	}
	var outcomes []string
	for _, r := range f.releases {
		outcomes = append(outcomes, r.Outcome)
	}
	if strings.Join(outcomes, ",") != contract.ReleasePending+","+contract.ReleaseDone || len(f.acquires) != 1 ||
		len(waits) != 2 || !waits[0] || waits[1] {
		t.Errorf("pool signals %v, acquires %d, waits reporting capacity %v; want pending then done, one acquire, [true false]", outcomes, len(f.acquires), waits)
	}
}

// With run events, the reconciliation's reads carry the pending reason: the
// first that finds the job Pending for capacity tells the pool, later ones
// do not, and every read passes on unchanged.
func TestWatchCheckTellsThePoolOnce(t *testing.T) {
	env := newEnv(t)
	probe := func(ctx workflow.Context) ([]string, error) {
		l := &lease{plan: admissionPlan{Pool: &contract.PoolConfig{Name: "Shared", Limit: 2}}, poolID: "rpaflow-pool:orch:Shared",
			holder: contract.PoolHolder{WorkflowID: "w", RunID: "r"}}
		var states []string
		for _, c := range []activities.Check[contract.StartJobResult]{{State: "Running"}, {State: "Pending", NoCapacity: "RobotBusy"},
			{State: "Pending", NoCapacity: "RobotBusy"}, {Done: true, State: "Successful"}} {
			read, set := workflow.NewFuture(ctx)
			set.Set(c, nil)
			var got activities.Check[contract.StartJobResult]
			if err := l.watchCheck(ctx, read).Get(ctx, &got); err != nil {
				return nil, err
			}
			states = append(states, got.State+"/"+got.NoCapacity)
		}
		return states, nil
	}
	env.RegisterWorkflowWithOptions(probe, workflow.RegisterOptions{Name: "probe"})
	f := newFakePool(env, func(int) bool { return true })
	env.ExecuteWorkflow("probe")
	var states []string
	if err := env.GetWorkflowResult(&states); err != nil {
		t.Fatal(err)
	}
	if strings.Join(states, ",") != "Running/,Pending/RobotBusy,Pending/RobotBusy,Successful/" ||
		len(f.releases) != 1 || f.releases[0].Outcome != contract.ReleasePending || f.releasedTo != "rpaflow-pool:orch:Shared" {
		t.Errorf("reads %v, pool signals %+v to %s; want the reads unchanged and one pending signal", states, f.releases, f.releasedTo)
	}
}

// The execute activity gives the slot back itself (runs from
// releaseByActivityVersion on): the deployment sends no release of its own
// when it did, and its own when it could not; runs from before never ask
// the activity.
func TestDeployAPITaskReleaseByActivity(t *testing.T) {
	for _, c := range []struct {
		version       workflow.Version
		released      bool
		wantPool      string
		wantWorkflows int // releases the workflow sends
	}{
		{1, true, contract.PoolID("cr", "apitask"), 0},
		{1, false, contract.PoolID("cr", "apitask"), 1},
		{workflow.DefaultVersion, false, "", 1},
	} {
		env := newEnv(t)
		f := newFakePool(env, func(int) bool { return true })
		env.OnGetVersion(releaseByActivityVersion, workflow.DefaultVersion, 1).Return(c.version)
		var asked string
		env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.ExecuteInput) (activities.ExecuteResult, error) {
				asked = in.ReleasePool
				return activities.ExecuteResult{Released: c.released && in.ReleasePool != ""}, nil
			}).Once()
		env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(nil))
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		if asked != c.wantPool || len(f.releases) != c.wantWorkflows {
			t.Errorf("version %d, activity released %v: activity asked to release to %q, workflow sent %d releases; want %q and %d",
				c.version, c.released, asked, len(f.releases), c.wantPool, c.wantWorkflows)
		}
	}
	// Without a pool the activity releases nothing.
	env := newEnv(t)
	env.RegisterActivity(&activities.Pools{})
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ExecuteInput) (activities.ExecuteResult, error) {
			if in.ReleasePool != "" {
				t.Errorf("unpooled execute asked to release to %q", in.ReleasePool)
			}
			return activities.ExecuteResult{}, nil
		}).Once()
	env.ExecuteWorkflow(DeployAPITask, apiTask(nil))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}

// An attempt whose earlier attempt gave the slot back calls nothing; the
// deployment releases for sure, queues for the next round and executes
// again once granted.
func TestDeployAPITaskSlotGivenBackQueuesAgain(t *testing.T) {
	env := newEnv(t)
	f := newFakePool(env, func(n int) bool { return n == 0 })
	calls := 0
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ExecuteInput) (activities.ExecuteResult, error) {
			calls++
			if calls == 1 {
				return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError("given back", string(activities.ErrSlotGivenBack), nil)
			}
			return activities.ExecuteResult{Released: true}, nil
		})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: "apitask"}) }, 10*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalPoolGrant, contract.PoolGrant{Pool: "apitask", Round: 1}) }, 20*time.Second)
	env.ExecuteWorkflow(crPools.DeployAPITask, apiTask(nil))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || len(f.acquires) != 2 || f.acquires[1].Round != 1 {
		t.Fatalf("%d executes, acquires %+v; want 2 executes and a second acquire of round 1", calls, f.acquires)
	}
	if len(f.releases) != 1 || f.releases[0].Outcome != contract.ReleaseDone {
		t.Fatalf("releases %+v, want the one done before queueing again (the second execute released itself)", f.releases)
	}
}
