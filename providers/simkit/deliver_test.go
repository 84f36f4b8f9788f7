package simkit

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type inbox struct {
	mu     sync.Mutex
	bodies []string
	status int
}

func (b *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bodies = append(b.bodies, string(body)+"|"+r.Header.Get("X-Test"))
	if b.status != 0 {
		w.WriteHeader(b.status)
	}
}

func (b *inbox) got() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.bodies...)
}

func flush(t *testing.T, d *Deliverer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func one(url, body string) func(time.Time) []Delivery {
	return func(time.Time) []Delivery {
		return []Delivery{{URL: url, Body: []byte(body), Headers: map[string]string{"X-Test": "h"}}}
	}
}

func TestDeliverer_SendsWhenDueWithHeaders(t *testing.T) {
	in := &inbox{}
	srv := httptest.NewServer(in)
	defer srv.Close()
	clock := NewManualClock(time.Unix(1000, 0))
	d := &Deliverer{Clock: clock.Now, Tick: time.Millisecond}
	d.At(clock.Now().Add(time.Minute), one(srv.URL, "late"))
	d.At(clock.Now(), one(srv.URL, "now"))
	time.Sleep(50 * time.Millisecond)
	if got := in.got(); len(got) != 1 || got[0] != "now|h" {
		t.Fatalf("before due: %v", got)
	}
	clock.Advance(time.Minute)
	flush(t, d)
	if got := in.got(); len(got) != 2 || got[1] != "late|h" {
		t.Fatalf("after due: %v", got)
	}
	if c := d.Counters(); c.Get("delivered") != 2 || c.Get("scheduled") != 2 {
		t.Fatalf("counters %v", c.Snapshot())
	}
}

func TestDeliverer_DropAndDuplicate(t *testing.T) {
	in := &inbox{}
	srv := httptest.NewServer(in)
	defer srv.Close()
	d := &Deliverer{Tick: time.Millisecond}
	d.SetFaults(DeliveryFaults{Drop: 0.2, Duplicate: 0.1}, 7)
	for range 200 {
		d.At(time.Now(), one(srv.URL, "x"))
	}
	flush(t, d)
	c := d.Counters()
	dropped, dup := c.Get("dropped"), c.Get("duplicated")
	if dropped < 20 || dropped > 60 || dup < 5 || dup > 40 {
		t.Fatalf("dropped %d, duplicated %d of 200", dropped, dup)
	}
	// A dropped one may still be duplicated (the copy goes out), as a
	// sender that lost track of its first attempt would.
	if got := int64(len(in.got())); got != c.Get("delivered") || got < 200-dropped {
		t.Fatalf("received %d, delivered %d, dropped %d", got, c.Get("delivered"), dropped)
	}
}

// After one failed delivery, the breaker skips everything to that URL for
// its period, as UiPath's does; the skipped ones are never sent.
func TestDeliverer_Breaker(t *testing.T) {
	in := &inbox{status: http.StatusInternalServerError}
	srv := httptest.NewServer(in)
	defer srv.Close()
	clock := NewManualClock(time.Unix(1000, 0))
	d := &Deliverer{Clock: clock.Now, Breaker: time.Hour, Tick: time.Millisecond}
	d.At(clock.Now(), one(srv.URL, "fails"))
	flush(t, d)
	in.mu.Lock()
	in.status = 0
	in.mu.Unlock()
	if !d.BreakerOpen(srv.URL) {
		t.Fatal("breaker closed after a failure")
	}
	d.At(clock.Now(), one(srv.URL, "skipped"))
	flush(t, d)
	clock.Advance(time.Hour)
	d.At(clock.Now(), one(srv.URL, "after"))
	flush(t, d)
	got := in.got()
	if len(got) != 2 || got[0] != "fails|h" || got[1] != "after|h" {
		t.Fatalf("received %v", got)
	}
	if c := d.Counters(); c.Get("skipped.breaker") != 1 || c.Get("failed") != 1 {
		t.Fatalf("counters %v", c.Snapshot())
	}
}

// Deliveries due together go out Workers at a time, and each one's answer
// time is kept.
func TestDeliverer_Workers(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	defer srv.Close()
	clock := NewManualClock(time.Unix(1000, 0))
	d := &Deliverer{Clock: clock.Now, Tick: time.Millisecond, Workers: 3}
	d.At(clock.Now(), func(time.Time) []Delivery {
		var out []Delivery
		for range 9 {
			out = append(out, Delivery{URL: srv.URL, Body: []byte("x")})
		}
		return out
	})
	flush(t, d)
	if most < 2 || most > 3 {
		t.Fatalf("at most %d at once, want 2 or 3 of 3 workers", most)
	}
	times := d.AnswerTimes()
	if len(times) != 9 || d.Counters().Get("delivered") != 9 {
		t.Fatalf("answer times %v, counters %v", times, d.Counters().Snapshot())
	}
	for _, at := range times {
		if at < 30*time.Millisecond {
			t.Fatalf("answer time %s shorter than the receiver's", at)
		}
	}
}
