package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// batchSink is a BatchSink whose calls block until released, one release
// per call; a call fails when its events include a failing id.
type batchSink struct {
	mu      sync.Mutex
	calls   [][]string
	durable map[string]bool // event ids whose call returned without error
	release chan error
	failID  string
}

func (s *batchSink) call(runs []Routed) error {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	s.mu.Lock()
	s.calls = append(s.calls, ids)
	s.mu.Unlock()
	<-s.release
	for _, id := range ids {
		if id == s.failID {
			return errors.New("temporal unavailable")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.durable[id] = true
	}
	return nil
}

func (s *batchSink) Deliver(_ context.Context, _ string, r Routed) error { return s.call([]Routed{r}) }
func (s *batchSink) DeliverBatch(_ context.Context, _ string, runs []Routed) error {
	return s.call(runs)
}

func (s *batchSink) isDurable(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable[id]
}

func (s *batchSink) numCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Concurrent deliveries share calls: the first ones go alone at once, the
// ones that come while every call is busy go together when one is free.
// Each is answered only after the call that carried it returned, 202 when
// it made the event durable, 503 for every delivery of a call that failed.
func TestReceiver_CoalescesConcurrentDeliveries(t *testing.T) {
	const n = 30
	key := []byte("aa-key-0123456789abcdef")
	s := &batchSink{durable: map[string]bool{}, release: make(chan error), failID: fmt.Sprintf("%032x", n-1)}
	rc := NewReceiver(Options{Profiles: []Profile{{Name: "cr", Platform: AA, Secret: key}}, Sink: s, Logger: zerolog.Nop(),
		DeliverTimeout: time.Minute})
	type answer struct {
		id     string
		status int
		// durable: the sink had made the event durable when it was answered.
		durable bool
	}
	answers := make(chan answer, n)
	post1 := func(i int) {
		id := fmt.Sprintf("%032x", i)
		w := post(rc, AAPath+"cr", `{"deploymentId":"d","status":"COMPLETED"}`,
			map[string]string{CallbackIDHeader: id, CallbackTokenHeader: CallbackToken(key, "cr", id)})
		answers <- answer{id: id, status: w.Code, durable: s.isDurable(id)}
	}
	// The first coalesceCalls deliveries, one after the other, each take a
	// call of their own.
	for i := range coalesceCalls {
		go post1(i)
		waitFor(t, func() bool { return s.numCalls() == i+1 })
	}
	// The others come while those calls are busy: they gather.
	for i := coalesceCalls; i < n; i++ {
		go post1(i)
	}
	waitFor(t, func() bool {
		rc.batches.mu.Lock()
		defer rc.batches.mu.Unlock()
		l := rc.batches.lanes["cr"]
		return l != nil && len(l.queue) == 1 && len(l.queue[0].runs) == n-coalesceCalls
	})
	select {
	case a := <-answers:
		t.Fatalf("%s answered %d before its call returned", a.id, a.status)
	case <-time.After(50 * time.Millisecond):
	}
	for range coalesceCalls + 1 {
		s.release <- nil
	}
	got := map[int]int{}
	for range n {
		a := <-answers
		got[a.status]++
		switch {
		case a.status == http.StatusAccepted && !a.durable:
			t.Errorf("%s answered 202 before its event was durable", a.id)
		case a.status != http.StatusAccepted && a.status != http.StatusServiceUnavailable:
			t.Errorf("%s answered %d", a.id, a.status)
		}
	}
	// coalesceCalls single calls, then one for the n-coalesceCalls that
	// gathered, which fails: all of those answer 503.
	if c := s.numCalls(); c != coalesceCalls+1 {
		t.Fatalf("%d calls for %d deliveries, want %d", c, n, coalesceCalls+1)
	}
	if got[http.StatusAccepted] != coalesceCalls || got[http.StatusServiceUnavailable] != n-coalesceCalls {
		t.Fatalf("answers by status %v, want %d × 202 and %d × 503", got, coalesceCalls, n-coalesceCalls)
	}
	// A delivery after a failed one is not held back by it.
	go post1(100)
	waitFor(t, func() bool { return s.numCalls() == coalesceCalls+2 })
	s.release <- nil
	if a := <-answers; a.status != http.StatusAccepted || !a.durable {
		t.Fatalf("after the failed call: %+v", a)
	}
}

// A delivery whose call takes longer than the receiver's bound is answered
// 503 when the bound ends, not when the call does.
func TestReceiver_CoalescedDeliveryBounded(t *testing.T) {
	key := []byte("aa-key-0123456789abcdef")
	s := &batchSink{durable: map[string]bool{}, release: make(chan error)}
	rc := NewReceiver(Options{Profiles: []Profile{{Name: "cr", Platform: AA, Secret: key}}, Sink: s, Logger: zerolog.Nop(),
		DeliverTimeout: 100 * time.Millisecond})
	id := fmt.Sprintf("%032x", 1)
	start := time.Now()
	w := post(rc, AAPath+"cr", `{"status":"COMPLETED"}`, map[string]string{CallbackIDHeader: id, CallbackTokenHeader: CallbackToken(key, "cr", id)})
	if took := time.Since(start); w.Code != http.StatusServiceUnavailable || took > 5*time.Second {
		t.Fatalf("answered %d after %s", w.Code, took)
	}
	s.release <- nil
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}
