package workflows

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// TestTenantBudget: 60 a minute refills 0.93 a second up to a burst of
// 2.4; a routine lease waits for 1.2. A lease waits in the budget until it can be granted; urgent leases
// (event-confirming reads) go before older routine ones, also once a
// worker's waiting lease is marked urgent by a signal; a pause (a 429's
// Retry-After) grants nothing until it ends, and a lease held longer than
// budgetHold is answered with none.
func TestTenantBudget(t *testing.T) {
	env := newEnv(t)
	lease := func(at time.Duration, worker string, want, urgent int) *outcome[contract.BudgetGrant] {
		return sendUpdate[contract.BudgetGrant](env, at, contract.UpdateBudgetLease,
			contract.BudgetLease{Want: want, Urgent: urgent, PerMinute: 60, Worker: worker})
	}
	first := lease(time.Second, "a", 3, 0) // the bucket starts empty: waits for 1.2 tokens
	// At 10 s the bucket is full (2.4): a takes two; b waits; c is urgent
	// and takes the next token before b.
	a := lease(10*time.Second, "a", 5, 0)
	b := lease(10*time.Second+time.Millisecond, "b", 5, 0)
	c := lease(10*time.Second+100*time.Millisecond, "c", 1, 1)
	// x empties the bucket; d (routine) waits behind e; the urgent signal
	// for d's worker puts it first.
	x := lease(20*time.Second, "x", 2, 0)
	e := lease(20*time.Second+time.Millisecond, "e", 5, 0)
	d := lease(20*time.Second+2*time.Millisecond, "d", 5, 0)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalBudgetUrgent, contract.BudgetUrgent{Worker: "d", Urgent: 1})
	}, 20*time.Second+10*time.Millisecond)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalBudgetPause, contract.BudgetPause{For: contract.Duration(30 * time.Second)})
	}, 30*time.Second)
	paused := lease(31*time.Second, "a", 2, 1)  // held budgetHold, answered with none
	resumed := lease(55*time.Second, "b", 2, 0) // the pause ends at 60 s
	var st contract.BudgetState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(contract.QueryStatus)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			t.Errorf("status: %v", err)
		}
	}, 56*time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, 90*time.Second)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 60})

	at := func(o *outcome[contract.BudgetGrant]) time.Duration { return o.at.Sub(t0) }
	near := func(got, want time.Duration) bool {
		return got >= want-20*time.Millisecond && got <= want+20*time.Millisecond
	}
	if first.val.Granted != 1 || first.val.ValidFor.D() != budgetPermitLife || !near(at(first), 1290*time.Millisecond) {
		t.Errorf("first: %+v at %s, want 1 permit once 1.2 tokens refilled (1.29 s)", first.val, at(first))
	}
	if a.val.Granted != 2 || !near(at(a), 10*time.Second) {
		t.Errorf("a: %+v at %s, want 2 permits at once", a.val, at(a))
	}
	// After a, 0.4 tokens: c needs 1 (0.65 s), then b needs 1.2 (1.29 s more).
	if c.val.Granted != 1 || !near(at(c), 10645*time.Millisecond) {
		t.Errorf("c (urgent): %+v at %s, want 1 permit at 10.65 s", c.val, at(c))
	}
	if b.val.Granted != 1 || !near(at(b), 11935*time.Millisecond) {
		t.Errorf("b: %+v at %s, want 1 permit after c, at 11.9 s", b.val, at(b))
	}
	if x.val.Granted != 2 || d.val.Granted != 1 || !near(at(d), 20645*time.Millisecond) || e.val.Granted != 1 || !near(at(e), 21935*time.Millisecond) {
		t.Errorf("d (marked urgent) %+v at %s, e %+v at %s: want d first at 20.65 s, e at 21.9 s", d.val, at(d), e.val, at(e))
	}
	if paused.val.Granted != 0 || !near(at(paused), 41*time.Second) || paused.val.RetryAfter.D() != 19*time.Second {
		t.Errorf("while paused: %+v at %s, want none after the 10 s hold, retry after 19 s", paused.val, at(paused))
	}
	if resumed.val.Granted != 2 || !near(at(resumed), 60*time.Second) {
		t.Errorf("after the pause: %+v at %s, want 2 permits at 60 s", resumed.val, at(resumed))
	}
	if st.Granted != 9 || st.Pauses != 1 || st.Waiting != 2 {
		t.Errorf("status at 56 s: %+v, want 9 granted, 1 pause, 2 permits waiting", st)
	}
}

// TestTenantBudgetContinueAsNew: when a run has answered its share, leases
// still waiting are answered with none (their workers ask the next run)
// and the bucket's state goes on in the next run.
func TestTenantBudgetContinueAsNew(t *testing.T) {
	defer func(n int) { budgetCANAfter = n }(budgetCANAfter)
	budgetCANAfter = 3
	env := newEnv(t)
	var outs []*outcome[contract.BudgetGrant]
	for i := range 3 {
		outs = append(outs, sendUpdate[contract.BudgetGrant](env, time.Duration(i+1)*time.Second, contract.UpdateBudgetLease,
			contract.BudgetLease{Want: 1, PerMinute: 60, Worker: "w"}))
	}
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 60})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	granted := 0
	for i, o := range outs {
		if !o.done || o.err != nil {
			t.Errorf("lease %d: %+v", i, o)
		}
		granted += o.val.Granted
	}
	// Two of the three got a permit (1.2 s of refill each); the third
	// came as the run closed.
	if granted != 2 || outs[2].val.Granted != 0 || outs[2].val.RetryAfter != 0 {
		t.Errorf("granted %d; last %+v: want 2, the last answered with none to ask again at once", granted, outs[2].val)
	}
}
