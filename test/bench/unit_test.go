package bench

import (
	"context"
	"math"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// fakeClock is a settable clock shared by a simulator and its client.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func newSimClient(t *testing.T, clock func() time.Time, lifetime time.Duration) (*aasim.Server, *aa.Client) {
	t.Helper()
	o := aasim.DefaultOptions()
	o.TokenLifetime = lifetime
	o.Clock = clock
	sim := aasim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := aa.New(aa.Options{BaseURL: srv.URL, Username: aasim.DemoUsername, APIKey: aasim.DemoAPIKey, AllowHTTP: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func TestOnDemandRenewsOnlyWhenNeeded(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	sim, c := newSimClient(t, clk.Now, 2*time.Minute)
	o := &OnDemand{Client: c, Now: clk.Now, MaxAge: time.Minute}
	ctx := context.Background()
	calls := func() [3]int64 {
		k := sim.Counters()
		return [3]int64{k.Get("login"), k.Get("refresh"), k.Get("accessdetails")}
	}
	steps := []struct {
		at   time.Duration
		want [3]int64 // logins, refreshes, access-details calls so far
	}{
		{0, [3]int64{1, 0, 1}},                 // first use: login + fetch
		{30 * time.Second, [3]int64{1, 0, 1}},  // details cached
		{115 * time.Second, [3]int64{1, 1, 2}}, // details stale, token within the 10 s skew: refresh
		{116 * time.Second, [3]int64{1, 1, 2}}, // cached again
		{10 * time.Minute, [3]int64{2, 1, 3}},  // token expired: login, not refresh
	}
	for _, s := range steps {
		clk.Set(t0.Add(s.at))
		d, err := o.Details(ctx, aasim.ZipCodeTaskPath)
		if err != nil {
			t.Fatalf("at %s: %v", s.at, err)
		}
		if got := calls(); got != s.want {
			t.Fatalf("at %s: logins, refreshes, access details = %v, want %v", s.at, got, s.want)
		}
		out, err := c.Execute(ctx, d, map[string]botvalue.Value{"iStrZipCode": botvalue.Str("95134")})
		if err != nil || out["State"].String != "California" {
			t.Fatalf("at %s: executing with the cached details: %v %v", s.at, out, err)
		}
	}
}

func TestOnDemandHonoursMinValidity(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	sim, c := newSimClient(t, clk.Now, 20*time.Minute)
	o := &OnDemand{Client: c, Now: clk.Now, MinValidity: 90 * time.Second}
	for _, at := range []time.Duration{0, 3 * time.Minute, 3*time.Minute + 31*time.Second} {
		clk.Set(t0.Add(at))
		if _, err := o.Details(context.Background(), aasim.ZipCodeTaskPath); err != nil {
			t.Fatal(err)
		}
	}
	// 5 min max age − 90 s: details fetched at 0 serve until 3m30s.
	if got := sim.Counters().Get("accessdetails"); got != 2 {
		t.Fatalf("access-details calls = %d, want 2", got)
	}
	if got := sim.Counters().Get("login"); got != 1 {
		t.Fatalf("logins = %d, want 1", got)
	}
}

func TestNaiveLogsInEveryTime(t *testing.T) {
	sim, c := newSimClient(t, nil, 0)
	for range 3 {
		if _, err := Naive(context.Background(), c, aasim.ZipCodeTaskPath); err != nil {
			t.Fatal(err)
		}
	}
	if l, a := sim.Counters().Get("login"), sim.Counters().Get("accessdetails"); l != 3 || a != 3 {
		t.Fatalf("logins %d, access details %d; want 3 and 3", l, a)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {10, 1}, {0, 1}} {
		if got := Percentile(xs, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if xs[0] != 5 {
		t.Error("Percentile sorted its input")
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("no samples must give NaN")
	}
}

func TestMaxInWindow(t *testing.T) {
	t0 := time.Unix(0, 0)
	var s []Sample
	// 1 call per second for 120 s, plus a burst of 30 at 100 s.
	for i := 0; i <= 120; i++ {
		n := int64(i)
		if i >= 100 {
			n += 30
		}
		s = append(s, Sample{At: t0.Add(time.Duration(i) * time.Second), Count: n})
	}
	if got := MaxInWindow(s, time.Minute); got != 90 {
		t.Fatalf("max in a minute = %d, want 90", got)
	}
	if got := MaxInWindow(s[:10], time.Minute); got != 9 {
		t.Fatalf("short series = %d, want 9", got)
	}
}

func TestMarkdownShowsFloorsAndMisses(t *testing.T) {
	r := &Report{Command: "make bench", Started: time.Unix(0, 0)}
	r.Add(Line{Row: "1", Metric: "throughput", Unit: "runs/s", Rpaflow: 40, Floor: F(50), FloorName: "bare workflow",
		Ratio: Ratio(40, 50), Target: "≥ 0.8", Met: B(true)})
	r.Add(Line{Row: "2", Metric: "logins", Rpaflow: 2, Target: "= 1", Met: B(false)})
	r.Note("row 2: %s", "why")
	md := r.Markdown()
	for _, want := range []string{"command: make bench", "| 1 | throughput | 40 runs/s | 50 runs/s | bare workflow | 0.80 | ≥ 0.8 | yes |",
		"| 2 | logins | 2 | — | — | — | = 1 | NO |", "- row 2: why"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if Ratio(1, 0) != nil {
		t.Error("a ratio over zero must be absent")
	}
}

func TestMachineCPU(t *testing.T) {
	if got := (cpuTimes{busy: 150, total: 400}).busyShare(cpuTimes{busy: 50, total: 200}); got != 0.5 {
		t.Errorf("busyShare = %v, want 0.5 (100 busy of 200 ticks)", got)
	}
	if got := (cpuTimes{busy: 5, total: 10}).busyShare(cpuTimes{busy: 5, total: 10}); got != 0 {
		t.Errorf("busyShare with no ticks = %v, want 0", got)
	}
	m, ok := machineCPU()
	if runtime.GOOS == "linux" && (!ok || m.total == 0 || m.busy > m.total) {
		t.Errorf("machineCPU on Linux = %+v, %v", m, ok)
	}
}
