// Package simkit is what every platform simulator shares: call counters,
// a clock that tests can move, and failure injection (outages, throttling,
// latency, 5xx) in front of any http.Handler.
package simkit

import (
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Counters counts calls by name. The zero value is ready to use.
type Counters struct {
	mu sync.Mutex
	m  map[string]int64
}

// Inc adds one to name.
func (c *Counters) Inc(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[name]++
}

// Get returns the count for name.
func (c *Counters) Get(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name]
}

// Snapshot returns a copy of all counters.
func (c *Counters) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Names returns the counter names in order (for stable printing).
func (c *Counters) Names() []string {
	s := c.Snapshot()
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Clock returns the current time; nil means time.Now.
type Clock func() time.Time

// Now returns the clock's time.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// ErrorWriter writes a platform-shaped error answer.
type ErrorWriter func(w http.ResponseWriter, status int, code, message string)

// Faults injects failures in front of a handler. The zero value injects none.
// All methods are safe for concurrent use.
type Faults struct {
	mu          sync.Mutex
	outageUntil time.Time
	refuse      bool
	throttle    int
	retryAfter  time.Duration
	fail        int
	failStatus  int
	latency     time.Duration
	Injected    Counters // "outage", "throttled", "failed" counts
}

// Outage makes every request fail until d has passed: with 503 answers, or
// by closing the connection without an answer when refuse is true.
func (f *Faults) Outage(d time.Duration, refuse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outageUntil = time.Now().Add(d)
	f.refuse = refuse
}

// EndOutage ends an outage now.
func (f *Faults) EndOutage() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outageUntil = time.Time{}
}

// Throttle answers the next n requests with 429 and Retry-After.
func (f *Faults) Throttle(n int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle, f.retryAfter = n, retryAfter
}

// Fail answers the next n requests with status (a 5xx usually).
func (f *Faults) Fail(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.failStatus = n, status
}

// Latency delays every request by d before it is handled.
func (f *Faults) Latency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Wrap puts the faults in front of next; errors are written with writeErr.
func (f *Faults) Wrap(next http.Handler, writeErr ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		latency := f.latency
		outage := time.Now().Before(f.outageUntil)
		refuse := f.refuse
		throttled, retryAfter := false, f.retryAfter
		failStatus := 0
		if !outage {
			if f.throttle > 0 {
				f.throttle--
				throttled = true
			} else if f.fail > 0 {
				f.fail--
				failStatus = f.failStatus
			}
		}
		f.mu.Unlock()

		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case outage:
			f.Injected.Inc("outage")
			if refuse {
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
						return
					}
				}
			}
			writeErr(w, http.StatusServiceUnavailable, "service.unavailable", "the service is temporarily unavailable")
		case throttled:
			f.Injected.Inc("throttled")
			w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
			writeErr(w, http.StatusTooManyRequests, "rate.limited", "too many requests")
		case failStatus != 0:
			f.Injected.Inc("failed")
			writeErr(w, failStatus, "injected.failure", http.StatusText(failStatus))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// ManualClock is a simulator clock that tests move by hand; pass its Now as
// a simulator's Clock. It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock starts a clock at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Skewed is a clock running d ahead of this machine's (behind when d < 0),
// as a platform whose clock is off the worker's.
func Skewed(d time.Duration) Clock {
	return func() time.Time { return time.Now().Add(d) }
}
