package simkit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func writeErr(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": message})
}

// faulty serves Faults in front of a handler that counts what got through.
func faulty(t *testing.T) (*Faults, *httptest.Server, *atomic.Int32) {
	f := &Faults{}
	var served atomic.Int32
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte("ok"))
	}), writeErr))
	t.Cleanup(srv.Close)
	return f, srv, &served
}

func get(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestFaultsOutage(t *testing.T) {
	f, srv, served := faulty(t)
	f.Outage(time.Hour, false)
	for i := 0; i < 3; i++ {
		resp, err := get(t, srv.URL)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("during outage: %v %v, want 503", resp, err)
		}
	}
	f.EndOutage()
	if resp, err := get(t, srv.URL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after outage: %v %v", resp, err)
	}
	if served.Load() != 1 || f.Injected.Get("outage") != 3 {
		t.Errorf("served %d, outage answers %d; want 1 and 3", served.Load(), f.Injected.Get("outage"))
	}
}

func TestFaultsOutageRefuseClosesConnection(t *testing.T) {
	f, srv, served := faulty(t)
	f.Outage(time.Hour, true)
	if resp, err := get(t, srv.URL); err == nil {
		t.Fatalf("refusing outage answered %d", resp.StatusCode)
	}
	if served.Load() != 0 || f.Injected.Get("outage") != 1 {
		t.Errorf("served %d, outages %d", served.Load(), f.Injected.Get("outage"))
	}
}

func TestFaultsThrottle(t *testing.T) {
	f, srv, served := faulty(t)
	f.Throttle(2, 1500*time.Millisecond)
	for i := 0; i < 2; i++ {
		resp, err := get(t, srv.URL)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("throttled answer %d: %v %v (Retry-After %q), want 429 with Retry-After 2 (rounded up)",
				i, resp, err, resp.Header.Get("Retry-After"))
		}
	}
	if resp, err := get(t, srv.URL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("third request: %v %v, want it served", resp, err)
	}
	if served.Load() != 1 || f.Injected.Get("throttled") != 2 {
		t.Errorf("served %d, throttled %d", served.Load(), f.Injected.Get("throttled"))
	}
}

func TestFaultsFail(t *testing.T) {
	f, srv, served := faulty(t)
	f.Fail(2, http.StatusBadGateway)
	var got []int
	for i := 0; i < 3; i++ {
		resp, err := get(t, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.StatusCode)
	}
	if !slices.Equal(got, []int{502, 502, 200}) || served.Load() != 1 || f.Injected.Get("failed") != 2 {
		t.Errorf("statuses %v, served %d, failed %d", got, served.Load(), f.Injected.Get("failed"))
	}
}

// Latency gives up as soon as the caller does: the handler behind is not run.
func TestFaultsLatencyHonoursCancellation(t *testing.T) {
	f := &Faults{}
	f.Latency(time.Hour)
	var served atomic.Bool
	h := f.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Store(true) }), writeErr)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the delayed request outlived its cancelled caller")
	}
	if served.Load() {
		t.Error("a cancelled request reached the handler")
	}

	// Without cancellation the delay applies and the request is then served.
	f.Latency(20 * time.Millisecond)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !served.Load() {
		t.Error("a delayed request was not served")
	}
}

func TestCountersConcurrent(t *testing.T) {
	var c Counters
	if c.Get("x") != 0 || len(c.Names()) != 0 {
		t.Fatal("zero Counters is not empty")
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				c.Inc("login")
				if i%2 == 0 {
					c.Inc("execute")
				}
				_ = c.Snapshot()
			}
		}(i)
	}
	wg.Wait()
	if c.Get("login") != 5000 || c.Get("execute") != 2500 {
		t.Errorf("login %d, execute %d; want 5000 and 2500", c.Get("login"), c.Get("execute"))
	}
	if !slices.Equal(c.Names(), []string{"execute", "login"}) {
		t.Errorf("names = %v", c.Names())
	}
	snap := c.Snapshot()
	snap["login"] = 0
	if c.Get("login") != 5000 {
		t.Error("Snapshot shares the counters' map")
	}
}

func TestClock(t *testing.T) {
	var c Clock
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Errorf("nil clock is not time.Now: %v off", d)
	}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Clock(func() time.Time { return fixed }).Now(); !got.Equal(fixed) {
		t.Errorf("clock = %v", got)
	}
}

func TestManualClockMovesOnlyWhenAdvanced(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c := NewManualClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Second)
	if got := c.Now().Sub(start); got != 90*time.Second {
		t.Fatalf("advanced by %v, want 90s", got)
	}
	var clock Clock = c.Now // what simulators take
	if !clock.Now().Equal(c.Now()) {
		t.Fatal("the clock's Now is not what the simulator reads")
	}
}
