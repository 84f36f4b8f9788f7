package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/session"
	"github.com/rpaflow/rpaflow/test/promtext"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// scale is row 4: K sessions with 20 s tokens on one worker.
func (r *runner) scale(ctx context.Context) error {
	k := envInt("RPAFLOW_BENCH_SESSIONS", 1000)
	window := envDur("RPAFLOW_BENCH_SCALE_WINDOW", 3*time.Minute)
	lifetime := 20 * time.Second
	warmup := envDur("RPAFLOW_BENCH_SCALE_WARMUP", lifetime)
	const statusSample = 4    // every 4th session's lag is also read exactly with status queries
	every := 10 * time.Second // consumers and status queries, per session
	minValidity := 3 * time.Second
	r.rep.Params["RPAFLOW_BENCH_SESSIONS"] = fmt.Sprint(k)
	r.rep.Params["RPAFLOW_BENCH_SCALE_WINDOW"] = window.String()

	ao := aasim.DefaultOptions()
	ao.Users[0].MultipleLogin = true // K profiles of one user hold K sessions at once
	extra := map[string]string{}
	names := []string{"cr", "orch", "hub"}
	for i := range k {
		p := fmt.Sprintf("s%04d", i)
		names = append(names, p)
		up := strings.ToUpper(p)
		for kk, v := range map[string]string{"KIND": "automationanywhere", "ALLOW_HTTP": "true", "USERNAME": aasim.DemoUsername, "API_KEY": aasim.DemoAPIKey} {
			extra["RPAFLOW_"+up+"_"+kk] = v
		}
	}
	extra["RPAFLOW_PROFILES"] = strings.Join(names, ",")
	s, err := startStack(r, "scale", stackOptions{Sims: simenv.Options{AA: &ao, AATokenLifetime: lifetime}, Extra: withURLs(extra, names[3:])})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }() // a worker slow to stop only delays the next row
	sess := &session.Temporal{Client: s.Client, TaskQueue: s.TaskQueue}
	ref := func(i int) session.Ref {
		return session.ControlRoom(fmt.Sprintf("s%04d", i))
	}
	// Consumers read as the worker's deployments do: through the worker's
	// cache, which asks the session only when its token no longer serves.
	// RPAFLOW_BENCH_CONSUMERS=direct sends every read to the session.
	asked := &countedSessions{Source: sess}
	var reader session.Source = &session.Cache{Next: asked}
	consumers := envStr("RPAFLOW_BENCH_CONSUMERS", "cached")
	if consumers == "direct" {
		reader = asked
	}
	tokenOf := func(ctx context.Context, i int) (contract.TokenResult, error) {
		return reader.Token(ctx, ref(i), minValidity)
	}

	heap0 := heapInuse()
	if _, _, errs := batch(ctx, k, 20, func(ctx context.Context, i int) error { _, err := tokenOf(ctx, i); return err }); len(errs) > 0 {
		return fmt.Errorf("starting %d sessions: %d failed, first: %w\n%s", k, len(errs), errs[0], s.Logs)
	}
	heap1 := heapInuse()

	// CPU floor: the same refresh made directly with the provider client.
	hc, err := aa.New(aa.Options{BaseURL: s.SimURL, Username: aasim.DemoUsername, APIKey: aasim.DemoAPIKey, AllowHTTP: true})
	if err != nil {
		return err
	}
	tok, err := hc.Login(ctx)
	if err != nil {
		return err
	}
	const direct = 200
	c0 := cpuTime()
	for range direct {
		if tok, err = hc.Refresh(ctx, tok.Value); err != nil {
			return fmt.Errorf("direct refresh: %w", err)
		}
	}
	directCPU := (cpuTime() - c0) / direct

	// The load runs for a warm-up and then the window; only the window is
	// measured, so the last logins of the start do not count as late renewals.
	wctx, cancel := context.WithTimeout(ctx, warmup+window)
	defer cancel()
	var measureFrom time.Time // set when the window opens; guarded by mu
	var mu sync.Mutex
	var served, expired, short, rejected, consumerErrs, queries int
	var firstErr error
	var lags []float64
	var lagAt []string
	var wg sync.WaitGroup
	for i := range k {
		offset := time.Duration(i) * every / time.Duration(k)
		wg.Add(1)
		go func() { // a consumer: asks for a token and checks it with the Control Room
			defer wg.Done()
			if !sleepCtx(wctx, offset) {
				return
			}
			for {
				res, err := tokenOf(wctx, i)
				at := time.Now()
				if wctx.Err() != nil {
					return
				}
				ok := false
				if err == nil {
					ok, err = hc.Validate(wctx, res.Token)
					if wctx.Err() != nil {
						return // the window closed during the check
					}
				}
				mu.Lock()
				switch {
				case err != nil:
					consumerErrs++
					if firstErr == nil {
						firstErr = err
					}
				default:
					served++
					if !res.Expiry.After(at) {
						expired++
					} else if res.Expiry.Sub(at) < minValidity {
						short++
					}
					if !ok {
						rejected++
					}
				}
				mu.Unlock()
				if !sleepCtx(wctx, every) {
					return
				}
			}
		}()
		if i%statusSample != 0 {
			continue
		}
		wg.Add(1)
		go func() { // the status query: scheduled renewal per generation vs when it happened
			defer wg.Done()
			if !sleepCtx(wctx, offset+every/2) {
				return
			}
			id := ref(i).ID()
			next := map[int64]time.Time{}
			done := map[int64]bool{}
			for {
				v, err := s.Client.QueryWorkflow(wctx, id, "", contract.QueryStatus)
				var st contract.SessionStatus
				if err == nil && v.Get(&st) == nil {
					mu.Lock()
					queries++
					if prev, ok := next[st.Generation-1]; ok && !done[st.Generation] && !st.LastRefresh.IsZero() && !measureFrom.IsZero() && !prev.Before(measureFrom) {
						done[st.Generation] = true
						lags = append(lags, st.LastRefresh.Sub(prev).Seconds()/lifetime.Seconds())
						lagAt = append(lagAt, fmt.Sprintf("%s %.4f %d", prev.UTC().Format("15:04:05.000"), st.LastRefresh.Sub(prev).Seconds(), i))
					}
					mu.Unlock()
					next[st.Generation] = st.NextRenewal
				}
				if !sleepCtx(wctx, every) {
					return
				}
			}
		}()
	}
	if !sleepCtx(ctx, warmup) {
		return ctx.Err()
	}
	lag0, err := promtext.Scrape(ctx, "http://"+s.HTTPAddr+"/metrics")
	if err != nil {
		return err
	}
	k0 := s.Sims.AA.Counters().Snapshot()
	asked0 := asked.n.Load()
	c0 = cpuTime()
	m0, machineOK := machineCPU()
	start := time.Now()
	mu.Lock()
	measureFrom = start
	reads0, queries0 := served+consumerErrs, queries
	mu.Unlock()
	fmt.Fprintf(os.Stderr, "bench: row 4%s window starts\n", r.label)
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - c0
	m1, _ := machineCPU()
	k1 := s.Sims.AA.Counters().Snapshot()
	askedWindow := asked.n.Load() - asked0
	lag1, err := promtext.Scrape(ctx, "http://"+s.HTTPAddr+"/metrics")
	if err != nil {
		return err
	}
	if dir := os.Getenv("RPAFLOW_BENCH_METRICS_DUMP"); dir != "" {
		// For a closer look: the worker's /metrics around the window, and
		// each measured renewal (scheduled time, lag in seconds, session) to
		// see whether late renewals come together.
		_ = os.WriteFile(filepath.Join(dir, "row4"+strings.ReplaceAll(r.label, " ", "_")+"-lags.txt"), []byte(strings.Join(lagAt, "\n")+"\n"), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "row4"+strings.ReplaceAll(r.label, " ", "_")+"-before.prom"), []byte(lag0), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "row4"+strings.ReplaceAll(r.label, " ", "_")+"-after.prom"), []byte(lag1), 0o644)
	}
	// The worker's own view: how late scheduled renewals started.
	lagsWithin := func(le string) float64 {
		want := map[string]string{"le": le}
		b0, _ := promtext.Sum(lag0, "rpaflow_session_renewal_lag_seconds_bucket", want)
		b1, _ := promtext.Sum(lag1, "rpaflow_session_renewal_lag_seconds_bucket", want)
		return b1 - b0
	}
	allLags := lagsWithin("+Inf")
	renewals := (k1["refresh"] - k0["refresh"]) + (k1["login"] - k0["login"])

	// End the sessions so they stop renewing on the dev server.
	_, _, _ = batch(ctx, k, 20, func(ctx context.Context, i int) error {
		return sess.Logout(ctx, ref(i))
	})

	row := "4 scale" + r.label
	p99 := Percentile(lags, 99)
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("refresh lag p99, fraction of the %s lifetime (status queries of every %dth session, %d renewals seen)", lifetime, statusSample, len(lags)),
		Rpaflow: p99, Floor: F(0), FloorName: "on schedule", Target: "≤ 0.02", Met: B(p99 <= 0.02)})
	share := lagsWithin("0.4") / max(allLags, 1) // 0.4 s is 2 % of the 20 s lifetime
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("share of scheduled renewals started ≤ 0.4 s (2 %% of lifetime) late, all %d sessions (worker metric rpaflow_session_renewal_lag_seconds, %.0f renewals)", k, allLags),
		Rpaflow: share, Floor: F(1), FloorName: "all on schedule", Target: "≥ 0.99 (p99 ≤ 2 %)", Met: B(share >= 0.99 && allLags > 0)})
	r.rep.Add(Line{Row: row, Metric: "refresh lag p50, fraction of lifetime", Rpaflow: Percentile(lags, 50), Floor: F(0), FloorName: "on schedule"})
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("renewals (logins + refreshes) in %s", elapsed.Round(time.Second)), Rpaflow: float64(renewals)})
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("tokens served expired / short of minValidity / rejected by the Control Room (of %d)", served),
		Rpaflow: float64(expired + short + rejected), Floor: F(0), FloorName: "none", Target: "0", Met: B(expired+short+rejected == 0 && served > 0)})
	r.rep.Add(Line{Row: row, Metric: "consumer token requests that failed (no token)", Rpaflow: float64(consumerErrs), Floor: F(0), FloorName: "none"})
	reads := served + consumerErrs - reads0
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("consumer token reads that reached the session workflows (%s consumers)", consumers),
		Rpaflow: float64(askedWindow), Floor: F(float64(reads)), FloorName: "every read", Ratio: Ratio(float64(askedWindow), float64(max(reads, 1)))})
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("worker /metrics scrape at %d sessions (what Prometheus reads each scrape)", k), Unit: "KiB", Rpaflow: float64(len(lag1)) / 1024})
	r.rep.Add(Line{Row: row, Metric: "worker heap per session (HeapInuse delta / K)", Unit: "KiB", Rpaflow: float64(int64(heap1)-int64(heap0)) / float64(k) / 1024})
	r.rep.Add(Line{Row: row, Metric: "process CPU per renewal", Unit: "ms", Rpaflow: cpu.Seconds() * 1000 / float64(max(renewals, 1)),
		Floor: F(directCPU.Seconds() * 1000), FloorName: "direct provider-client refresh, same process", Ratio: Ratio(cpu.Seconds()/float64(max(renewals, 1)), directCPU.Seconds())})
	if machineOK {
		busy := m1.busyShare(m0)
		r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("machine CPU busy in the window (all processes: Temporal, its database, this process; %d cores)", runtime.NumCPU()),
			Rpaflow: busy, Floor: F(1), FloorName: "every core busy", Ratio: F(busy)})
	}
	r.rep.Note("row 4%s: %d ControlRoomSession workflows (one profile each, one multi-login simulator user) on one in-process worker, %s tokens, measured for %s after all had logged in and a warm-up of %s (load on, not measured; expired tokens are counted in it too). Every %s each session's consumer asks for a token (minValidity %s) the way the worker's deployments do (consumers=cached: the worker's session cache, then the session's token query, then the token update when the current token does not serve; consumers=direct skips the cache, as starter session token does) and checks it with the Control Room's validate call, and for every %dth session a status query reads the generation's scheduled renewal (nextRenewal) and, one generation later, lastRefresh: lag = lastRefresh − scheduled (lastRefresh is when the renewal's result reached the workflow). %d consumer calls failed (errors, not bad tokens; first: %v), %d status queries answered in the window. Heap is after two GCs, before and after the sessions started (worker cache + simulator + client state). CPU is the whole process (worker, simulator, %d consumers, queries: %.0f%% of one core on average) per login/refresh; the floor is the CPU of %d direct refresh calls against the same in-process simulator.",
		r.label, k, lifetime, window, warmup, every, minValidity, statusSample, consumerErrs, firstErr, queries-queries0, k, 100*cpu.Seconds()/elapsed.Seconds(), direct)
	if served == 0 || len(lags) == 0 {
		return fmt.Errorf("no tokens served (%d) or no renewals observed (%d)\n%s", served, len(lags), s.Logs)
	}
	return nil
}

// countedSessions counts the token reads that reach the session workflows.
type countedSessions struct {
	session.Source
	n atomic.Int64
}

func (c *countedSessions) Token(ctx context.Context, s session.Ref, minValidity time.Duration) (contract.TokenResult, error) {
	c.n.Add(1)
	return c.Source.Token(ctx, s, minValidity)
}

// withURLs marks the extra profiles' URLs to be filled in by startStack.
func withURLs(extra map[string]string, profiles []string) map[string]string {
	for _, p := range profiles {
		extra["RPAFLOW_"+strings.ToUpper(p)+"_URL"] = simURLPlaceholder
	}
	return extra
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// cpuTimes is the machine's CPU time from /proc/stat, in clock ticks.
type cpuTimes struct{ busy, total uint64 }

// machineCPU reads the machine-wide CPU counters (Linux only: ok false elsewhere).
func machineCPU() (cpuTimes, bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		t.total += n
		if i != 3 && i != 4 { // idle, iowait
			t.busy += n
		}
	}
	return t, true
}

// busyShare is the share of CPU time that was busy between since and t.
func (t cpuTimes) busyShare(since cpuTimes) float64 {
	if t.total <= since.total {
		return 0
	}
	return float64(t.busy-since.busy) / float64(t.total-since.total)
}
