package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

var runIn = contract.RunEventsInput{Profile: "orch", Subject: contract.SubjectJob, ID: "42"}

func ended(id string) contract.RunEvent {
	return contract.RunEvent{EventID: id, Type: "job.completed", State: "Successful", RunID: "42", Terminal: true}
}

// An event that comes before its wait registers is held, then forwarded
// when the wait registers; the workflow then ends.
func TestRunEvents_EventBeforeWaiter(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(RunEvents)
	var forwarded []time.Duration
	env.OnSignalExternalWorkflow(mock.Anything, "wait-1", "", contract.RunEventSignal, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			if e, ok := arg.(contract.RunEvent); !ok || e.EventID != "e1" {
				t.Errorf("forwarded %#v", arg)
			}
			forwarded = append(forwarded, env.Now().Sub(t0))
			return nil
		})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.RunEventSignal, ended("e1")) }, time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.RunEventSignal, ended("e1")) }, 2*time.Second) // a duplicate
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunWaiterSignal, contract.RunWaiter{WorkflowID: "wait-1", RunID: "r", Until: t0.Add(time.Hour)})
	}, 5*time.Second)
	env.ExecuteWorkflow(RunEvents, runIn)
	if err := env.GetWorkflowError(); err != nil || !env.IsWorkflowCompleted() {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), err)
	}
	if len(forwarded) != 1 || forwarded[0] != 5*time.Second {
		t.Fatalf("forwarded at %v, want once at 5s", forwarded)
	}
}

// A registered wait gets events as they come; a non-final one does not end
// the forwarding, a gone wait does.
func TestRunEvents_WaiterFirst(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(RunEvents)
	var got []string
	env.OnSignalExternalWorkflow(mock.Anything, "wait-1", "", contract.RunEventSignal, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			e := arg.(contract.RunEvent)
			got = append(got, e.EventID)
			if e.EventID == "e3" {
				return errors.New("workflow not found")
			}
			return nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunWaiterSignal, contract.RunWaiter{WorkflowID: "wait-1", Until: t0.Add(time.Hour)})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunEventSignal, contract.RunEvent{EventID: "e2", Type: "queueItem.retried"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunEventSignal, contract.RunEvent{EventID: "e3", Type: "queueItem.retried"})
	}, 2*time.Minute)
	env.ExecuteWorkflow(RunEvents, runIn)
	if err := env.GetWorkflowError(); err != nil || !env.IsWorkflowCompleted() {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), err)
	}
	if len(got) != 2 || got[0] != "e2" || got[1] != "e3" {
		t.Fatalf("forwarded %v", got)
	}
}

// Events nobody claims (runs rpaflow did not start) are dropped after a
// while; so is a wait past its deadline.
func TestRunEvents_Unclaimed(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(RunEvents)
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil).Never()
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.RunEventSignal, ended("e1")) }, time.Second)
	env.ExecuteWorkflow(RunEvents, runIn)
	if err := env.GetWorkflowError(); err != nil || !env.IsWorkflowCompleted() {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), err)
	}
	if d := env.Now().Sub(t0); d < unclaimedTTL || d > unclaimedTTL+time.Minute {
		t.Fatalf("ended after %s, want %s", d, unclaimedTTL)
	}
}

// jobScript mocks a job that ends at end (workflow time) and counts reads.
type jobScript struct {
	end      time.Duration
	readable time.Duration // when reads first show the end (>= end)
	reads    []time.Duration
}

func (j *jobScript) mock(t *testing.T, env interface {
	Now() time.Time
}) func(context.Context, activities.WaitJobInput) (activities.Check[contract.StartJobResult], error) {
	return func(_ context.Context, in activities.WaitJobInput) (activities.Check[contract.StartJobResult], error) {
		at := env.Now().Sub(t0)
		j.reads = append(j.reads, at)
		if in.Job.ID != 42 || in.Profile != "orch" {
			t.Errorf("check input %+v", in)
		}
		if at < max(j.end, j.readable) {
			return activities.Check[contract.StartJobResult]{State: "Running"}, nil
		}
		return activities.Check[contract.StartJobResult]{Done: true, State: "Successful", End: t0.Add(j.end),
			Result: contract.StartJobResult{ID: 42, Key: "k", State: "Successful", OutputArguments: map[string]any{"n": 1.0}}}, nil
	}
}

func runStartJobWithEvents(t *testing.T, j *jobScript, eventAt time.Duration) (time.Duration, *activities.RegisterWaiterInput) {
	t.Helper()
	env := newEnv(t)
	env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(activities.JobRef{ID: 42, Key: "k", FolderID: 1,
		Folder: "Shared", Events: &activities.EventPlan{Reconcile: 10 * time.Minute}}, nil).Once()
	env.OnActivity(orch.OrchWaitJob, mock.Anything, mock.Anything).Return(contract.StartJobResult{}, nil).Never()
	var reg *activities.RegisterWaiterInput
	env.OnActivity(ev.RegisterRunWaiter, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RegisterWaiterInput) error {
		reg = &in
		return nil
	}).Once()
	env.OnActivity(orch.OrchCheckJob, mock.Anything, mock.Anything).Return(j.mock(t, env))
	if eventAt > 0 {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.RunEventSignal, ended("e1")) }, eventAt)
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.RunEventSignal, ended("e1")) }, eventAt) // a duplicate
	}
	env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"})
	var res contract.StartJobResult
	if err := env.GetWorkflowError(); err != nil || env.GetWorkflowResult(&res) != nil || res.State != "Successful" || res.OutputArguments["n"] != 1.0 {
		t.Fatalf("result %+v, error %v", res, err)
	}
	return env.Now().Sub(t0), reg
}

// With events on, an event ends the wait with one read, however long the
// reconcile interval.
func TestStartJob_EventEndsWait(t *testing.T) {
	j := &jobScript{end: 3 * time.Minute}
	took, reg := runStartJobWithEvents(t, j, 3*time.Minute+time.Second)
	if took != 3*time.Minute+time.Second || len(j.reads) != 1 {
		t.Fatalf("took %s with reads at %v; want one read at 3m1s", took, j.reads)
	}
	if reg == nil || reg.Run != runIn || reg.Waiter.WorkflowID == "" || reg.Waiter.Until.Before(t0.Add(time.Hour)) {
		t.Fatalf("registration %+v", reg)
	}
}

// testReads are the first n reconciliations of a wait that begins at t0 in
// the test environment, at the tests' 10-minute interval: one period apart,
// each moved back onto the grid.
func testReads(n int) []time.Duration {
	period := reconcilePeriod(10*time.Minute, "default-test-workflow-id\x00default-test-run-id")
	var out []time.Duration
	for at := t0; len(out) < n; {
		at = reconcileGrid(at.Add(period), 10*time.Minute)
		out = append(out, at.Sub(t0))
	}
	return out
}

// A lost event costs one reconcile period, no more, and no reads before.
func TestStartJob_LostEventReconciled(t *testing.T) {
	j := &jobScript{end: 3 * time.Minute}
	took, _ := runStartJobWithEvents(t, j, 0)
	if want := testReads(1)[0]; took != want || len(j.reads) != 1 || want > 10*time.Minute*19/20 || want < 10*time.Minute*4/5-10*time.Second {
		t.Fatalf("took %s with reads at %v; want one read at the reconciliation, %s", took, j.reads, want)
	}
}

// A run whose end event is lost is found by the next reconciliation, within
// one interval of its end even when it ended just after a read.
func TestStartJob_LostEventWithinInterval(t *testing.T) {
	want := testReads(3)
	j := &jobScript{end: want[1] + time.Second}
	took, _ := runStartJobWithEvents(t, j, 0)
	if !slices.Equal(j.reads, want) || took != want[2] {
		t.Fatalf("took %s with reads at %v; want reads at %v", took, j.reads, want)
	}
	if late := took - j.end; late >= 10*time.Minute {
		t.Fatalf("found %s after the end, want within the 10m interval", late)
	}
}

// Each wait reconciles 5 % to 20 % before its interval, fixed by its run,
// and waits started together spread over that range; the grid moves a
// reconciliation back by less than a sixtieth of the interval.
func TestReconcilePeriod(t *testing.T) {
	for _, interval := range []time.Duration{10 * time.Second, 2 * time.Minute, 10 * time.Minute, 24 * time.Hour} {
		for _, at := range []time.Time{t0.Add(interval + interval/120), t0.Add(7 * interval / 3)} {
			if g := reconcileGrid(at, interval); g.After(at) || at.Sub(g) >= interval/60 || !reconcileGrid(g, interval).Equal(g) {
				t.Fatalf("%s: grid moves %s to %s", interval, at, g)
			}
		}
		lo, hi := interval, time.Duration(0)
		for i := range 1000 {
			key := fmt.Sprintf("bench-events-job-%d\x00run-%d", i, i)
			p := reconcilePeriod(interval, key)
			if p != reconcilePeriod(interval, key) {
				t.Fatalf("%s: not fixed by the key", interval)
			}
			if p > interval-interval/20 || p < interval-interval/5 {
				t.Fatalf("%s: period %s outside [80 %%, 95 %%]", interval, p)
			}
			lo, hi = min(lo, p), max(hi, p)
		}
		if lo > interval-interval/5+interval/100 || hi < interval-interval/20-interval/100 {
			t.Fatalf("%s: periods only from %s to %s", interval, lo, hi)
		}
	}
}

// An event ahead of what the API shows is confirmed by reads soon after,
// not taken on its word.
func TestStartJob_EventAheadOfAPI(t *testing.T) {
	j := &jobScript{end: 3 * time.Minute, readable: 3*time.Minute + 5*time.Second}
	took, _ := runStartJobWithEvents(t, j, 3*time.Minute)
	if len(j.reads) != 3 || took != 3*time.Minute+8*time.Second {
		t.Fatalf("took %s with reads at %v; want reads at 3m, 3m2s, 3m8s", took, j.reads)
	}
}

// DeployBot with callbacks: the deploy names its callback id, the wait
// registers under it and ends on the callback.
func TestDeployBot_CallbackEndsWait(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(activities.DeployRef{ID: "dep-1", CallbackID: "0123456789abcdef0123456789abcdef",
		Events: &activities.EventPlan{Reconcile: 10 * time.Minute}}, nil).Once()
	env.OnActivity(cr.AAWaitDeployment, mock.Anything, mock.Anything).Return(activities.DeploymentResult{}, nil).Never()
	var reg activities.RegisterWaiterInput
	env.OnActivity(ev.RegisterRunWaiter, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RegisterWaiterInput) error {
		reg = in
		return nil
	}).Once()
	reads := 0
	env.OnActivity(cr.AACheckDeployment, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.WaitDeploymentInput) (activities.Check[activities.DeploymentResult], error) {
		reads++
		if in.DeploymentID != "dep-1" {
			t.Errorf("check input %+v", in)
		}
		return activities.Check[activities.DeploymentResult]{Done: true, State: "COMPLETED",
			Result: activities.DeploymentResult{DeploymentID: "dep-1", Status: "COMPLETED"}}, nil
	})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunEventSignal, contract.RunEvent{EventID: "aa:x:COMPLETED", Type: "aa.callback", State: "COMPLETED", Terminal: true})
	}, 90*time.Second)
	env.ExecuteWorkflow(DeployBot, contract.DeployBotInput{Profile: "cr", BotID: 7, RunAsUserIDs: []int64{1}})
	var res contract.DeployBotResult
	if err := env.GetWorkflowError(); err != nil || env.GetWorkflowResult(&res) != nil || res.Status != "COMPLETED" {
		t.Fatalf("result %+v, error %v", res, err)
	}
	if took := env.Now().Sub(t0); took != 90*time.Second || reads != 1 {
		t.Fatalf("took %s with %d reads", took, reads)
	}
	if reg.Run != (contract.RunEventsInput{Profile: "cr", Subject: contract.SubjectDeployment, ID: "0123456789abcdef0123456789abcdef"}) {
		t.Fatalf("registered %+v", reg.Run)
	}
}
