package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

func hubStatusAt(t *testing.T, env interface {
	RegisterDelayedCallback(func(), time.Duration)
}, query func() (contract.HubWatchStatus, error), delay time.Duration, into *contract.HubWatchStatus) {
	env.RegisterDelayedCallback(func() {
		st, err := query()
		if err != nil {
			t.Errorf("query: %v", err)
		}
		*into = st
	}, delay)
}

// Criterion 11: daysToExpiry, "ok" → "expiring" within warnDays, "rejected".
func TestAutomationHubTokenWatch_Status(t *testing.T) {
	env := newEnv(t)
	expires := t0.Add(20 * 24 * time.Hour)
	checks := 0
	env.OnActivity(hub.HubValidateToken, mock.Anything, mock.Anything).Return(
		func(_ context.Context, profile string) (activities.HubCheck, error) {
			checks++
			if profile != "hub" {
				t.Errorf("profile %q", profile)
			}
			if checks == 9 {
				return activities.HubCheck{Rejected: true, Message: "401 token inactive", Expires: expires}, nil
			}
			return activities.HubCheck{Valid: true, Expires: expires, CheckedAt: env.Now()}, nil
		})
	query := func() (contract.HubWatchStatus, error) {
		var st contract.HubWatchStatus
		v, err := env.QueryWorkflow(contract.QueryStatus)
		if err == nil {
			err = v.Get(&st)
		}
		return st, err
	}
	var day1, day7, day9 contract.HubWatchStatus
	hubStatusAt(t, env, query, 25*time.Hour, &day1)
	hubStatusAt(t, env, query, 7*24*time.Hour+time.Hour, &day7)
	hubStatusAt(t, env, query, 8*24*time.Hour+time.Hour, &day9)
	env.RegisterDelayedCallback(env.CancelWorkflow, 8*24*time.Hour+2*time.Hour)
	env.ExecuteWorkflow(AutomationHubTokenWatch, contract.HubWatchInput{Profile: "hub", WarnDays: 14})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want canceled, got %v", err)
	}
	if day1.State != "ok" || day1.DaysToExpiry == nil || *day1.DaysToExpiry != 19 || day1.Checks != 2 || !day1.LastOK.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("day 1 status %+v", day1)
	}
	if day7.State != "expiring" || day7.DaysToExpiry == nil || *day7.DaysToExpiry != 13 || !day7.Expires.Equal(expires) {
		t.Fatalf("day 7 status %+v (days %v)", day7, day7.DaysToExpiry)
	}
	if day9.State != "rejected" || day9.Message != "401 token inactive" || day9.Checks != 9 {
		t.Fatalf("day 8 status %+v", day9)
	}
}

// Criterion 11: a transient failure is reported, not fatal; the watch keeps checking.
func TestAutomationHubTokenWatch_TransientFailure(t *testing.T) {
	env := newEnv(t)
	calls := 0
	env.OnActivity(hub.HubValidateToken, mock.Anything, mock.Anything).Return(
		func(context.Context, string) (activities.HubCheck, error) {
			calls++
			if calls <= 5 { // the whole first check (5 attempts) fails
				return activities.HubCheck{}, temporal.NewApplicationError("503", string(contract.ErrUnavailable))
			}
			return activities.HubCheck{Valid: true}, nil
		})
	var first, second contract.HubWatchStatus
	running := false
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(contract.QueryStatus)
		_ = v.Get(&first)
		running = !env.IsWorkflowCompleted()
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(contract.QueryStatus)
		_ = v.Get(&second)
	}, 25*time.Hour)
	env.RegisterDelayedCallback(env.CancelWorkflow, 26*time.Hour)
	env.ExecuteWorkflow(AutomationHubTokenWatch, contract.HubWatchInput{Profile: "hub"})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want canceled (still running), got %v", err)
	}
	if !running || first.State != "unavailable" || first.Checks != 1 || first.Message == "" {
		t.Fatalf("after the failed check: running=%v %+v", running, first)
	}
	if second.State != "ok" || second.Checks != 2 || second.DaysToExpiry != nil {
		t.Fatalf("after the next check: %+v", second)
	}
}

// The watch continues as new, carrying its status.
func TestAutomationHubTokenWatch_ContinueAsNew(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(hub.HubValidateToken, mock.Anything, mock.Anything).Return(activities.HubCheck{Valid: true}, nil)
	env.ExecuteWorkflow(AutomationHubTokenWatch, contract.HubWatchInput{Profile: "hub", Interval: contract.Duration(time.Hour), CyclesPerRun: 3})
	can, _ := continueAsNewHub(t, env.GetWorkflowError())
	if can.Last == nil || can.Last.Checks != 3 || can.Last.State != "ok" || can.Interval.D() != time.Hour {
		t.Fatalf("carried %+v", can)
	}
	env = newEnv(t)
	env.ExecuteWorkflow(AutomationHubTokenWatch, contract.HubWatchInput{Profile: "Hub!"})
	requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, "Hub!")
}
