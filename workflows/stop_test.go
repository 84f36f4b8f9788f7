package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// stopCall records what a stop activity was asked, and when.
type stopCall struct {
	calls int
	at    time.Time
	aa    activities.StopDeploymentInput
	job   activities.StopJobInput
}

// runningBot mocks a deploy that succeeds and a wait that never ends on its own.
func runningBot(env *testsuite.TestWorkflowEnvironment, deployTakes time.Duration, sc *stopCall, final string) {
	env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(activities.DeployRef{ID: "dep-1"}, nil).After(deployTakes)
	env.OnActivity(cr.AAWaitDeployment, mock.Anything, mock.Anything).Return(
		activities.DeploymentResult{DeploymentID: "dep-1", Status: "COMPLETED"}, nil).After(100 * time.Hour).Maybe()
	env.OnActivity(cr.AAStopDeployment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StopDeploymentInput) (contract.RunStop, error) {
			sc.calls++
			sc.at, sc.aa = env.Now(), in
			return contract.RunStop{Reason: in.Reason, RunID: in.DeploymentID, Requests: []string{"stop"},
				FinalStatus: final, Terminal: true}, nil
		}).Maybe()
}

func canceledDetails(t *testing.T, err error) contract.RunStop {
	t.Helper()
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("workflow ended with %v, want Canceled", err)
	}
	var s contract.RunStop
	if derr := ce.Details(&s); derr != nil {
		t.Fatalf("canceled details: %v", derr)
	}
	return s
}

func timeoutDetails(t *testing.T, err error) (contract.RunStop, string) {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != string(contract.ErrTimedOut) || !app.NonRetryable() {
		t.Fatalf("workflow ended with %v, want a non-retryable TimedOut", err)
	}
	var s contract.RunStop
	if derr := app.Details(&s); derr != nil {
		t.Fatalf("timeout details: %v", derr)
	}
	return s, err.Error()
}

// Cancelling a waiting DeployBot stops the execution at once and ends
// Canceled with what the Control Room said.
func TestDeployBot_CancelStopsTheRun(t *testing.T) {
	env := newEnv(t)
	var sc stopCall
	runningBot(env, time.Second, &sc, "RUN_ABORTED")
	env.RegisterDelayedCallback(env.CancelWorkflow, 5*time.Minute)
	env.ExecuteWorkflow(DeployBot, deployIn())
	s := canceledDetails(t, env.GetWorkflowError())
	if sc.calls != 1 || sc.aa.DeploymentID != "dep-1" || sc.aa.Reason != contract.StopCancelled || sc.aa.Grace != 2*time.Minute || sc.aa.Profile != "cr" {
		t.Fatalf("stop calls %d, input %+v", sc.calls, sc.aa)
	}
	if d := sc.at.Sub(t0); d < 5*time.Minute || d > 5*time.Minute+time.Second {
		t.Fatalf("stop started %v after the start, want right at the 5-minute cancel", d)
	}
	if s.FinalStatus != "RUN_ABORTED" || !s.Terminal || s.RunID != "dep-1" || s.Reason != contract.StopCancelled {
		t.Fatalf("details %+v", s)
	}
}

// The input's timeout stops the execution and ends the workflow timed out.
func TestDeployBot_TimeoutStopsTheRun(t *testing.T) {
	env := newEnv(t)
	var sc stopCall
	runningBot(env, 0, &sc, "RUN_ABORTED")
	in := deployIn()
	in.Timeout, in.StopGrace = contract.Duration(30*time.Minute), contract.Duration(45*time.Second)
	env.ExecuteWorkflow(DeployBot, in)
	s, msg := timeoutDetails(t, env.GetWorkflowError())
	if sc.calls != 1 || sc.aa.Reason != contract.StopTimedOut || sc.aa.Grace != 45*time.Second {
		t.Fatalf("stop calls %d, input %+v", sc.calls, sc.aa)
	}
	if d := sc.at.Sub(t0); d < 30*time.Minute || d > 30*time.Minute+time.Second {
		t.Fatalf("stop started %v after the start, want at the 30-minute timeout", d)
	}
	if s.FinalStatus != "RUN_ABORTED" || s.Reason != contract.StopTimedOut {
		t.Fatalf("details %+v", s)
	}
	for _, want := range []string{"deployment dep-1", "30m0s", "RUN_ABORTED"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// With a workflow execution timeout shorter than the input's, the wait
// ends early enough for the stop to happen before Temporal ends the run.
func TestDeployBot_ExecutionTimeoutLeavesRoomForTheStop(t *testing.T) {
	env := newEnv(t)
	env.SetWorkflowRunTimeout(time.Hour)
	var sc stopCall
	runningBot(env, 0, &sc, "RUN_ABORTED")
	env.ExecuteWorkflow(DeployBot, deployIn())
	timeoutDetails(t, env.GetWorkflowError())
	if sc.calls != 1 || sc.aa.Reason != contract.StopTimedOut {
		t.Fatalf("stop calls %d, input %+v", sc.calls, sc.aa)
	}
	if d := sc.at.Sub(t0); d < 50*time.Minute || d > 57*time.Minute {
		t.Fatalf("stop started %v after the start, want a few minutes before the 1h run timeout", d)
	}
}

// A cancel that arrives while the deploy is in flight waits for its answer
// and stops the deployment it created.
func TestDeployBot_CancelDuringDeployStopsWhatItCreated(t *testing.T) {
	env := newEnv(t)
	var sc stopCall
	runningBot(env, 40*time.Second, &sc, "RUN_ABORTED")
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Second)
	env.ExecuteWorkflow(DeployBot, deployIn())
	s := canceledDetails(t, env.GetWorkflowError())
	if sc.calls != 1 || sc.aa.DeploymentID != "dep-1" || s.RunID != "dep-1" {
		t.Fatalf("stop calls %d, input %+v, details %+v", sc.calls, sc.aa, s)
	}
}

// A run that ends before the timeout is reported as it ended; nothing is stopped.
func TestDeployBot_FinishedRunIsNotStopped(t *testing.T) {
	env := newEnv(t)
	var sc stopCall
	env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(activities.DeployRef{ID: "dep-1"}, nil)
	env.OnActivity(cr.AAWaitDeployment, mock.Anything, mock.Anything).Return(
		activities.DeploymentResult{DeploymentID: "dep-1", Status: "COMPLETED"}, nil).After(20 * time.Minute)
	env.OnActivity(cr.AAStopDeployment, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.StopDeploymentInput) (contract.RunStop, error) {
			sc.calls++
			return contract.RunStop{}, nil
		}).Maybe()
	in := deployIn()
	in.Timeout = contract.Duration(time.Hour)
	env.ExecuteWorkflow(DeployBot, in)
	if err := env.GetWorkflowError(); err != nil || sc.calls != 0 {
		t.Fatalf("err %v, stops %d", err, sc.calls)
	}
}

// A stop that keeps failing is retried, and the workflow still ends
// Canceled, saying the run may be alive.
func TestDeployBot_StopRetriedThenReported(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(activities.DeployRef{ID: "dep-1"}, nil)
	env.OnActivity(cr.AAWaitDeployment, mock.Anything, mock.Anything).Return(
		activities.DeploymentResult{}, nil).After(100 * time.Hour).Maybe()
	calls := 0
	env.OnActivity(cr.AAStopDeployment, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.StopDeploymentInput) (contract.RunStop, error) {
			calls++
			if calls < 3 {
				return contract.RunStop{}, temporal.NewApplicationError("503", string(contract.ErrUnavailable))
			}
			return contract.RunStop{}, temporal.NewApplicationError("forbidden", string(contract.ErrForbidden))
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(DeployBot, deployIn())
	s := canceledDetails(t, env.GetWorkflowError())
	if calls != 3 || !strings.Contains(s.Message, "may still be running") || !strings.Contains(s.Message, "forbidden") {
		t.Fatalf("calls %d, details %+v", calls, s)
	}
}

func runningJob(env *testsuite.TestWorkflowEnvironment, sc *stopCall, final string) {
	env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(
		activities.JobRef{ID: 7, Key: "k", FolderID: 1, Folder: "Shared"}, nil)
	env.OnActivity(orch.OrchWaitJob, mock.Anything, mock.Anything).Return(
		contract.StartJobResult{ID: 7, State: "Successful"}, nil).After(100 * time.Hour).Maybe()
	env.OnActivity(orch.OrchStopJob, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StopJobInput) (contract.RunStop, error) {
			sc.calls++
			sc.at, sc.job = env.Now(), in
			return contract.RunStop{Reason: in.Reason, RunID: "7", Requests: []string{"SoftStop"}, FinalStatus: final, Terminal: true}, nil
		}).Maybe()
}

// Cancelling StartJob stops the job with the input's grace; Stopped and
// Successful are both reported as the platform said.
func TestStartJob_CancelStopsTheJob(t *testing.T) {
	for _, final := range []string{"Stopped", "Successful"} {
		t.Run(final, func(t *testing.T) {
			env := newEnv(t)
			var sc stopCall
			runningJob(env, &sc, final)
			env.RegisterDelayedCallback(env.CancelWorkflow, 3*time.Minute)
			env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "P",
				StopGrace: contract.Duration(10 * time.Second)})
			s := canceledDetails(t, env.GetWorkflowError())
			if sc.calls != 1 || sc.job.Job.ID != 7 || sc.job.Job.Folder != "Shared" || sc.job.Grace != 10*time.Second || sc.job.Reason != contract.StopCancelled {
				t.Fatalf("stop calls %d, input %+v", sc.calls, sc.job)
			}
			if s.FinalStatus != final {
				t.Fatalf("details %+v", s)
			}
		})
	}
}

func TestStartJob_TimeoutStopsTheJob(t *testing.T) {
	env := newEnv(t)
	var sc stopCall
	runningJob(env, &sc, "Stopped")
	env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "P", Timeout: contract.Duration(time.Hour)})
	s, msg := timeoutDetails(t, env.GetWorkflowError())
	if sc.calls != 1 || sc.job.Reason != contract.StopTimedOut || sc.at.Sub(t0) != time.Hour || s.FinalStatus != "Stopped" || !strings.Contains(msg, "job 7") {
		t.Fatalf("stop %+v at %v, details %+v, %s", sc.job, sc.at.Sub(t0), s, msg)
	}
}

// A cancel during a start whose outcome is unknown looks the job up by its
// reference (the caller's, or the one derived from the start) and stops it.
func TestStartJob_CancelDuringAmbiguousStart(t *testing.T) {
	for _, ref := range []string{"PO-1", ""} {
		t.Run("reference="+ref, func(t *testing.T) {
			env := newEnv(t)
			var sc stopCall
			env.OnActivity(orch.OrchStartJob, mock.Anything, mock.Anything).Return(activities.JobRef{},
				temporal.NewApplicationError("timeout after send", string(contract.ErrAmbiguous))).After(30 * time.Second)
			var find activities.FindJobsInput
			env.OnActivity(orch.OrchFindJobs, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.FindJobsInput) ([]activities.JobRef, error) {
					find = in
					return []activities.JobRef{{ID: 9, Folder: "Shared"}, {ID: 3}}, nil
				}).Maybe()
			env.OnActivity(orch.OrchStopJob, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.StopJobInput) (contract.RunStop, error) {
					sc.calls++
					sc.job = in
					return contract.RunStop{Reason: in.Reason, RunID: "9", FinalStatus: "Stopped", Terminal: true}, nil
				}).Maybe()
			env.RegisterDelayedCallback(env.CancelWorkflow, 5*time.Second)
			env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "P", Reference: ref})
			s := canceledDetails(t, env.GetWorkflowError())
			want := ref
			if ref == "" {
				want = "rpaflow:default-test-workflow-id:" // then 16 hex digits
				if len(find.Reference) != len(want)+16 || !strings.HasPrefix(find.Reference, want) {
					t.Fatalf("looked up %q, want the derived reference", find.Reference)
				}
				want = find.Reference
			}
			if find.Reference != want || find.Folder != "Shared" || sc.calls != 1 || sc.job.Job.ID != 9 || !strings.Contains(s.Message, "found by reference "+want) {
				t.Fatalf("find %+v, stop %+v, details %+v", find, sc.job, s)
			}
		})
	}
}

func TestStopGraceValidated(t *testing.T) {
	in := deployIn()
	in.StopGrace = contract.Duration(-time.Second)
	env := newEnv(t)
	env.ExecuteWorkflow(DeployBot, in)
	requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "stopGrace")
	env = newEnv(t)
	env.ExecuteWorkflow(StartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "P", StopGrace: contract.Duration(48 * time.Hour)})
	requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "stopGrace", "at most 24h")
}
