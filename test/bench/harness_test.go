package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/test/devserver"
	"github.com/rpaflow/rpaflow/test/teststack"
)

// The benchmark's dev server has a namespace per stack, as the integration
// harness does: session IDs are per profile, so stacks must not share one.
var namespaces = &devserver.Namespaces{Prefix: "bench", Count: 8}

func startDevServer(ctx context.Context) (*testsuite.DevServer, error) {
	return devserver.Start(ctx, devserver.Options{
		LogLevel:   "never", // updates aborted by continue-as-new (row 3) are logged as errors; they are retried
		Namespaces: namespaces.Names(),
	})
}

// stack is one in-process rpaflow worker (the real wiring) with fresh
// simulators, in a namespace of its own.
type stack struct {
	*teststack.Stack
	TaskQueue string
	Namespace string
	Logs      *tailBuffer
}

// simURLPlaceholder in an extra variable stands for the simulator's URL.
const simURLPlaceholder = teststack.SimURLPlaceholder

type stackOptions struct {
	Sims  simenv.Options
	Extra map[string]string
	// EventsListener serves the worker's events receiver.
	EventsListener net.Listener
}

func startStack(r *runner, name string, o stackOptions) (*stack, error) {
	namespace, err := r.namespaces.Next()
	if err != nil {
		return nil, fmt.Errorf("%w in test/bench/harness_test.go", err)
	}
	queue := "rpaflow-bench-" + name
	logs := &tailBuffer{max: 64 << 10}
	st, err := teststack.Start(teststack.Options{HostPort: r.hostPort, Namespace: namespace, TaskQueue: queue,
		KeyID: "bench", LogLevel: "warn", Extra: o.Extra, Sims: o.Sims, Logs: logs, EventsListener: o.EventsListener})
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, logs)
	}
	return &stack{Stack: st, TaskQueue: queue, Namespace: namespace, Logs: logs}, nil
}

// tailBuffer keeps the last max bytes written (the worker's warnings).
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// Sizes come from the environment so a bigger machine can raise them.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDur(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// batch runs n calls of f on conc goroutines and returns each call's
// latency, the wall time and the failures.
func batch(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) (lat []time.Duration, wall time.Duration, errs []error) {
	var mu sync.Mutex
	next := atomic.Int64{}
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := f(ctx, i)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start), errs
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// sample is what one variant of a side-by-side comparison measured.
type sample struct {
	lat  []time.Duration
	wall time.Duration
}

func (s *sample) throughput() float64 { return float64(len(s.lat)) / s.wall.Seconds() }

func (s *sample) percentile(q float64) float64 { return Percentile(Millis(s.lat), q) }

// alternate runs n calls of each variant at concurrency conc, in rounds
// whose order rotates (and reverses every other round), so drift on a noisy
// machine hits every variant alike. It fails on the first variant with a
// failed call.
func alternate(ctx context.Context, n, rounds, conc int, names []string, fns map[string]func(context.Context, int) error) (map[string]*sample, error) {
	res := map[string]*sample{}
	errs := map[string][]error{}
	for _, name := range names {
		res[name] = &sample{}
	}
	for round := range rounds {
		per := n / rounds
		if round == rounds-1 {
			per = n - per*(rounds-1)
		}
		order := append(append([]string(nil), names[round%len(names):]...), names[:round%len(names)]...)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, name := range order {
			lat, wall, e := batch(ctx, per, conc, fns[name])
			s := res[name]
			s.lat, s.wall = append(s.lat, lat...), s.wall+wall
			errs[name] = append(errs[name], e...)
		}
	}
	for _, name := range names {
		if e := errs[name]; len(e) > 0 {
			return nil, fmt.Errorf("%s: %d of %d runs failed, first: %w", name, len(e), n, e[0])
		}
	}
	return res, nil
}
