package workflows

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// TestTenantBudgetQueuedLeases is the token bucket of runs started before
// aheadGrantsVersion: 60 a minute refills 0.93 a second up to a burst of
// 2.4; a routine lease waits for 1.2. A lease waits in the budget until it can be granted; urgent leases
// (event-confirming reads) go before older routine ones, also once a
// worker's waiting lease is marked urgent by a signal; a pause (a 429's
// Retry-After) grants nothing until it ends, and a lease held longer than
// budgetHold is answered with none.
func TestTenantBudgetQueuedLeases(t *testing.T) {
	env := newEnv(t)
	env.OnGetVersion(aheadGrantsVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
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
	statusAt(t, env, 56*time.Second, &st)
	env.RegisterDelayedCallback(env.CancelWorkflow, 90*time.Second)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 60})

	at := func(o *outcome[contract.BudgetGrant]) time.Duration { return o.at.Sub(t0) }
	near := func(got, want time.Duration) bool {
		return got >= want-20*time.Millisecond && got <= want+20*time.Millisecond
	}
	if first.val.Granted != 1 || first.val.ValidFor.D() != queuedPermitLife || !near(at(first), 1290*time.Millisecond) {
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
	env.OnGetVersion(aheadGrantsVersion, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
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

// leaseAhead sends a lease of a worker that takes permits granted ahead.
func leaseAhead(env *testsuite.TestWorkflowEnvironment, at time.Duration, worker string, want, urgent int) *outcome[contract.BudgetGrant] {
	return sendUpdate[contract.BudgetGrant](env, at, contract.UpdateBudgetLease,
		contract.BudgetLease{Want: want, Urgent: urgent, PerMinute: 100, Worker: worker, Ahead: true})
}

// TestTenantBudgetAheadGrants: at 100 a minute permits are 610 ms apart
// and a lease is granted those due within 10 s, each usable for 500 ms
// from its moment. A pause answers the waiting leases at once (the listening
// one too) with the pause, so their workers drop the permits it voids, and
// no permit is granted for a moment before its end; urgent leases go
// first; a worker that takes permits only for use at once gets one when
// its moment has come; a listening lease raised by a signal is granted.
func TestTenantBudgetAheadGrants(t *testing.T) {
	env := newEnv(t)
	a := leaseAhead(env, time.Second, "a", 30, 0)
	w := leaseAhead(env, 1200*time.Millisecond, "w", 0, 0) // listens for a pause
	b := leaseAhead(env, 1500*time.Millisecond, "b", 10, 0)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalBudgetPause, contract.BudgetPause{For: contract.Duration(20 * time.Second)})
	}, 1600*time.Millisecond)
	c := leaseAhead(env, 3*time.Second, "c", 3, 0)
	old := sendUpdate[contract.BudgetGrant](env, 4*time.Second, contract.UpdateBudgetLease,
		contract.BudgetLease{Want: 1, PerMinute: 100, Worker: "old"})
	e := leaseAhead(env, 12500*time.Millisecond, "e", 1, 1)
	f := leaseAhead(env, 15*time.Second, "f", 0, 0)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalBudgetUrgent, contract.BudgetUrgent{Worker: "f", Want: 2})
	}, 16*time.Second)
	var st contract.BudgetState
	statusAt(t, env, 13*time.Second, &st)
	env.RegisterDelayedCallback(env.CancelWorkflow, 20*time.Second)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 100})

	at := func(d time.Duration) time.Time { return t0.Add(d) }
	paused := at(21600 * time.Millisecond)
	check := func(name string, o *outcome[contract.BudgetGrant], answered time.Duration, want contract.BudgetGrant) {
		t.Helper()
		if !o.done || o.err != nil || !o.at.Equal(at(answered)) || o.val != want {
			t.Errorf("%s: %+v (err %v) at %s,\nwant %+v at %s", name, o.val, o.err, o.at.Sub(t0), want, answered)
		}
	}
	every, life := contract.Duration(610*time.Millisecond), contract.Duration(budgetPermitLife)
	// The first lease takes the permits of 1 s to 10.76 s; the next free
	// moment is 11.37 s.
	check("a", a, time.Second, contract.BudgetGrant{Granted: 17, At: at(time.Second), Every: every, ValidFor: life, Now: at(time.Second)})
	// b waits for two permits within reach; the pause answers it and w.
	check("w", w, 1600*time.Millisecond, contract.BudgetGrant{Now: at(1600 * time.Millisecond), PausedUntil: paused})
	check("b", b, 1600*time.Millisecond, contract.BudgetGrant{Now: at(1600 * time.Millisecond), PausedUntil: paused})
	// c gets the first two moments after the pause once they are within 10 s.
	check("c", c, 12210*time.Millisecond, contract.BudgetGrant{Granted: 2, At: paused, Every: every, ValidFor: life,
		Now: at(12210 * time.Millisecond), PausedUntil: paused})
	// The old worker's lease is held 10 s and told to wait out the pause.
	check("old", old, 14*time.Second, contract.BudgetGrant{Now: at(14 * time.Second), PausedUntil: paused, RetryAfter: contract.Duration(7600 * time.Millisecond)})
	// e is urgent: it goes before the old worker's lease.
	check("e (urgent)", e, 12820*time.Millisecond, contract.BudgetGrant{Granted: 1, At: at(22820 * time.Millisecond), Every: every, ValidFor: life,
		Now: at(12820 * time.Millisecond), PausedUntil: paused})
	check("f (raised)", f, 16*time.Second, contract.BudgetGrant{Granted: 2, At: at(23430 * time.Millisecond), Every: every, ValidFor: life,
		Now: at(16 * time.Second), PausedUntil: paused})
	if st.Granted != 20 || st.Pauses != 1 || st.Waiting != 1 || !st.Next.Equal(at(23430*time.Millisecond)) || !st.PausedUntil.Equal(paused) {
		t.Errorf("status at 13 s: %+v, want 20 granted, 1 pause, 1 permit waiting, next at 23.43 s", st)
	}
}

// TestTenantBudgetAheadLag: when the budget has no permit due, a lease's
// first permit comes due no sooner than the worker's grants take to reach
// it (at most 5 s), so it is not void on arrival.
func TestTenantBudgetAheadLag(t *testing.T) {
	env := newEnv(t)
	lease := func(at, lag time.Duration) *outcome[contract.BudgetGrant] {
		return sendUpdate[contract.BudgetGrant](env, at, contract.UpdateBudgetLease,
			contract.BudgetLease{Want: 2, PerMinute: 100, Worker: "w", Ahead: true, Lag: contract.Duration(lag)})
	}
	a := lease(time.Second, 300*time.Millisecond)
	b := lease(1100*time.Millisecond, 300*time.Millisecond) // the next free moment is later anyway
	c := lease(30*time.Second, 20*time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, 40*time.Second)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 100})
	for _, x := range []struct {
		name string
		o    *outcome[contract.BudgetGrant]
		at   time.Duration
	}{{"a", a, 1300 * time.Millisecond}, {"b", b, 2520 * time.Millisecond}, {"c", c, 35 * time.Second}} {
		if x.o.val.Granted != 2 || !x.o.val.At.Equal(t0.Add(x.at)) {
			t.Errorf("%s: %+v, want 2 permits from %s", x.name, x.o.val, x.at)
		}
	}
}

// TestTenantBudgetAheadWindow: three workers ask for more than the tenant
// allows for 150 s, with urgent reads and two pauses. However each permit is
// used within its life, no 60 s window holds more than PerMinute calls; no
// permit is granted for a moment inside a pause after it began; and the
// budget keeps its pace: between pauses, the moments granted follow each
// other at the spacing.
func TestTenantBudgetAheadWindow(t *testing.T) {
	defer func(n int) { budgetCANAfter = n }(budgetCANAfter)
	budgetCANAfter = 1 << 20
	const perMinute = 100
	env := newEnv(t)
	rnd := rand.New(rand.NewPCG(21, 10))
	var leases []*outcome[contract.BudgetGrant]
	for i := range 450 {
		at := time.Second + time.Duration(i)*time.Second/3 + time.Duration(rnd.IntN(300))*time.Millisecond
		want, urgent := 1+rnd.IntN(25), 0
		if rnd.IntN(5) == 0 {
			urgent = 1
		}
		leases = append(leases, leaseAhead(env, at, fmt.Sprintf("w%d", i%3), want, urgent))
	}
	type pause struct{ at, d time.Duration }
	pauses := []pause{{40 * time.Second, 15 * time.Second}, {100 * time.Second, 3 * time.Second}}
	for _, p := range pauses {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(contract.SignalBudgetPause, contract.BudgetPause{For: contract.Duration(p.d)})
		}, p.at)
	}
	env.RegisterDelayedCallback(env.CancelWorkflow, 170*time.Second)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: perMinute})

	var moments []time.Time
	var life time.Duration
	for i, o := range leases {
		if !o.done || o.err != nil {
			t.Fatalf("lease %d: %+v", i, o)
		}
		g := o.val
		for k := range g.Granted {
			m := g.At.Add(time.Duration(k) * g.Every.D())
			moments = append(moments, m)
			for _, p := range pauses {
				if !o.at.Before(t0.Add(p.at)) && m.Before(t0.Add(p.at+p.d)) {
					t.Errorf("lease %d answered at %s after a pause at %s: permit for %s, before its end", i, o.at.Sub(t0), p.at, m.Sub(t0))
				}
			}
		}
		life = max(life, g.ValidFor.D())
	}
	slices.SortFunc(moments, time.Time.Compare)
	if len(moments) < 200 {
		t.Fatalf("%d permits granted: the test asks for far more", len(moments))
	}
	// The worst case for a window: one call at the end of its permit's life,
	// the next perMinute at the start of theirs.
	for k := 0; k+perMinute < len(moments); k++ {
		if span := moments[k+perMinute].Sub(moments[k]); span < time.Minute+life {
			t.Fatalf("permits %d and %d are %s apart: %d calls can fall within 60 s", k, k+perMinute, span, perMinute+1)
		}
	}
	every := budgetEvery(perMinute)
	for k := 1; k < len(moments); k++ {
		gap := moments[k].Sub(moments[k-1])
		inPause := false
		for _, p := range pauses {
			end := t0.Add(p.at + p.d)
			inPause = inPause || (moments[k].Equal(end) && moments[k-1].Before(end))
		}
		if gap != every && !inPause {
			t.Errorf("permits %d and %d at %s and %s: %s apart, want %s (the pace lost or broken)", k-1, k, moments[k-1].Sub(t0), moments[k].Sub(t0), gap, every)
		}
	}
}

// TestTenantBudgetAheadContinueAsNew: the next run goes on from the next
// free moment, so the permits of both runs keep their spacing.
func TestTenantBudgetAheadContinueAsNew(t *testing.T) {
	defer func(n int) { budgetCANAfter = n }(budgetCANAfter)
	budgetCANAfter = 2
	env := newEnv(t)
	a := leaseAhead(env, time.Second, "a", 30, 0)
	b := leaseAhead(env, 1500*time.Millisecond, "b", 5, 0)
	env.ExecuteWorkflow(TenantBudget, contract.BudgetInput{Profile: "orch", PerMinute: 100})
	in, _ := continueAsNewInput[contract.BudgetInput](t, env.GetWorkflowError())
	if a.val.Granted != 17 || b.val.Granted != 0 || !b.done {
		t.Errorf("a %+v, b %+v: want 17 permits for a, b answered with none to ask the next run", a.val, b.val)
	}
	if in.State == nil || !in.State.Next.Equal(t0.Add(11370*time.Millisecond)) || in.State.Granted != 17 {
		t.Errorf("next run's state %+v: want the next moment at 11.37 s and 17 granted", in.State)
	}
}
