package activities

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
)

// TestGrantPermitsClocks: a grant's moments are placed on the worker's
// clock so that, wherever within what the lease's round trip allows the
// worker's clock really is against the server's, a permit is used only
// within its life on the server's clock.
func TestGrantPermitsClocks(t *testing.T) {
	server := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	life, every := 500*time.Millisecond, 610*time.Millisecond
	g := contract.BudgetGrant{Granted: 3, At: server.Add(2 * time.Second), Every: contract.Duration(every), ValidFor: contract.Duration(life), Now: server}
	for _, c := range []struct {
		name       string
		ahead      time.Duration // how far the worker's clock is ahead of the server's
		before     time.Duration // the lease was sent this long before the grant (server clock)
		after      time.Duration // and answered this long after
		want       int
		exactlyNow bool // clocks that agree within the round trip: moments taken as they are
	}{
		{"in step", 0, 40 * time.Millisecond, 60 * time.Millisecond, 3, true},
		{"slightly off, within the round trip", 30 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond, 3, true},
		{"5 s ahead", 5 * time.Second, 40 * time.Millisecond, 60 * time.Millisecond, 3, false},
		{"3 s behind", -3 * time.Second, 100 * time.Millisecond, 200 * time.Millisecond, 3, false},
		{"off, round trip longer than a permit's life", 4 * time.Second, 300 * time.Millisecond, 300 * time.Millisecond, 0, false},
	} {
		sent, got := server.Add(c.ahead-c.before), server.Add(c.ahead+c.after)
		ps, lag := grantPermits(g, sent, got)
		if len(ps) != c.want {
			t.Errorf("%s: %d permits, want %d", c.name, len(ps), c.want)
			continue
		}
		// The grant reached the worker c.after after it was made (as this
		// clock tells it); a clock found off can only tell the round trip.
		if wantLag := map[bool]time.Duration{true: c.ahead + c.after, false: c.before + c.after}[c.exactlyNow]; lag != wantLag {
			t.Errorf("%s: lag %s, want %s", c.name, lag, wantLag)
		}
		for i, p := range ps {
			at := g.At.Add(time.Duration(i) * every)
			if !p.at.Equal(at) || !p.from.Before(p.until) {
				t.Errorf("%s: permit %d %+v for %s", c.name, i, p, at)
			}
			if c.exactlyNow && (!p.from.Equal(at) || !p.until.Equal(at.Add(life))) {
				t.Errorf("%s: permit %d from %s until %s, want its moment and life as granted", c.name, i, p.from, p.until)
			}
			// Any true offset the round trip allows keeps the use within
			// the permit's life on the server's clock.
			if !c.exactlyNow {
				for _, off := range []time.Duration{sent.Sub(server), c.ahead, got.Sub(server)} {
					if p.from.Add(-off).Before(at) || p.until.Add(-off).After(at.Add(life)) {
						t.Errorf("%s: permit %d usable from %s to %s on the server's clock (offset %s), outside %s + %s",
							c.name, i, p.from.Add(-off), p.until.Add(-off), off, at, life)
					}
				}
			}
		}
	}
	old, _ := grantPermits(contract.BudgetGrant{Granted: 2, ValidFor: contract.Duration(time.Second)}, server, server.Add(time.Second))
	if len(old) != 2 || !old[0].from.Equal(server.Add(time.Second)) || !old[1].until.Equal(server.Add(2*time.Second)) {
		t.Errorf("a grant for use at once: %+v, want 2 permits from its answer for 1 s", old)
	}
}

// fakeBudget stands for the budget workflow on the same clock as the test:
// it grants up to 5 permits a lease ahead of time, every apart, holds a
// lease that only listens until a pause or a while, and pauses on a pause
// signal as the workflow does.
type fakeBudget struct {
	client.Client
	every, life time.Duration
	mu          sync.Mutex
	next        time.Time
	paused      time.Time
	changed     chan struct{}
	granted     int
	leases      []contract.BudgetLease
	pauses      int
}

func newFakeBudget(every, life time.Duration) *fakeBudget {
	return &fakeBudget{every: every, life: life, changed: make(chan struct{})}
}

type fakeGrant struct {
	client.WorkflowUpdateHandle
	g contract.BudgetGrant
}

func (h fakeGrant) Get(_ context.Context, v any) error {
	*v.(*contract.BudgetGrant) = h.g
	return nil
}

func (f *fakeBudget) NewWithStartWorkflowOperation(client.StartWorkflowOptions, any, ...any) client.WithStartWorkflowOperation {
	return nil
}

func (f *fakeBudget) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	l := o.UpdateOptions.Args[0].(contract.BudgetLease)
	f.mu.Lock()
	f.leases = append(f.leases, l)
	changed := f.changed
	f.mu.Unlock()
	if l.Want == 0 {
		select {
		case <-changed:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	g := contract.BudgetGrant{Now: now, Every: contract.Duration(f.every), ValidFor: contract.Duration(f.life)}
	if f.paused.After(now) {
		g.PausedUntil = f.paused
	}
	if l.Want > 0 {
		g.At = f.next
		if g.At.Before(now) {
			g.At = now
		}
		g.Granted = min(l.Want, 5)
		f.next = g.At.Add(time.Duration(g.Granted) * f.every)
		f.granted += g.Granted
	}
	return fakeGrant{g: g}, nil
}

func (f *fakeBudget) SignalWorkflow(context.Context, string, string, string, any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

func (f *fakeBudget) SignalWithStartWorkflow(_ context.Context, _ string, signal string, arg any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := arg.(contract.BudgetPause); ok && signal == contract.SignalBudgetPause {
		f.pauses++
		f.paused = time.Now().Add(p.For.D())
		if f.next.Before(f.paused) {
			f.next = f.paused
		}
		close(f.changed)
		f.changed = make(chan struct{})
	}
	return nil, nil
}

// take runs n Takes at once and returns when each returned.
func take(t *testing.T, b *TenantBudgets, n int, urgent bool, ends chan<- time.Time, wg *sync.WaitGroup) {
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Take(ctx, "orch", 100, urgent); err != nil {
				t.Errorf("take: %v", err)
			}
			ends <- time.Now()
		}()
	}
}

// TestTenantBudgetsHandOut: permits granted ahead are handed out at their
// moments, never before, an urgent call first; the worker asks only for
// what its calls lack.
func TestTenantBudgetsHandOut(t *testing.T) {
	f := newFakeBudget(100*time.Millisecond, 80*time.Millisecond)
	b := &TenantBudgets{Client: f, TaskQueue: "q", Worker: "w"}
	routine, urgent := make(chan time.Time, 6), make(chan time.Time, 1)
	var wg sync.WaitGroup
	start := time.Now()
	take(t, b, 6, false, routine, &wg)
	time.Sleep(30 * time.Millisecond)
	take(t, b, 1, true, urgent, &wg)
	wg.Wait()
	close(routine)
	var ends []time.Duration
	for e := range routine {
		ends = append(ends, e.Sub(start))
	}
	slices.Sort(ends)
	u := (<-urgent).Sub(start)
	// 5 permits at 0..400 ms for the first lease, 1 more at 500 ms.
	if len(ends) != 6 || u < 100*time.Millisecond || u > ends[2] {
		t.Errorf("urgent call at %s, routine ones at %v: want the urgent one at the second permit (100 ms), before the third routine call", u, ends)
	}
	all := append([]time.Duration{u}, ends...)
	slices.Sort(all)
	for i, e := range all {
		if e < time.Duration(i)*100*time.Millisecond-10*time.Millisecond {
			t.Errorf("call %d of %v at %s: before its permit's moment", i, all, e)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if int64(f.granted) != 7+b.Lapsed() {
		t.Errorf("granted %d for 7 calls with %d lapsed: a worker asks only for what its calls lack", f.granted, b.Lapsed())
	}
}

// TestTenantBudgetsPauseVoidsHeldPermits: worker a holds permits for
// moments to come; worker b gets a 429 and pauses the tenant; a hears of it
// through its listening lease, drops the permits for moments within the
// pause, and its remaining calls are made after the pause.
func TestTenantBudgetsPauseVoidsHeldPermits(t *testing.T) {
	f := newFakeBudget(300*time.Millisecond, 200*time.Millisecond)
	a := &TenantBudgets{Client: f, TaskQueue: "q", Worker: "a"}
	b := &TenantBudgets{Client: f, TaskQueue: "q", Worker: "b"}
	ends := make(chan time.Time, 4)
	var wg sync.WaitGroup
	take(t, a, 4, false, ends, &wg) // permits at 0, 300, 600, 900 ms
	first := <-ends
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		listening := f.granted == 4 && f.leases[len(f.leases)-1].Want == 0
		f.mu.Unlock()
		if listening {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("worker a did not lease its 4 permits and listen")
		}
	}
	if err := b.Pause(context.Background(), "orch", 100, time.Second); err != nil {
		t.Fatal(err)
	}
	pausedUntil := time.Now().Add(time.Second)
	wg.Wait()
	close(ends)
	for e := range ends {
		if e.Before(pausedUntil.Add(-50 * time.Millisecond)) {
			t.Errorf("a call made %s after the pause began, %s before its end", e.Sub(first), pausedUntil.Sub(e))
		}
	}
	if a.Lapsed() != 3 || f.pauses != 1 {
		t.Errorf("a dropped %d permits, %d pauses sent: want the 3 held permits void, one pause", a.Lapsed(), f.pauses)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.ContainsFunc(f.leases, func(l contract.BudgetLease) bool { return l.Want == 0 && l.Ahead }) {
		t.Errorf("leases %+v: a worker holding permits ahead must listen for a pause", f.leases)
	}
}
