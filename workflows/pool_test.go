package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// poolHarness drives one CapacityPool: holders join with the acquire
// update, grants are the pool's signals (recorded), releases are signals.
type poolHarness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	mu   sync.Mutex
	dead map[string]bool // runs that have ended: signalling them fails
	// grants are the holders granted by signal, in order, with the time.
	grants   []string
	grantAt  map[string]time.Time
	rounds   map[string]int
	answers  map[string]*outcome[contract.PoolAcquireResult]
	ended    []contract.PoolHolder // what PoolEndedHolders reports
	checks   int
	final    contract.PoolStatus
	statuses []contract.PoolStatus
}

func newPoolHarness(t *testing.T) *poolHarness {
	h := &poolHarness{t: t, env: newEnv(t), dead: map[string]bool{}, grantAt: map[string]time.Time{}, rounds: map[string]int{},
		answers: map[string]*outcome[contract.PoolAcquireResult]{}}
	h.env.RegisterActivity(&activities.Pools{})
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, contract.SignalPoolGrant, mock.Anything).Return(
		func(_, wid, _, _ string, arg any) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.dead[wid] {
				return errors.New("workflow execution already completed")
			}
			h.grants = append(h.grants, wid)
			h.grantAt[wid] = h.env.Now()
			h.rounds[wid] = arg.(contract.PoolGrant).Round
			return nil
		})
	h.env.OnActivity(pools.PoolEndedHolders, mock.Anything, mock.Anything).Return(
		func(_ context.Context, hs []contract.PoolHolder) ([]contract.PoolHolder, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.checks++
			var out []contract.PoolHolder
			for _, x := range hs {
				if slices.Contains(h.ended, x) {
					out = append(out, x)
				}
			}
			return out, nil
		})
	return h
}

func holder(id string) contract.PoolHolder {
	return contract.PoolHolder{WorkflowID: id, RunID: "run-" + id}
}

// acquire queues id at delay.
func (h *poolHarness) acquire(delay time.Duration, id string, priority int, key string, cfg contract.PoolConfig) {
	h.answers[id] = sendUpdate[contract.PoolAcquireResult](h.env, delay, contract.UpdatePoolAcquire,
		contract.PoolAcquireRequest{Holder: holder(id), Priority: priority, Key: key, Slots: 1, Pool: cfg})
}

func (h *poolHarness) release(delay time.Duration, id, outcome string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(contract.SignalPoolRelease, contract.PoolRelease{Holder: holder(id), Outcome: outcome})
	}, delay)
}

func (h *poolHarness) status(delay time.Duration) {
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(contract.QueryStatus)
		var st contract.PoolStatus
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			h.t.Errorf("status at %s: %v", delay, err)
		}
		h.statuses = append(h.statuses, st)
	}, delay)
}

// run runs the pool until end, then cancels it and reads its last status.
func (h *poolHarness) run(cfg contract.PoolConfig, state *contract.PoolState, end time.Duration) error {
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(contract.QueryStatus)
		if err == nil {
			err = v.Get(&h.final)
		}
		if err != nil {
			h.t.Errorf("final status: %v", err)
		}
		h.env.CancelWorkflow()
	}, end)
	h.env.ExecuteWorkflow(CapacityPool, contract.PoolInput{Profile: "cr", Pool: cfg, State: state})
	return h.env.GetWorkflowError()
}

// granted reports who got a slot, by update answer or by signal, in order.
func (h *poolHarness) granted(ids ...string) []string {
	var out []string
	for _, id := range ids {
		if a := h.answers[id]; a != nil && a.done && a.err == nil && a.val.Granted {
			out = append(out, id)
		}
	}
	return append(out, h.grants...)
}

// Both versions: pool runs from before the batched intake grant after
// each release.
func TestPoolFIFOWithinLimit(t *testing.T) {
	for _, v := range []workflow.Version{workflow.DefaultVersion, 1} {
		t.Run(fmt.Sprint("version ", v), func(t *testing.T) { testPoolFIFOWithinLimit(t, v) })
	}
}

func testPoolFIFOWithinLimit(t *testing.T, v workflow.Version) {
	h := newPoolHarness(t)
	h.env.OnGetVersion(poolBatchVersion, workflow.DefaultVersion, 1).Return(v)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 2}
	for i := 1; i <= 5; i++ {
		h.acquire(time.Duration(i)*time.Second, fmt.Sprintf("h%d", i), 3, "k", cfg)
	}
	h.status(6 * time.Second)
	h.release(10*time.Second, "h1", contract.ReleaseDone)
	h.release(11*time.Second, "h3", contract.ReleaseDone)
	h.release(12*time.Second, "h2", contract.ReleaseDone)
	if err := h.run(cfg, nil, 20*time.Second); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("pool ended with %v, want canceled by the test", err)
	}
	if got := h.granted("h1", "h2", "h3", "h4", "h5"); !slices.Equal(got, []string{"h1", "h2", "h3", "h4", "h5"}) {
		t.Fatalf("grant order %v, want FIFO h1..h5", got)
	}
	if a := h.answers["h3"]; a.val.Granted || a.val.Position != 0 {
		t.Fatalf("h3's acquire answered %+v, want queued first in line", a.val)
	}
	st := h.statuses[0]
	if st.InUse != 2 || st.Waiting != 3 || len(st.Queues) != 1 || st.Queues[0].Waiting != 3 || !st.Oldest.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("status with a backlog = %+v", st)
	}
	if h.final.InUse != 2 || h.final.Waiting != 0 || h.final.Counts.Granted != 5 || h.final.Counts.Released != 3 {
		t.Fatalf("final status %+v: want h4 and h5 holding, 5 granted, 3 released", h.final)
	}
}

func TestPoolRoundRobinAcrossKeysAndPriority(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 1}
	h.acquire(time.Second, "x", 3, "a", cfg) // holds the only slot
	for i := 1; i <= 4; i++ {
		h.acquire(2*time.Second, fmt.Sprintf("a%d", i), 3, "a", cfg)
	}
	for i := 1; i <= 2; i++ {
		h.acquire(3*time.Second, fmt.Sprintf("b%d", i), 3, "b", cfg)
		h.acquire(3*time.Second, fmt.Sprintf("c%d", i), 3, "c", cfg)
	}
	h.acquire(4*time.Second, "urgent", 1, "z", cfg)
	prev := "x"
	// Each holder releases a second after its grant.
	release := func(at time.Duration) {
		h.env.RegisterDelayedCallback(func() {
			h.mu.Lock()
			id := prev
			if len(h.grants) > 0 {
				id = h.grants[len(h.grants)-1]
			}
			prev = id
			h.mu.Unlock()
			h.env.SignalWorkflow(contract.SignalPoolRelease, contract.PoolRelease{Holder: holder(id), Outcome: contract.ReleaseDone})
		}, at)
	}
	for i := 0; i < 10; i++ {
		release(time.Duration(10+i) * time.Second)
	}
	if err := h.run(cfg, nil, 30*time.Second); err == nil {
		t.Fatal("pool ended by itself")
	}
	// x (key a) was served already, so b and c go before a1.
	want := []string{"urgent", "b1", "c1", "a1", "b2", "c2", "a2", "a3", "a4"}
	if !slices.Equal(h.grants, want) {
		t.Fatalf("grants %v, want priority 1 first, then round-robin across keys, FIFO within a key: %v", h.grants, want)
	}
}

func TestPoolWeightedKeys(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 1, Weights: []contract.KeyWeight{{Key: "orders", Weight: 2}}}
	h.acquire(time.Second, "x", 3, "billing", cfg)
	for i := 1; i <= 4; i++ {
		h.acquire(2*time.Second, fmt.Sprintf("o%d", i), 3, "orders", cfg)
		h.acquire(2*time.Second, fmt.Sprintf("b%d", i), 3, "billing", cfg)
	}
	ids := []string{"x"}
	for i := 0; i < 6; i++ {
		h.env.RegisterDelayedCallback(func() {
			h.mu.Lock()
			id := ids[len(ids)-1]
			if len(h.grants) > 0 {
				id = h.grants[len(h.grants)-1]
			}
			h.mu.Unlock()
			h.env.SignalWorkflow(contract.SignalPoolRelease, contract.PoolRelease{Holder: holder(id), Outcome: contract.ReleaseDone})
		}, time.Duration(10+i)*time.Second)
	}
	_ = h.run(cfg, nil, 30*time.Second)
	orders := 0
	for _, g := range h.grants {
		if strings.HasPrefix(g, "o") {
			orders++
		}
	}
	if len(h.grants) != 6 || orders != 4 {
		t.Fatalf("grants %v: want 6 with orders (weight 2) getting 4", h.grants)
	}
}

func TestPoolCancelWhileQueuedAndDuplicateAcquire(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 1}
	h.acquire(time.Second, "h1", 3, "k", cfg)
	h.acquire(2*time.Second, "h2", 3, "k", cfg)
	h.acquire(3*time.Second, "h3", 3, "k", cfg)
	h.release(4*time.Second, "h2", contract.ReleaseCancelled) // leaves the queue
	// The same run asks again (a retried activity): same place, no second slot.
	dup := sendUpdate[contract.PoolAcquireResult](h.env, 5*time.Second, contract.UpdatePoolAcquire,
		contract.PoolAcquireRequest{Holder: holder("h1"), Priority: 3, Key: "k", Slots: 1, Pool: cfg})
	dup3 := sendUpdate[contract.PoolAcquireResult](h.env, 5*time.Second, contract.UpdatePoolAcquire,
		contract.PoolAcquireRequest{Holder: holder("h3"), Priority: 3, Key: "k", Slots: 1, Pool: cfg})
	h.status(6 * time.Second)
	h.release(10*time.Second, "h1", contract.ReleaseDone)
	_ = h.run(cfg, nil, 20*time.Second)
	if !dup.val.Granted || dup3.val.Granted || dup3.val.Position != 0 {
		t.Fatalf("repeated acquires answered %+v and %+v; want h1 granted, h3 still first in line", dup.val, dup3.val)
	}
	if st := h.statuses[0]; st.InUse != 1 || st.Waiting != 1 || st.Counts.Cancelled != 1 {
		t.Fatalf("status %+v: want 1 in use, 1 waiting, 1 cancelled", st)
	}
	if !slices.Equal(h.grants, []string{"h3"}) {
		t.Fatalf("grants %v: want only h3 (h2 left the queue)", h.grants)
	}
}

func TestPoolReclaimsEndedHolders(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 1}
	h.acquire(time.Second, "gone", 3, "k", cfg)
	h.acquire(2*time.Second, "deadwaiter", 3, "k", cfg)
	h.acquire(3*time.Second, "next", 3, "k", cfg)
	// "gone" is terminated at 5 s without releasing; "deadwaiter" ended
	// while queued, so its grant cannot be delivered.
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		h.ended = append(h.ended, holder("gone"))
		h.dead["deadwaiter"] = true
		h.mu.Unlock()
	}, 5*time.Second)
	_ = h.run(cfg, nil, 5*time.Minute)
	if !slices.Equal(h.grants, []string{"next"}) {
		t.Fatalf("grants %v: want next (deadwaiter's grant bounced)", h.grants)
	}
	if at := h.grantAt["next"].Sub(t0.Add(5 * time.Second)); at > poolCheckEvery+5*time.Second {
		t.Fatalf("slot came back %s after the holder ended; bound is %s", at, poolCheckEvery)
	}
	if h.final.Counts.Reclaimed != 2 || h.final.InUse != 1 || h.final.Holders != 1 {
		t.Fatalf("final %+v: want 2 reclaimed (gone, deadwaiter), next holding", h.final)
	}
}

func TestPoolCapacityRefusalShrinksAndRequeuesAtHead(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 3}
	h.acquire(time.Second, "h1", 3, "k", cfg)
	h.acquire(time.Second, "h2", 3, "k", cfg)
	h.acquire(time.Second, "h3", 3, "k", cfg)
	h.acquire(2*time.Second, "h4", 3, "k", cfg)
	h.release(5*time.Second, "h3", contract.ReleaseRefused) // the platform has room for two only
	h.status(6 * time.Second)
	h.release(20*time.Second, "h1", contract.ReleaseDone)
	h.release(40*time.Second, "h2", contract.ReleaseDone)
	_ = h.run(cfg, nil, time.Minute)
	st := h.statuses[0]
	if st.Effective != 2 || st.InUse != 2 || st.Waiting != 2 || st.Counts.Refused != 1 {
		t.Fatalf("after the refusal %+v: want effective 2, h3 and h4 waiting", st)
	}
	// h3 waits at the head, past its backoff, until a run succeeds at 20 s;
	// that success restores the limit, so h3 and h4 go together. (Signals
	// sent in one workflow task reach the test's mocks in any order, so
	// only their times are compared.)
	if len(h.grants) != 2 || !h.grantAt["h3"].Equal(t0.Add(20*time.Second)) || h.grantAt["h4"].Before(h.grantAt["h3"]) {
		t.Fatalf("grants %v at %v: want h3 at 20 s and h4 not before it", h.grants, h.grantAt)
	}
	if h.final.Effective != 3 {
		t.Fatalf("effective limit %d after runs succeeded, want back to 3", h.final.Effective)
	}
}

// A holder whose run the platform took but left waiting for capacity keeps
// its slot; the pool shrinks to what the platform runs and grows back as
// runs end.
func TestPoolPlatformPendingShrinksAndKeepsTheSlot(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "Shared", Limit: 3}
	for _, id := range []string{"h1", "h2", "h3"} {
		h.acquire(time.Second, id, 3, "k", cfg)
	}
	h.acquire(2*time.Second, "h4", 3, "k", cfg)
	h.acquire(2*time.Second, "h5", 3, "k", cfg)
	h.release(5*time.Second, "h3", contract.ReleasePending) // the folder has two robots
	h.release(6*time.Second, "h3", contract.ReleasePending) // told twice: counted once
	h.release(6*time.Second, "h4", contract.ReleasePending) // a waiting request is not a holder: nothing changes
	h.status(7 * time.Second)
	h.release(20*time.Second, "h1", contract.ReleaseDone)
	h.status(21 * time.Second)
	h.release(30*time.Second, "h3", contract.ReleaseDone)
	_ = h.run(cfg, nil, time.Minute)
	st := h.statuses[0]
	if st.Effective != 2 || st.InUse != 3 || st.Holders != 3 || st.PlatformPending != 1 || st.Waiting != 2 ||
		st.Counts.Pending != 1 || st.Counts.Refused != 0 || st.Counts.Cancelled != 0 {
		t.Fatalf("after the pending answer %+v: want effective 2, the three holders kept (one pending), h4 and h5 waiting", st)
	}
	if st := h.statuses[1]; st.Effective != 3 || st.InUse != 3 || st.Waiting != 1 {
		t.Fatalf("after h1 ended %+v: want the limit back to 3 and h4 granted", st)
	}
	if !slices.Equal(h.grants, []string{"h4", "h5"}) || !h.grantAt["h4"].Equal(t0.Add(20*time.Second)) || !h.grantAt["h5"].Equal(t0.Add(30*time.Second)) {
		t.Fatalf("grants %v at %v: want h4 at 20 s, h5 at 30 s", h.grants, h.grantAt)
	}
	if h.final.PlatformPending != 0 || h.final.Effective != 3 {
		t.Fatalf("final %+v: want no pending holder, effective 3", h.final)
	}
}

func TestPoolContinueAsNewKeepsState(t *testing.T) {
	old := poolCANAfter
	poolCANAfter = 4
	defer func() { poolCANAfter = old }()
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 1}
	h.acquire(time.Second, "h1", 3, "k", cfg)
	h.acquire(2*time.Second, "h2", 3, "k", cfg)
	h.acquire(3*time.Second, "h3", 2, "k", cfg)
	h.acquire(4*time.Second, "h4", 3, "other", cfg)
	h.env.ExecuteWorkflow(CapacityPool, contract.PoolInput{Profile: "cr", Pool: cfg})
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after 4 requests, got %v", err)
	}
	var in contract.PoolInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	if in.State == nil || len(in.State.Holders) != 1 || in.State.Holders[0].Holder != holder("h1") || len(in.State.Waiting) != 3 {
		t.Fatalf("carried state %+v: want h1 holding, three waiting", in.State)
	}
	// The next run goes on from there: h3 (priority 2) first, then h4 (key
	// "other" had no slot yet, k had h1's), then h2.
	poolCANAfter = old
	h2 := newPoolHarness(t)
	h2.release(time.Second, "h1", contract.ReleaseDone)
	h2.release(2*time.Second, "h3", contract.ReleaseDone)
	h2.release(3*time.Second, "h4", contract.ReleaseDone)
	_ = h2.run(in.Pool, in.State, 10*time.Second)
	if !slices.Equal(h2.grants, []string{"h3", "h4", "h2"}) || h2.final.Counts.Granted != 4 {
		t.Fatalf("after continue-as-new grants %v (status %+v), want h3, h4, h2 and 4 granted in all", h2.grants, h2.final)
	}
}

// signals sends the acquire and release signals of one callback, so the
// pool takes them in with one workflow task.
func (h *poolHarness) signals(delay time.Duration, sigs ...any) {
	h.env.RegisterDelayedCallback(func() {
		for i, sg := range sigs {
			send := h.env.SignalWorkflowSkippingWorkflowTask
			if i == len(sigs)-1 {
				send = h.env.SignalWorkflow
			}
			switch x := sg.(type) {
			case contract.PoolAcquireRequest:
				send(contract.SignalPoolAcquire, []contract.PoolAcquireRequest{x})
			case []contract.PoolAcquireRequest: // one worker's gathered requests
				send(contract.SignalPoolAcquire, x)
			default:
				send(contract.SignalPoolRelease, sg)
			}
		}
	}, delay)
}

func TestPoolAcquireSignalsOfOneTaskGoByPriority(t *testing.T) {
	h := newPoolHarness(t)
	cfg := contract.PoolConfig{Name: "apitask", Limit: 1}
	req := func(id string, prio int, key string) contract.PoolAcquireRequest {
		return contract.PoolAcquireRequest{Holder: holder(id), Priority: prio, Key: key, Slots: 1, Pool: cfg}
	}
	rel := func(id, outcome string) contract.PoolRelease {
		return contract.PoolRelease{Holder: holder(id), Outcome: outcome}
	}
	// The priority-1 request came last, in the same task: it goes first.
	h.signals(time.Second, []contract.PoolAcquireRequest{req("a1", 3, "a"), req("a2", 3, "a")}, req("b1", 3, "b"),
		[]contract.PoolAcquireRequest{req("u1", 1, "u"), {Holder: contract.PoolHolder{WorkflowID: "norun"}, Slots: 1, Pool: cfg}})
	// A release and a priority-1 arrival in one task: the freed slot goes
	// to it at once; a repeated acquire changes nothing.
	h.signals(5*time.Second, rel("u1", contract.ReleaseDone), req("u2", 1, "u"), req("a1", 3, "a"))
	// Acquired and cancelled in one task: never granted.
	h.signals(8*time.Second, req("c1", 1, "u"), rel("c1", contract.ReleaseCancelled))
	h.status(9 * time.Second)
	h.release(10*time.Second, "u2", contract.ReleaseDone)
	// A run the pool does not know, after two refusals: granted round 2.
	r2 := req("r2", 1, "r")
	r2.Round = 2
	h.signals(12*time.Second, r2, rel("a1", contract.ReleaseDone))
	_ = h.run(cfg, nil, 20*time.Second)
	if want := []string{"u1", "u2", "a1", "r2"}; !slices.Equal(h.grants, want) {
		t.Fatalf("grants %v, want %v", h.grants, want)
	}
	if !h.grantAt["u1"].Equal(t0.Add(time.Second)) || !h.grantAt["u2"].Equal(t0.Add(5*time.Second)) || h.rounds["r2"] != 2 {
		t.Fatalf("grants at %v, rounds %v: want u1 at 1 s, u2 at 5 s, r2's round 2", h.grantAt, h.rounds)
	}
	if st := h.statuses[0]; st.InUse != 1 || st.Waiting != 3 || st.Counts.Cancelled != 1 {
		t.Fatalf("status %+v: want u2 holding; a1, a2, b1 waiting; c1 cancelled (norun ignored)", st)
	}
	if h.final.Waiting != 2 || h.final.Counts.Granted != 4 {
		t.Fatalf("final %+v: want a2 and b1 waiting, 4 granted", h.final)
	}
}
