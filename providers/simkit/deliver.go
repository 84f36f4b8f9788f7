package simkit

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Delivery is one notification a simulator posts (a webhook, a callback).
type Delivery struct {
	URL     string
	Headers map[string]string
	Body    []byte
}

// DeliveryFaults disturb deliveries the way real senders do.
type DeliveryFaults struct {
	Drop      float64       // share of deliveries never sent (0..1)
	Duplicate float64       // share sent twice
	Delay     time.Duration // each delivery is sent up to this much later (uniformly)
	Reorder   bool          // deliveries due together go out in reverse order
	// FailStatus, if set, is what the receiver is taken to have answered
	// for every delivery (the receiver is not called): a receiver outage.
	FailStatus int
}

// Deliverer sends a simulator's notifications when they are due on the
// simulator's clock, with faults. After a failed delivery (no answer or
// not 2xx) and with Breaker set, it skips every delivery to that URL for
// Breaker, as UiPath's webhook circuit breaker does. Counters:
// "scheduled", "sent", "delivered", "failed", "dropped", "duplicated",
// "skipped.breaker". It runs a goroutine only while something is pending.
type Deliverer struct {
	Clock   Clock
	Client  *http.Client  // default: 10 s timeout
	Breaker time.Duration // 0: none
	// Tick is how often pending deliveries are looked at (default 20 ms).
	Tick time.Duration
	// Workers is how many deliveries due together are sent at once
	// (default 1: one after the other, in order).
	Workers int

	counters Counters
	mu       sync.Mutex
	faults   DeliveryFaults
	rng      *rand.Rand
	pending  []pending
	open     map[string]time.Time // breaker open until, per URL
	running  bool
	busy     int             // batches taken from pending and not yet sent
	answers  []time.Duration // how long each sent delivery took to be answered
}

type pending struct {
	due  time.Time
	seq  int64
	make func(now time.Time) []Delivery
	d    *Delivery
}

var seq struct {
	sync.Mutex
	n int64
}

// Counters are the delivery counts.
func (d *Deliverer) Counters() *Counters { return &d.counters }

// SetFaults replaces the faults; seed makes the random choices repeatable.
func (d *Deliverer) SetFaults(f DeliveryFaults, seed uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults, d.rng = f, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// At calls make when due comes (on the clock) and sends what it returns;
// make may return nothing (the notification is not due after all) and
// schedule again.
func (d *Deliverer) At(due time.Time, make func(now time.Time) []Delivery) {
	d.schedule(pending{due: due, make: make})
}

// BreakerOpen reports whether deliveries to url are being skipped.
func (d *Deliverer) BreakerOpen(url string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Clock.Now().Before(d.open[url])
}

// ResetBreaker closes every breaker (an admin re-enabling the webhook).
func (d *Deliverer) ResetBreaker() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.open = nil
}

// AnswerTimes returns how long each delivery sent so far took until its
// answer (or its failure), in the order they ended.
func (d *Deliverer) AnswerTimes() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.answers...)
}

// Pending returns how many deliveries wait to be made or answered.
func (d *Deliverer) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending) + d.busy
}

// Flush waits until nothing is pending or ctx ends.
func (d *Deliverer) Flush(ctx context.Context) error {
	for d.Pending() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func (d *Deliverer) schedule(p pending) {
	seq.Lock()
	seq.n++
	p.seq = seq.n
	seq.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.make != nil {
		d.counters.Inc("scheduled")
	}
	d.pending = append(d.pending, p)
	if !d.running {
		d.running = true
		go d.loop()
	}
}

func (d *Deliverer) loop() {
	tick := d.Tick
	if tick <= 0 {
		tick = 20 * time.Millisecond
	}
	for {
		time.Sleep(tick)
		now := d.Clock.Now()
		d.mu.Lock()
		var due []pending
		keep := d.pending[:0]
		for _, p := range d.pending {
			if !p.due.After(now) {
				due = append(due, p)
			} else {
				keep = append(keep, p)
			}
		}
		d.pending = keep
		f := d.faults
		d.busy++
		d.mu.Unlock()
		slices.SortFunc(due, func(a, b pending) int { return int(a.seq - b.seq) })
		var send []Delivery
		for _, p := range due {
			if p.make == nil {
				send = append(send, *p.d)
				continue
			}
			for _, dl := range p.make(now) {
				switch {
				case d.roll() < f.Drop:
					d.counters.Inc("dropped")
					continue
				case f.Delay > 0:
					d.schedule(pending{due: now.Add(time.Duration(d.roll() * float64(f.Delay))), d: &dl})
				default:
					send = append(send, dl)
				}
				if d.roll() < f.Duplicate {
					d.counters.Inc("duplicated")
					d.schedule(pending{due: now.Add(tick), d: &dl})
				}
			}
		}
		if f.Reorder {
			slices.Reverse(send)
		}
		workers := make(chan struct{}, max(d.Workers, 1))
		var wg sync.WaitGroup
		for _, dl := range send {
			workers <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-workers; wg.Done() }()
				d.send(dl, f.FailStatus)
			}()
		}
		wg.Wait()
		d.mu.Lock()
		d.busy--
		if len(d.pending) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
	}
}

func (d *Deliverer) roll() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rng == nil {
		d.rng = rand.New(rand.NewPCG(1, 2))
	}
	return d.rng.Float64()
}

// send posts one delivery unless the URL's breaker is open.
func (d *Deliverer) send(dl Delivery, failStatus int) {
	now := d.Clock.Now()
	d.mu.Lock()
	if now.Before(d.open[dl.URL]) {
		d.mu.Unlock()
		d.counters.Inc("skipped.breaker")
		return
	}
	d.mu.Unlock()
	d.counters.Inc("sent")
	began := time.Now()
	ok := false
	if failStatus == 0 {
		c := d.Client
		if c == nil {
			c = &http.Client{Timeout: 10 * time.Second}
		}
		req, err := http.NewRequest(http.MethodPost, dl.URL, bytes.NewReader(dl.Body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			for k, v := range dl.Headers {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
				ok = resp.StatusCode >= 200 && resp.StatusCode < 300
			}
		}
	}
	d.mu.Lock()
	d.answers = append(d.answers, time.Since(began))
	d.mu.Unlock()
	if ok {
		d.counters.Inc("delivered")
		return
	}
	d.counters.Inc("failed")
	if d.Breaker > 0 {
		d.mu.Lock()
		if d.open == nil {
			d.open = map[string]time.Time{}
		}
		d.open[dl.URL] = d.Clock.Now().Add(d.Breaker)
		d.mu.Unlock()
	}
}
