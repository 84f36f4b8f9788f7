package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/simkit"
)

// waitKind is one kind of status wait row 5 runs: its workflow, and the
// simulator counter of the status calls it makes.
type waitKind struct {
	name     string
	platform string
	counter  func() int64
	run      func(ctx context.Context, c client.Client, queue string, i int) error
}

// polling is row 5: M concurrent StartJob waits and M concurrent DeployBot
// waits (one profile each) under a status-call budget per profile.
func (r *runner) polling(ctx context.Context) error {
	m := envInt("RPAFLOW_BENCH_JOBS", 100)
	budget := envInt("RPAFLOW_BENCH_POLL_BUDGET", 90)
	r.rep.Params["RPAFLOW_BENCH_JOBS"] = fmt.Sprint(m)
	r.rep.Params["RPAFLOW_BENCH_POLL_BUDGET"] = fmt.Sprint(budget)
	s, err := startStack(r, "polling", stackOptions{Extra: map[string]string{"RPAFLOW_POLL_BUDGET_PER_MINUTE": fmt.Sprint(budget)}})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }() // a worker slow to stop only delays the next row

	kinds := []waitKind{
		{name: "StartJob", platform: "Orchestrator GET /odata/Jobs(id)", counter: counterOf(s.Sims.Orchestrator.Counters(), "job.get"),
			run: func(ctx context.Context, c client.Client, queue string, i int) error {
				var res contract.StartJobResult
				err := execute(ctx, c, queue, fmt.Sprintf("bench-job-%d", i), contract.StartJobWorkflow,
					contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices", InputArguments: map[string]any{"count": i}}, &res)
				if err == nil && res.State != "Successful" {
					err = fmt.Errorf("job %d ended %s", res.ID, res.State)
				}
				return err
			}},
		{name: "DeployBot", platform: "Control Room activity list", counter: counterOf(s.Sims.AA.Counters(), "activity.list"),
			run: func(ctx context.Context, c client.Client, queue string, i int) error {
				var res contract.DeployBotResult
				err := execute(ctx, c, queue, fmt.Sprintf("bench-bot-%d", i), contract.DeployBotWorkflow,
					contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID},
						BotInput: map[string]json.RawMessage{"sInput1": json.RawMessage(fmt.Sprintf(`"%d"`, i))}}, &res)
				if err == nil && res.Status != "COMPLETED" {
					err = fmt.Errorf("deployment %s ended %s", res.DeploymentID, res.Status)
				}
				return err
			}},
		{name: "AddQueueItem wait", platform: "Orchestrator GET /odata/QueueItems(id)", counter: counterOf(s.Sims.Orchestrator.Counters(), "queueItem"),
			run: func(ctx context.Context, c client.Client, queue string, i int) error {
				var res contract.AddQueueItemResult
				ref := fmt.Sprintf("bench-%d", i)
				err := execute(ctx, c, queue, "bench-item-"+ref, contract.AddQueueItemWorkflow,
					contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: ref,
						SpecificContent: map[string]any{"order": ref}, Wait: true}, &res)
				if err == nil && res.Status != contract.QueueItemSuccessful {
					err = fmt.Errorf("queue item %d ended %s", res.ID, res.Status)
				}
				return err
			}},
		{name: "AddWorkItem wait", platform: "Control Room WLM work item list", counter: counterOf(s.Sims.AA.Counters(), "wlm.list"),
			run: func(ctx context.Context, c client.Client, queue string, i int) error {
				var res contract.AddWorkItemResult
				err := execute(ctx, c, queue, fmt.Sprintf("bench-work-%d", i), contract.AddWorkItemWorkflow,
					contract.AddWorkItemInput{Profile: "cr", Queue: "Invoices", Data: map[string]any{"invoice": fmt.Sprint(i)}, Wait: true}, &res)
				if err == nil && res.Status != contract.WorkItemCompleted {
					err = fmt.Errorf("work item %s ended %s", res.ID, res.Status)
				}
				return err
			}},
	}
	// The waits of one profile share its budget: jobs and queue items on
	// orch, deployments and work items on cr.
	profiles := []struct {
		name  string
		kinds []int
	}{{"orch (jobs + queue items)", []int{0, 2}}, {"cr (deployments + work items)", []int{1, 3}}}

	// Sample every kind's status-call counter every second.
	var mu sync.Mutex
	samples := make([][]Sample, len(kinds))
	sample := func() {
		mu.Lock()
		defer mu.Unlock()
		for k, kind := range kinds {
			samples[k] = append(samples[k], Sample{At: time.Now(), Count: kind.counter()})
		}
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
	type outcome struct {
		lat  []time.Duration
		wall time.Duration
		errs []error
	}
	outs := make([]outcome, len(kinds))
	var wg sync.WaitGroup
	for k, kind := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, wall, errs := batch(ctx, m, m, func(ctx context.Context, i int) error { return kind.run(ctx, s.Client, s.TaskQueue, i) })
			outs[k] = outcome{lat, wall, errs}
		}()
	}
	wg.Wait()
	stopSampling()
	<-sampled
	sample()

	row := "5 polling"
	minWall := time.Duration(float64(2*m) / float64(budget) * float64(time.Minute)) // two kinds of waits per profile
	for k, kind := range kinds {
		o := outs[k]
		if len(o.errs) > 0 {
			return fmt.Errorf("%d of %d %s runs failed, first: %w\n%s", len(o.errs), m, kind.name, o.errs[0], s.Logs)
		}
		ks := samples[k]
		total := ks[len(ks)-1].Count - ks[0].Count
		peak := MaxInWindow(ks, time.Minute)
		r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("%s status calls (%s) in the busiest minute, %d concurrent waits", kind.name, kind.platform, m), Unit: "calls",
			Rpaflow: float64(peak), Floor: F(float64(budget)), FloorName: "RPAFLOW_POLL_BUDGET_PER_MINUTE", Ratio: F(float64(peak) / float64(budget)),
			Target: "≤ budget (+1 burst)", Met: B(peak <= int64(budget)+1)})
		r.rep.Add(Line{Row: row, Metric: kind.name + " runs completed", Rpaflow: float64(len(o.lat)), Floor: F(float64(m)), FloorName: "all started",
			Ratio: F(float64(len(o.lat)) / float64(m)), Target: "all", Met: B(len(o.lat) == m)})
		r.rep.Add(Line{Row: row, Metric: kind.name + " status calls per run", Rpaflow: float64(total) / float64(m), Floor: F(1), FloorName: "one call that sees the final state",
			Ratio: F(float64(total) / float64(m))})
		r.rep.Add(Line{Row: row, Metric: kind.name + " time for all runs", Unit: "s", Rpaflow: o.wall.Seconds(), Floor: F(minWall.Seconds()),
			FloorName: "2M / budget (one call per run at the budget's rate; two kinds share a profile)", Ratio: F(o.wall.Seconds() / minWall.Seconds())})
	}
	for _, p := range profiles {
		var sum []Sample
		for i := range samples[p.kinds[0]] {
			var n int64
			for _, k := range p.kinds {
				n += samples[k][i].Count
			}
			sum = append(sum, Sample{At: samples[p.kinds[0]][i].At, Count: n})
		}
		peak := MaxInWindow(sum, time.Minute)
		r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("status calls of profile %s in the busiest minute", p.name), Unit: "calls",
			Rpaflow: float64(peak), Floor: F(float64(budget)), FloorName: "RPAFLOW_POLL_BUDGET_PER_MINUTE", Ratio: F(float64(peak) / float64(budget)),
			Target: "≤ budget (+1 burst)", Met: B(peak <= int64(budget)+1)})
	}
	r.rep.Note("row 5 also runs %d AddQueueItem waits (queue Orders, ~2 s per item) and %d AddWorkItem waits (WLM queue Invoices, ~2 s per item) at the same time, sharing the budget of their profile.", m, m)
	r.rep.Note("row 5: %d StartJob (profile orch, the Orchestrator simulator's Invoices process, ~2.5 s per job) and %d DeployBot (profile cr, the Control Room simulator's invoice bot, ~3 s per run) workflows started at once on one worker with RPAFLOW_POLL_BUDGET_PER_MINUTE=%d, a budget per profile: %d concurrent waits with the queue and work items. Status calls are the simulators' counters sampled every second (%d samples over %s); the busiest minute is the largest increase over any 60 s of samples.",
		m, m, budget, 4*m, len(samples[0]), time.Since(start).Round(time.Second))
	return nil
}

func counterOf(c *simkit.Counters, name string) func() int64 {
	return func() int64 { return c.Get(name) }
}

// execute runs one workflow to its end and decodes its result.
func execute(ctx context.Context, c client.Client, queue, id, workflowType string, in, out any) error {
	// A call that timed out on a loaded server is repeated: a start that
	// may have started the workflow returns the running one for its ID.
	var err error
	for try := 0; try < 3; try++ {
		var run client.WorkflowRun
		run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflowType, in)
		if err == nil {
			err = run.Get(ctx, out)
		}
		if err == nil || ctx.Err() != nil || !timedOut(err) {
			break
		}
	}
	return err
}

// timedOut: a call to the server that ran out of its own deadline.
func timedOut(err error) bool {
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return false // the workflow's own timeout
	}
	var dl *serviceerror.DeadlineExceeded
	return errors.As(err, &dl) || errors.Is(err, context.DeadlineExceeded)
}
