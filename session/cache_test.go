package session

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// countingSessions answers like a session and counts what reaches it.
type countingSessions struct {
	now     *time.Time
	calls   map[string]int
	gen     int64
	lifeTok time.Duration
}

func (f *countingSessions) Token(_ context.Context, _ Ref, _ time.Duration) (contract.TokenResult, error) {
	f.calls[contract.UpdateToken]++
	return contract.TokenResult{Token: "t", Expiry: f.now.Add(f.lifeTok), UsableUntil: f.now.Add(f.lifeTok - contract.SafetyMargin(f.lifeTok)), Generation: f.gen}, nil
}

func (f *countingSessions) AccessDetails(_ context.Context, _ Ref, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
	f.calls[contract.UpdateAccessDetails]++
	res := contract.AccessDetailsResult{Details: map[string]contract.AccessDetail{}}
	for _, p := range req.Paths {
		res.Details[p] = contract.AccessDetail{URL: "u", Generation: f.gen, FetchedAt: *f.now, ValidUntil: f.now.Add(5 * time.Minute)}
	}
	return res, nil
}

func (f *countingSessions) Invalidate(_ context.Context, _ Ref, _ contract.InvalidateRequest) (contract.InvalidateResult, error) {
	f.calls[contract.UpdateInvalidate]++
	f.gen++
	return contract.InvalidateResult{Generation: f.gen, Renewed: true}, nil
}

func TestCacheServesWhileValidAndForgetsRejected(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	next := &countingSessions{now: &now, calls: map[string]int{}, gen: 1, lifeTok: 20 * time.Minute}
	c := &Cache{Next: next, Now: func() time.Time { return now }}
	ref := Ref{WorkflowType: contract.ControlRoomSessionWorkflow, Profile: "cr"}
	ctx := context.Background()
	details := func() contract.AccessDetail {
		res, err := c.AccessDetails(ctx, ref, contract.AccessDetailsRequest{Paths: []string{"P"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Details["P"]
	}
	token := func(minV time.Duration) contract.TokenResult {
		res, err := c.Token(ctx, ref, minV)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	for i := 0; i < 10; i++ {
		details()
		now = now.Add(20 * time.Second) // 10 uses over 3m20s
	}
	if got := next.calls[contract.UpdateAccessDetails]; got != 1 {
		t.Fatalf("10 uses within the details' life reached the session %d times, want 1", got)
	}
	now = now.Add(75 * time.Second) // 4m35s old: inside the last tenth
	details()
	if got := next.calls[contract.UpdateAccessDetails]; got != 2 {
		t.Fatalf("details in their last tenth were served locally (%d session calls), want a session call", got)
	}

	token(30 * time.Second)
	token(30 * time.Second)
	if got := next.calls[contract.UpdateToken]; got != 1 {
		t.Fatalf("token asked of the session %d times, want 1", got)
	}
	now = now.Add(19*time.Minute + 40*time.Second) // 20 s left: less than asked
	token(30 * time.Second)
	if got := next.calls[contract.UpdateToken]; got != 2 {
		t.Fatalf("a token short of minValidity was served locally")
	}

	// A rejection drops the entry of that generation and reaches the session.
	d := details()
	if _, err := c.Invalidate(ctx, ref, contract.InvalidateRequest{Generation: d.Generation, Path: "P"}); err != nil {
		t.Fatal(err)
	}
	before := next.calls[contract.UpdateAccessDetails]
	if got := details(); got.Generation != d.Generation+1 || next.calls[contract.UpdateAccessDetails] != before+1 {
		t.Fatalf("after invalidate got generation %d with %d session calls; want the session's new generation", got.Generation, next.calls[contract.UpdateAccessDetails]-before)
	}
	if next.calls[contract.UpdateInvalidate] != 1 {
		t.Fatalf("invalidate did not reach the session")
	}
}

// slowSessions answers like countingSessions once release is closed.
type slowSessions struct {
	countingSessions
	mu      sync.Mutex
	release chan struct{}
}

func (f *slowSessions) Token(ctx context.Context, s Ref, v time.Duration) (contract.TokenResult, error) {
	<-f.release
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.countingSessions.Token(ctx, s, v)
}

func (f *slowSessions) AccessDetails(ctx context.Context, s Ref, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
	<-f.release
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.countingSessions.AccessDetails(ctx, s, req)
}

// A burst of misses on a cold cache sends the session one request per
// kind, not one each: every caller gets the one answer.
func TestCacheBurstSharesOneRequest(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	next := &slowSessions{countingSessions: countingSessions{now: &now, calls: map[string]int{}, gen: 1, lifeTok: 20 * time.Minute},
		release: make(chan struct{})}
	c := &Cache{Next: next, Now: func() time.Time { return now }}
	ref := Ref{WorkflowType: contract.ControlRoomSessionWorkflow, Profile: "cr"}
	const burst = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*burst)
	for range burst {
		wg.Add(2)
		go func() {
			defer wg.Done()
			res, err := c.AccessDetails(context.Background(), ref, contract.AccessDetailsRequest{Paths: []string{"P"}})
			if err == nil && res.Details["P"].URL != "u" {
				err = fmt.Errorf("details %+v", res)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			tok, err := c.Token(context.Background(), ref, 30*time.Second)
			if err == nil && tok.Token != "t" {
				err = fmt.Errorf("token %+v", tok)
			}
			errs <- err
		}()
	}
	// Let the burst pile up behind the first requests, then answer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		inFlight := len(c.flights)
		c.mu.Unlock()
		if inFlight == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(next.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d, tk := next.calls[contract.UpdateAccessDetails], next.calls[contract.UpdateToken]; d != 1 || tk != 1 {
		t.Errorf("%d concurrent callers of each reached the session %d (details) and %d (token) times, want 1 each", burst, d, tk)
	}
}
