package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// capacity is row 8: N API Tasks from three callers (fairness keys of equal
// weight, one in twenty at priority 1) at once against a Control Room
// licensed for L sessions, through the pool apitask=L. Counted: executions
// the Control Room refused, slot utilisation while a backlog exists, the
// callers' shares of the runs that ended during the backlog, the wait for
// a slot by priority, and the cost of admission when slots are free.
func (r *runner) capacity(ctx context.Context) error {
	n := envInt("RPAFLOW_BENCH_POOL_N", 200)
	limit := envInt("RPAFLOW_BENCH_POOL_LIMIT", 10)
	run := envDur("RPAFLOW_BENCH_POOL_RUN", 2*time.Second)
	r.rep.Params["RPAFLOW_BENCH_POOL_N"] = fmt.Sprint(n)
	r.rep.Params["RPAFLOW_BENCH_POOL_LIMIT"] = fmt.Sprint(limit)
	r.rep.Params["RPAFLOW_BENCH_POOL_RUN"] = run.String()

	var mu sync.Mutex
	started := map[string]time.Time{} // request → when its execution began
	ao := aasim.DefaultOptions()
	ao.APITaskSessions = limit
	ao.APITasks[0].ConcurrencyLimit = 10 * limit // the licence binds, not the allocation
	ao.APITasks[0].Latency = run
	ao.APITasks[0].Run = func(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
		mu.Lock()
		started[in["iStrZipCode"].String] = time.Now().Add(-run)
		mu.Unlock()
		return map[string]botvalue.Value{"State": botvalue.Str("ok")}, nil
	}
	// cr draws from the pool; cr2 is the same Control Room without one.
	extra := map[string]string{"RPAFLOW_PROFILES": "cr,cr2,orch,hub", "RPAFLOW_CR_POOLS": fmt.Sprintf("apitask=%d", limit),
		"RPAFLOW_CR2_KIND": "automationanywhere", "RPAFLOW_CR2_URL": simURLPlaceholder, "RPAFLOW_CR2_ALLOW_HTTP": "true",
		"RPAFLOW_CR2_USERNAME": aasim.DemoUsername, "RPAFLOW_CR2_API_KEY": aasim.DemoAPIKey}
	s, err := startStack(r, "capacity", stackOptions{Sims: simenv.Options{AA: &ao}, Extra: extra})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }()
	sim := s.Sims.AA

	// A start that times out on a loaded server is sent again: the start of
	// an ID that ran finds that run.
	start := func(ctx context.Context, id, profile string, adm *contract.Admission) (err error) {
		in := contract.DeployAPITaskInput{Profile: profile, BotRepositoryPath: aasim.ZipCodeTaskPath,
			BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(fmt.Sprintf("%q", id))}, Admission: adm}
		for try := 0; try < 5 && ctx.Err() == nil; try++ {
			// As the capacity docs tell callers: the admission's priority
			// is the start's Temporal priority too.
			if _, err = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue,
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, Priority: contract.StartPriority(in)},
				contract.DeployAPITaskWorkflow, in); err == nil {
				return nil
			}
		}
		return err
	}
	result := func(ctx context.Context, id string) (err error) {
		for try := 0; try < 5 && ctx.Err() == nil; try++ {
			if err = s.Client.GetWorkflow(ctx, id, "").Get(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
		}
		return err
	}
	deploy := func(ctx context.Context, id, profile string, adm *contract.Admission) error {
		if err := start(ctx, id, profile, adm); err != nil {
			return err
		}
		return result(ctx, id)
	}

	// Admission overhead with free slots: one at a time, alternating.
	overhead := map[string][]time.Duration{}
	for i := range 15 {
		for _, p := range []string{"cr", "cr2"} {
			t := time.Now()
			if err := deploy(ctx, fmt.Sprintf("bench-cap-free-%s-%d", p, i), p, nil); err != nil {
				return err
			}
			overhead[p] = append(overhead[p], time.Since(t))
		}
	}

	// The burst.
	callers := []string{"caller-a", "caller-b", "caller-c"}
	type req struct {
		id, caller string
		priority   int
		submitted  time.Time
		err        error
	}
	reqs := make([]*req, n)
	for i := range reqs {
		p := contract.DefaultAdmissionPriority
		if i%20 == 19 {
			p = 1
		}
		reqs[i] = &req{id: fmt.Sprintf("bench-cap-%d", i), caller: callers[i%3], priority: p}
	}
	rejectedBefore := sim.Counters().Get("execute.rejected")
	var samples []int
	sampling := make(chan struct{})
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-sampling:
				return
			case <-t.C:
				mu.Lock()
				samples = append(samples, sim.InFlight())
				mu.Unlock()
			}
		}
	}()
	// All requests are sent at once, their starts 32 at a time (a start is
	// one call; thousands at once time out on a small server). The runs'
	// ends are read at the Control Room, and the results once all ended:
	// a thousand waiting result calls load the server that is measured.
	deadline := envDur("RPAFLOW_BENCH_POOL_DEADLINE", 15*time.Minute)
	r.rep.Params["RPAFLOW_BENCH_POOL_DEADLINE"] = deadline.String()
	bctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	mu.Lock()
	before := len(started)
	mu.Unlock()
	burstStart := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, q := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			q.submitted = time.Now()
			q.err = start(bctx, q.id, "cr", &contract.Admission{Priority: q.priority, FairnessKey: q.caller})
		}()
	}
	wg.Wait()
	submitted := time.Since(burstStart)
	for {
		mu.Lock()
		ended := len(started) - before
		mu.Unlock()
		if ended >= n {
			break
		}
		if bctx.Err() != nil {
			return fmt.Errorf("%d of %d runs ended within RPAFLOW_BENCH_POOL_DEADLINE=%s", ended, n, deadline)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(sampling)
	<-samplerDone
	wall := time.Since(burstStart)
	for _, q := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if q.err == nil {
				q.err = result(bctx, q.id)
			}
		}()
	}
	wg.Wait()

	var failed []string
	for _, q := range reqs {
		if q.err != nil {
			failed = append(failed, q.id+": "+q.err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d deployments failed, e.g. %s", len(failed), n, failed[0])
	}
	// The backlog lasts until fewer requests are left than slots: the last
	// execution to start while others still waited.
	mu.Lock()
	starts := make([]time.Time, 0, n)
	for _, q := range reqs {
		starts = append(starts, started[q.id])
	}
	mu.Unlock()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	backlogEnd := starts[n-limit]
	// Utilisation: executions in flight over the backlog, sampled. The
	// backlog begins when the slots are first all taken (before, the
	// burst's first requests are still on their way to the pool).
	inBacklog := int(backlogEnd.Sub(burstStart) / (50 * time.Millisecond))
	full := slices.Index(samples, limit)
	var sum, cnt float64
	for i, v := range samples {
		if i >= inBacklog {
			break
		}
		if full < 0 || i < full {
			continue
		}
		sum += float64(v)
		cnt++
	}
	util := sum / cnt / float64(limit)
	// Callers' shares of the runs that ended during the backlog.
	share := map[string]int{}
	waits := map[int][]time.Duration{}
	for _, q := range reqs {
		st := started[q.id]
		if !st.Add(run).After(backlogEnd) {
			share[q.caller]++
		}
		waits[q.priority] = append(waits[q.priority], st.Sub(q.submitted))
	}
	minShare, maxShare := n, 0
	for _, c := range callers {
		minShare, maxShare = min(minShare, share[c]), max(maxShare, share[c])
	}
	refused := sim.Counters().Get("execute.rejected") - rejectedBefore
	p1 := Percentile(Millis(waits[1]), 50)
	p3 := Percentile(Millis(waits[3]), 50)
	withPool, without := Percentile(Millis(overhead["cr"]), 50), Percentile(Millis(overhead["cr2"]), 50)
	yes := func(ok bool) *bool { return &ok }
	row := "8 capacity"
	r.rep.Add(Line{Row: row, Metric: "executions refused for capacity", Rpaflow: float64(refused), Target: "0", Met: yes(refused == 0)})
	r.rep.Add(Line{Row: row, Metric: "slot utilisation while a backlog exists", Unit: "%", Rpaflow: 100 * util, Target: "≥ 95", Met: yes(util >= 0.95)})
	r.rep.Add(Line{Row: row, Metric: "largest / smallest caller share during the backlog", Rpaflow: float64(maxShare) / float64(max(minShare, 1)),
		Target: "≤ 1.2", Met: yes(float64(maxShare) <= 1.2*float64(minShare))})
	r.rep.Add(Line{Row: row, Metric: "wait for a slot p50, priority 1 / priority 3", Unit: "ms", Rpaflow: p1, Floor: F(p3), FloorName: "priority 3",
		Ratio: F(p1 / p3), Target: "≤ 0.1×", Met: yes(p1 <= 0.1*p3)})
	r.rep.Add(Line{Row: row, Metric: "one deployment with free slots p50", Unit: "ms", Rpaflow: withPool, Floor: F(without), FloorName: "no pool",
		Ratio: F(withPool / without), Target: "≤ 1.2×", Met: yes(withPool <= 1.2*without)})
	ids := make([]string, n)
	prio := map[string]int{}
	submittedAt := map[string]time.Time{}
	for i, q := range reqs {
		ids[i] = q.id
		prio[q.id] = q.priority
		submittedAt[q.id] = q.submitted
	}
	dc, _, err := temporalclient.Converters(s.Config)
	if err != nil {
		return err
	}
	mu.Lock()
	trace, err := traceHandoffs(ctx, s.Client, dc, contract.PoolID("cr", contract.PoolAPITask), burstStart, ids, started, submittedAt, prio, run)
	mu.Unlock()
	if err != nil {
		return fmt.Errorf("reading row 8's histories: %w", err)
	}
	r.rep.Note("row 8: the burst's starts took %s; %s", submitted.Round(time.Millisecond), trace)
	r.rep.Note("row 8: %d API Tasks of %s each from %s through apitask=%d (licence %d sessions) in %s (floor %s); peak in flight %d; shares %v",
		n, run, strings.Join(callers, ", "), limit, limit, wall.Round(time.Millisecond), (time.Duration(n/limit) * run).Round(time.Millisecond),
		sim.PeakExecutions(), share)
	return nil
}
