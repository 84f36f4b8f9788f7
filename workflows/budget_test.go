package workflows

import (
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// TestTenantBudget: 60 a minute refills 0.9 a second up to a burst of 3; a
// pause (a 429's Retry-After) grants nothing until it ends.
func TestTenantBudget(t *testing.T) {
	env := newEnv(t)
	lease := func(at time.Duration, want int) *outcome[contract.BudgetGrant] {
		return sendUpdate[contract.BudgetGrant](env, at, contract.UpdateBudgetLease, contract.BudgetLease{Want: want, PerMinute: 60})
	}
	burst := lease(time.Second, 100)   // the bucket starts empty: nothing yet
	first := lease(7*time.Second, 100) // 6 s at 1/s, capped at 6
	paced := lease(7*time.Second, 1)   // none left: retry after a second
	pause := sendUpdate[any](env, 8*time.Second, contract.UpdateBudgetPause, contract.BudgetPause{For: contract.Duration(30 * time.Second)})
	paused := lease(20*time.Second, 5) // paused until 38 s
	after := lease(48*time.Second, 50) // 10 s refilled
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 60})
	if burst.val.Granted != 0 || burst.val.RetryAfter.D() <= 0 || burst.val.RetryAfter.D() > 200*time.Millisecond {
		t.Errorf("at 1 s: %+v, want none yet (0.9 refilled), retry in about 0.1 s", burst.val)
	}
	if first.val.Granted != 3 || first.val.ValidFor.D() != budgetPermitLife {
		t.Errorf("at 7 s: %+v, want the burst of 3", first.val)
	}
	if r := paced.val.RetryAfter.D(); paced.val.Granted != 0 || r < 1100*time.Millisecond || r > 1120*time.Millisecond {
		t.Errorf("right after: %+v, want none, retry after 1/0.9 s", paced.val)
	}
	if !pause.done || pause.err != nil {
		t.Errorf("pause: %+v", pause)
	}
	if paused.val.Granted != 0 || paused.val.RetryAfter.D() != 18*time.Second {
		t.Errorf("while paused: %+v, want none, retry after 18 s", paused.val)
	}
	if after.val.Granted != 3 {
		t.Errorf("after the pause: %+v, want a full burst of 3", after.val)
	}
}
