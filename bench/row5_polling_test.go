package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/workflows"
)

// polling is row 5: M concurrent StartJob waits under a status-call budget.
func (r *runner) polling(ctx context.Context) error {
	m := envInt("RPAFLOW_BENCH_JOBS", 100)
	budget := envInt("RPAFLOW_BENCH_POLL_BUDGET", 90)
	r.rep.Params["RPAFLOW_BENCH_JOBS"] = fmt.Sprint(m)
	r.rep.Params["RPAFLOW_BENCH_POLL_BUDGET"] = fmt.Sprint(budget)
	s, err := startStack(r.ds, "polling", stackOptions{Extra: map[string]string{"RPAFLOW_POLL_BUDGET_PER_MINUTE": fmt.Sprint(budget)}})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }() // a worker slow to stop only delays the next row

	// Sample the simulator's status-call counter every second.
	var mu sync.Mutex
	var samples []Sample
	sample := func() {
		mu.Lock()
		samples = append(samples, Sample{At: time.Now(), Count: s.Sims.Orchestrator.Counters().Get("job.get")})
		mu.Unlock()
	}
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			sample()
			if !sleepCtx(sctx, time.Second) {
				return
			}
		}
	}()
	start := time.Now()
	lat, wall, errs := batch(ctx, m, m, func(ctx context.Context, i int) error {
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-job-%d", i), TaskQueue: s.TaskQueue},
			contract.StartJobWorkflow, workflows.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices",
				InputArguments: map[string]any{"count": i}})
		if err != nil {
			return err
		}
		var res workflows.StartJobResult
		if err := run.Get(ctx, &res); err != nil {
			return err
		}
		if res.State != "Successful" {
			return fmt.Errorf("job %d ended %s", res.ID, res.State)
		}
		return nil
	})
	stopSampling()
	<-sampled
	sample()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d StartJob runs failed, first: %w\n%s", len(errs), m, errs[0], s.Logs)
	}
	total := samples[len(samples)-1].Count - samples[0].Count
	peak := MaxInWindow(samples, time.Minute)
	minWall := time.Duration(float64(m) / float64(budget) * float64(time.Minute))
	row := "5 polling"
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("status calls in the busiest minute, %d concurrent StartJob waits", m), Unit: "calls",
		Rpaflow: float64(peak), Floor: F(float64(budget)), FloorName: "RPAFLOW_POLL_BUDGET_PER_MINUTE", Ratio: F(float64(peak) / float64(budget)),
		Target: "≤ budget (+1 burst)", Met: B(peak <= int64(budget)+1)})
	r.rep.Add(Line{Row: row, Metric: "runs completed Successful", Rpaflow: float64(len(lat)), Floor: F(float64(m)), FloorName: "all started",
		Ratio: F(float64(len(lat)) / float64(m)), Target: "all", Met: B(len(lat) == m)})
	r.rep.Add(Line{Row: row, Metric: "status calls per job", Rpaflow: float64(total) / float64(m), Floor: F(1), FloorName: "one call that sees the final state",
		Ratio: F(float64(total) / float64(m))})
	r.rep.Add(Line{Row: row, Metric: "time for all runs", Unit: "s", Rpaflow: wall.Seconds(), Floor: F(minWall.Seconds()),
		FloorName: "M / budget (one call per job at the budget's rate)", Ratio: F(wall.Seconds() / minWall.Seconds())})
	r.rep.Note("row 5: %d StartJob workflows started at once on one worker with RPAFLOW_POLL_BUDGET_PER_MINUTE=%d against the Orchestrator simulator's Invoices process (~2.5 s per job); status calls are the simulator's GET /odata/Jobs(id) counter sampled every second (%d samples over %s), the busiest minute is the largest increase over any 60 s of samples. p50 run time %.0f s.",
		m, budget, len(samples), time.Since(start).Round(time.Second), Percentile(Millis(lat), 50)/1000)
	return nil
}
