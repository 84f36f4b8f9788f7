package activities_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// signaller records the acquire signals; the first one waits for gate.
type signaller struct {
	client.Client
	mu    sync.Mutex
	sent  [][]string // each signal's holders
	ids   []string
	gate  chan struct{}
	fail  error
	calls int
	// started: the pool runs (after the first signal-with-start).
	started bool
	starts  int
}

func (s *signaller) SignalWithStartWorkflow(ctx context.Context, id, name string, arg any, o client.StartWorkflowOptions,
	wf any, args ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != contract.SignalPoolAcquire || o.ID != id || wf != contract.PoolWorkflow {
		return nil, fmt.Errorf("signal %q to %q (start %q, %v)", name, id, o.ID, wf)
	}
	var holders []string
	for _, r := range arg.([]contract.PoolAcquireRequest) {
		holders = append(holders, r.Key)
	}
	s.sent = append(s.sent, holders)
	s.ids = append(s.ids, id)
	if o.WorkflowIDConflictPolicy != 0 {
		s.starts++
		s.started = s.fail == nil
	}
	return nil, s.fail
}

// SignalWorkflow: the pool is not running until started is set.
func (s *signaller) SignalWorkflow(ctx context.Context, id, run, name string, arg any) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return serviceerror.NewNotFound("workflow not found")
	}
	_, err := s.SignalWithStartWorkflow(ctx, id, name, arg, client.StartWorkflowOptions{ID: id}, contract.PoolWorkflow)
	return err
}

func (s *signaller) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// acquireAll runs PoolAcquireSignal for each key at once (the first alone,
// until its signal is under way) and returns each call's error.
func acquireAll(t *testing.T, p *activities.Pools, s *signaller, keys []string) []error {
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	run := func(i int) {
		defer wg.Done()
		var ts testsuite.WorkflowTestSuite
		env := ts.NewTestActivityEnvironment()
		env.RegisterActivity(p)
		_, errs[i] = env.ExecuteActivity(p.PoolAcquireSignal, activities.PoolAcquireInput{Profile: "cr",
			Pool: contract.PoolConfig{Name: "apitask", Limit: 2}, Priority: 3, Key: keys[i], Slots: 1})
	}
	wg.Add(len(keys))
	go run(0)
	for s.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < len(keys); i++ {
		go run(i)
	}
	// The others gather behind the first signal.
	for activities.Gathering(p, contract.PoolID("cr", "apitask")) < len(keys)-1 {
		time.Sleep(time.Millisecond)
	}
	close(s.gate)
	wg.Wait()
	return errs
}

// Requests that arrive while a signal is under way go together in the next.
func TestPoolAcquireSignalGathersRequests(t *testing.T) {
	s := &signaller{gate: make(chan struct{})}
	p := &activities.Pools{Client: s}
	keys := []string{"first", "b", "c", "d", "e"}
	for i, err := range acquireAll(t, p, s, keys) {
		if err != nil {
			t.Fatalf("acquire %d: %v", i, err)
		}
	}
	if len(s.sent) != 2 || !slices.Equal(s.sent[0], []string{"first"}) || len(s.sent[1]) != 4 || s.ids[1] != contract.PoolID("cr", "apitask") {
		t.Fatalf("signals %v to %v: want [first] then the other four together", s.sent, s.ids)
	}
	if s.starts != 1 {
		t.Fatalf("%d signal-with-starts, want 1 (the pool then runs)", s.starts)
	}
	slices.Sort(s.sent[1])
	if !slices.Equal(s.sent[1], keys[1:]) {
		t.Fatalf("second signal %v, want %v", s.sent[1], keys[1:])
	}
}

// A signal that fails fails every request it carried, as Unavailable (the
// local activity retries).
func TestPoolAcquireSignalFailureFailsItsRequests(t *testing.T) {
	s := &signaller{gate: make(chan struct{}), fail: errors.New("unavailable")}
	p := &activities.Pools{Client: s}
	for i, err := range acquireAll(t, p, s, []string{"a", "b", "c"}) {
		if err == nil || !contract.IsType(err, contract.ErrUnavailable) {
			t.Fatalf("acquire %d: %v, want Unavailable", i, err)
		}
	}
	if len(s.sent) != 2 {
		t.Fatalf("signals %v, want 2", s.sent)
	}
}

// A priority-1 request does not wait behind a signal that carries others:
// each priority has its own signals.
func TestPoolAcquireSignalPriorityDoesNotWaitBehindOthers(t *testing.T) {
	s := &signaller{gate: make(chan struct{})}
	p := &activities.Pools{Client: s}
	acquire := func(prio int, key string) <-chan error {
		done := make(chan error, 1)
		go func() {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestActivityEnvironment()
			env.RegisterActivity(p)
			_, err := env.ExecuteActivity(p.PoolAcquireSignal, activities.PoolAcquireInput{Profile: "cr",
				Pool: contract.PoolConfig{Name: "apitask", Limit: 2}, Priority: prio, Key: key, Slots: 1})
			done <- err
		}()
		return done
	}
	slow := acquire(3, "burst")
	for s.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-acquire(1, "urgent"):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the priority-1 acquire waited for the priority-3 signal under way")
	}
	close(s.gate)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if len(s.sent) != 2 || !slices.Equal(s.sent[0], []string{"urgent"}) {
		t.Fatalf("signals %v, want the urgent one first", s.sent)
	}
}
