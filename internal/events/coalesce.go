package events

import (
	"context"
	"sync"
	"time"
)

// BatchSink is a Sink that can also hand many events of one profile to
// Temporal with one call. A receiver whose sink is one coalesces
// concurrent deliveries.
type BatchSink interface {
	Sink
	// DeliverBatch returns only once every event of runs is durable (or
	// with an error, then none may be taken as delivered).
	DeliverBatch(ctx context.Context, profile string, runs []Routed) error
}

// Coalescing bounds, per profile.
const (
	// coalesceCalls is how many calls to the sink run at once: a delivery
	// that finds one free goes alone at once; the ones that come while all
	// are busy gather and go together, in one call, when one is free.
	coalesceCalls = 4
	// coalesceMax bounds the events of one call.
	coalesceMax = 100
)

// coalescer gathers deliveries of a profile that come while its calls are
// busy, so a burst costs a few server calls instead of one per event, and
// answers each delivery as soon as the call that carried it returned.
type coalescer struct {
	sink    BatchSink
	timeout time.Duration // bounds one call

	mu    sync.Mutex
	lanes map[string]*lane
}

type lane struct {
	busy  int          // calls running
	queue []*sinkBatch // gathered, not sent yet
}

type sinkBatch struct {
	runs []Routed
	done chan struct{}
	err  error
}

// deliver hands runs to the sink, alone or with others that wait, and
// returns once they are durable, the call failed, or ctx ended (the call
// goes on for the others that wait on it).
func (c *coalescer) deliver(ctx context.Context, profile string, runs []Routed) error {
	c.mu.Lock()
	if c.lanes == nil {
		c.lanes = map[string]*lane{}
	}
	l := c.lanes[profile]
	if l == nil {
		l = &lane{}
		c.lanes[profile] = l
	}
	var b *sinkBatch
	if n := len(l.queue); n > 0 && len(l.queue[n-1].runs)+len(runs) <= coalesceMax {
		b = l.queue[n-1]
		b.runs = append(b.runs, runs...)
	} else {
		b = &sinkBatch{runs: append([]Routed(nil), runs...), done: make(chan struct{})}
		l.queue = append(l.queue, b)
	}
	if l.busy < coalesceCalls {
		l.busy++
		go c.send(profile, l)
	}
	c.mu.Unlock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send makes calls for the lane's gathered batches, one call each, until
// none is left.
func (c *coalescer) send(profile string, l *lane) {
	for {
		c.mu.Lock()
		if len(l.queue) == 0 {
			l.busy--
			if l.busy == 0 {
				delete(c.lanes, profile)
			}
			c.mu.Unlock()
			return
		}
		b := l.queue[0]
		l.queue = l.queue[1:]
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		if len(b.runs) == 1 {
			b.err = c.sink.Deliver(ctx, profile, b.runs[0])
		} else {
			b.err = c.sink.DeliverBatch(ctx, profile, b.runs)
		}
		cancel()
		close(b.done)
	}
}
