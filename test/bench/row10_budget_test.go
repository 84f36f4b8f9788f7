package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/test/teststack"
)

// tenantBudget is row 10: N StartJob waits at once, served by three workers
// polling one Orchestrator tenant that answers 429 beyond L job reads a
// minute, through the tenant budget (L a minute across the workers).
// Counted: 429s, and the time for all runs against what the limit allows.
func (r *runner) tenantBudget(ctx context.Context) error {
	n := envInt("RPAFLOW_BENCH_TENANT_JOBS", 300)
	limit := envInt("RPAFLOW_BENCH_TENANT_LIMIT", 100)
	const workers = 3
	r.rep.Params["RPAFLOW_BENCH_TENANT_JOBS"] = fmt.Sprint(n)
	r.rep.Params["RPAFLOW_BENCH_TENANT_LIMIT"] = fmt.Sprint(limit)
	oo := orchsim.DefaultOptions()
	oo.JobReadsPerMinute = limit
	oo.JobListPerMinute = limit
	// Jobs end before their wait's first read, so every read can confirm
	// one: the row measures the budget, not the polling backoff.
	release := oo.Folders[0].Releases[0] // Invoices
	release.Name, release.Pending, release.Running = "Quick", 0, 500*time.Millisecond
	oo.Folders[0].Releases = append(oo.Folders[0].Releases, release)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// The per-worker budget is far above the tenant's, so the tenant's binds.
	extra := map[string]string{"RPAFLOW_ORCH_TENANT_BUDGET_PER_MINUTE": fmt.Sprint(limit), "RPAFLOW_POLL_BUDGET_PER_MINUTE": "6000",
		"RPAFLOW_CODEC_KEY": base64.StdEncoding.EncodeToString(key)}
	s, err := startStack(r, "tenant-budget", stackOptions{Sims: simenv.Options{Orchestrator: &oo}, Extra: extra})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }()
	for i := 1; i < workers; i++ {
		more := map[string]string{"RPAFLOW_ORCH_URL": s.SimURL}
		for k, v := range extra {
			more[k] = v
		}
		w, err := teststack.Start(teststack.Options{HostPort: r.hostPort, Namespace: s.Namespace, TaskQueue: s.TaskQueue,
			KeyID: "bench", LogLevel: "warn", Extra: more, Logs: s.Logs})
		if err != nil {
			return err
		}
		defer func() { _ = w.Stop() }()
	}
	sim := s.Sims.Orchestrator
	runTime := release.Pending + release.Running

	var mu sync.Mutex
	var failed []error
	var lastEnd time.Time // the last job's end at the simulator
	var wg sync.WaitGroup
	start := time.Now()
	// When the first and the last read came, so the report can tell the
	// ramp and the tail from the budget's pace.
	var firstRead, lastRead time.Duration
	sampled := make(chan struct{})
	sampling, stopSampling := context.WithCancel(ctx)
	go func() {
		defer close(sampled)
		seen := int64(0)
		for tick := time.NewTicker(50 * time.Millisecond); ; {
			if got := sim.Counters().Get("job.get") + sim.Counters().Get("jobs.list"); got > seen {
				if seen == 0 {
					firstRead = time.Since(start)
				}
				seen, lastRead = got, time.Since(start)
			}
			select {
			case <-sampling.Done():
				tick.Stop()
				return
			case <-tick.C:
			}
		}
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out contract.StartJobResult
			err := execute(ctx, s.Client, s.TaskQueue, fmt.Sprintf("bench-tenant-%d", i), contract.StartJobWorkflow,
				contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: release.Name}, &out)
			if err == nil && out.State != contract.JobSuccessful {
				err = fmt.Errorf("job %d ended %s", out.ID, out.State)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, err)
			} else if end := sim.JobEnd(out.ID); end.After(lastEnd) {
				lastEnd = end
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	stopSampling()
	<-sampled
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d runs failed, first: %w", len(failed), n, failed[0])
	}
	c := sim.Counters()
	throttled := c.Get("job.get.throttled")
	reads := c.Get("job.get") + c.Get("jobs.list")
	// Each run needs one read once its job has ended; at L a minute N reads
	// take N/L minutes, and none can confirm a job before it has run.
	floor := time.Duration(float64(n)/float64(limit)*float64(time.Minute)) + runTime
	row := "10 tenant budget"
	yes := func(ok bool) *bool { return &ok }
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("job reads answered 429, %d StartJob waits on %d workers", n, workers), Rpaflow: float64(throttled),
		Target: "0", Met: yes(throttled == 0)})
	r.rep.Add(Line{Row: row, Metric: "time for all runs", Unit: "s", Rpaflow: wall.Seconds(), Floor: F(floor.Seconds()),
		FloorName: fmt.Sprintf("N / limit (%d a minute) + one run (%s)", limit, runTime), Ratio: F(wall.Seconds() / floor.Seconds()),
		Target: "≤ 1.1×", Met: yes(wall <= floor*11/10)})
	r.rep.Add(Line{Row: row, Metric: "job reads per run", Rpaflow: float64(reads) / float64(n), Floor: F(1), FloorName: "one read of the final state",
		Ratio: F(float64(reads) / float64(n))})
	perMin := float64(reads) / wall.Minutes()
	r.rep.Add(Line{Row: row, Metric: "job reads per minute, all workers", Rpaflow: perMin, Floor: F(float64(limit)), FloorName: "the limit",
		Ratio: F(perMin / float64(limit))})
	var st contract.BudgetState
	if v, err := s.Client.QueryWorkflow(ctx, contract.BudgetID("orch"), "", contract.QueryStatus); err == nil {
		_ = v.Get(&st)
	}
	r.rep.Note("row 10: %d StartJob (a process of %s) at once on %d workers sharing one Orchestrator simulator that answers 429 beyond %d job reads a minute (rolling), RPAFLOW_ORCH_TENANT_BUDGET_PER_MINUTE=%d, per-worker budget 6000; %d reads, the last job ended %s after the first start, the budget granted %d permits (leases waited %s while permits went ungranted); the first read came %s after the first start, the last %s (%s for the reads); took %s.",
		n, runTime, workers, limit, limit, reads, lastEnd.Sub(start).Round(time.Millisecond), st.Granted, st.Late.D().Round(time.Millisecond),
		firstRead.Round(100*time.Millisecond), lastRead.Round(100*time.Millisecond), (lastRead - firstRead).Round(100*time.Millisecond), wall.Round(time.Millisecond))
	return nil
}
