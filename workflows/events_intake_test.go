package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func routed(id string) contract.RoutedRunEvent {
	return contract.RoutedRunEvent{Subject: contract.SubjectJob, ID: id, Event: ended("e" + id)}
}

// Batches are forwarded as they come, a batch's events in one call; what
// failed is forwarded again after a pause, and the workflow ends once idle.
func TestRunEventsIntake_ForwardsBatches(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(RunEventsIntake)
	var calls [][]string
	failed := false
	env.OnActivity(ev.ForwardRunEvents, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ForwardRunEventsInput) (activities.ForwardRunEventsResult, error) {
			var ids []string
			var res activities.ForwardRunEventsResult
			for _, r := range in.Runs {
				ids = append(ids, r.ID)
				if r.ID == "3" && !failed {
					failed = true
					res.Failed = append(res.Failed, r)
				}
			}
			if in.Profile != "orch" {
				t.Errorf("profile %q", in.Profile)
			}
			calls = append(calls, ids)
			return res, nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunEventsBatchSignal, []contract.RoutedRunEvent{routed("1"), routed("2")})
		env.SignalWorkflow(contract.RunEventsBatchSignal, []contract.RoutedRunEvent{routed("3")})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunEventsBatchSignal, []contract.RoutedRunEvent{routed("4"), routed("5")})
	}, 10*time.Second)
	env.ExecuteWorkflow(RunEventsIntake, contract.RunEventsIntakeInput{Profile: "orch"})
	if err := env.GetWorkflowError(); err != nil || !env.IsWorkflowCompleted() {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), err)
	}
	want := [][]string{{"1", "2"}, {"3"}, {"3"}, {"4", "5"}}
	if len(calls) != len(want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	for i := range want {
		if len(calls[i]) != len(want[i]) {
			t.Fatalf("calls %v, want %v", calls, want)
		}
		for j := range want[i] {
			if calls[i][j] != want[i][j] {
				t.Fatalf("calls %v, want %v", calls, want)
			}
		}
	}
	if d := env.Now().Sub(t0); d < 10*time.Second+intakeIdle || d > 10*time.Second+intakeIdle+time.Second {
		t.Fatalf("ended after %s, want idle %s after the last batch", d, intakeIdle)
	}
}

// An event that cannot be forwarded is given up after intakeAttempts (its
// wait reconciles); the others are not held back.
func TestRunEventsIntake_GivesUp(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(RunEventsIntake)
	tries := map[string]int{}
	env.OnActivity(ev.ForwardRunEvents, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ForwardRunEventsInput) (activities.ForwardRunEventsResult, error) {
			var res activities.ForwardRunEventsResult
			for _, r := range in.Runs {
				tries[r.ID]++
				if r.ID == "bad" {
					res.Failed = append(res.Failed, r)
				}
			}
			return res, nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.RunEventsBatchSignal, []contract.RoutedRunEvent{routed("bad"), routed("ok")})
	}, time.Second)
	env.ExecuteWorkflow(RunEventsIntake, contract.RunEventsIntakeInput{Profile: "orch"})
	if err := env.GetWorkflowError(); err != nil || !env.IsWorkflowCompleted() {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), err)
	}
	if tries["bad"] != intakeAttempts || tries["ok"] != 1 {
		t.Fatalf("tries %v, want bad %d times, ok once", tries, intakeAttempts)
	}
}
