package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/simkit"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

// eventsGroup is one worker of row 9, with simulators of its own.
type eventsGroup struct {
	name      string
	events    bool
	drop      float64
	reconcile time.Duration

	stack *stack
	mu    sync.Mutex
	lag   [2][]float64 // StartJob, DeployBot: seconds from the platform's end to the result
	slow  [2][]string  // runs known over 2 s after their end: "<end>+<lag>", seconds since the row began
	errs  []error
}

// benchBotID is row 9's bot, running as long as its jobs.
const benchBotID = 990

// events is row 9: M StartJob and M DeployBot runs of RPAFLOW_BENCH_EVENT_RUN
// each, side by side on three workers: polling (events off), events, and
// events with 20 % of webhooks and callbacks dropped.
func (r *runner) events(ctx context.Context) error {
	m := envInt("RPAFLOW_BENCH_EVENT_JOBS", 100)
	run := envDuration("RPAFLOW_BENCH_EVENT_RUN", 10*time.Minute)
	reconcile := envDuration("RPAFLOW_BENCH_RECONCILE", 2*time.Minute)
	// Starts are spread evenly over spread, so runs end over as long (as
	// runs started by many callers do).
	// 0s starts them all at once: a burst of ends for the receiver.
	spread := time.Minute
	if d, err := time.ParseDuration(envStr("RPAFLOW_BENCH_EVENT_SPREAD", "")); err == nil && d >= 0 {
		spread = d
	}
	r.rep.Params["RPAFLOW_BENCH_EVENT_SPREAD"] = spread.String()
	r.rep.Params["RPAFLOW_BENCH_EVENT_JOBS"] = fmt.Sprint(m)
	r.rep.Params["RPAFLOW_BENCH_EVENT_RUN"] = run.String()
	r.rep.Params["RPAFLOW_BENCH_RECONCILE"] = reconcile.String()
	groups := []*eventsGroup{{name: "polling"}, {name: "events", events: true, reconcile: 10 * time.Minute},
		{name: "events, 20 % dropped", events: true, drop: 0.2, reconcile: reconcile}}
	for g, grp := range groups {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		base := "http://" + ln.Addr().String()
		oo := orchsim.DefaultOptions()
		oo.Folders[0].Releases = append(oo.Folders[0].Releases, orchsim.Release{Name: "Long", Pending: time.Second, Running: run})
		ao := aasim.DefaultOptions()
		ao.Bots = append(ao.Bots, aasim.Bot{ID: benchBotID, Name: "Long Bot", Deployed: time.Second, Running: run})
		extra := map[string]string{"RPAFLOW_POLL_BUDGET_PER_MINUTE": "2000"}
		if grp.events {
			const secret = "bench-events-secret-0123456789abcdef"
			oo.Webhooks = []orchsim.Webhook{{Name: "rpaflow-orch", URL: base + "/events/uipath/orch", Secret: secret, Enabled: true,
				Events: []string{"job.completed", "job.faulted", "job.stopped"}}}
			for k, v := range map[string]string{"RPAFLOW_ORCH_WEBHOOK_SECRET": secret, "RPAFLOW_CR_WEBHOOK_SECRET": secret,
				"RPAFLOW_CR_CALLBACK_URL": base, "RPAFLOW_ORCH_RECONCILE_INTERVAL": grp.reconcile.String(),
				"RPAFLOW_CR_RECONCILE_INTERVAL": grp.reconcile.String()} {
				extra[k] = v
			}
		}
		s, err := startStack(r, fmt.Sprintf("events-%d", g), stackOptions{Sims: simenv.Options{Orchestrator: &oo, AA: &ao}, Extra: extra, EventsListener: ln})
		if err != nil {
			return err
		}
		defer func() { _ = s.Stop() }()
		grp.stack = s
		// The Control Room documents no sender; it is taken to send as
		// Orchestrator's does, 10 at a time.
		s.Sims.AA.Deliveries().Workers = 10
		for _, d := range []*simkit.Deliverer{s.Sims.Orchestrator.Deliveries(), s.Sims.AA.Deliveries()} {
			d.SetFaults(simkit.DeliveryFaults{Drop: grp.drop}, uint64(g+1))
		}
	}
	var wg sync.WaitGroup
	start := time.Now()
	for _, grp := range groups {
		s := grp.stack
		record := func(kind int, end time.Time, err error) {
			grp.mu.Lock()
			defer grp.mu.Unlock()
			if err == nil && end.IsZero() {
				err = fmt.Errorf("the simulator has no end for the run")
			}
			if err != nil {
				grp.errs = append(grp.errs, err)
				return
			}
			lag := time.Since(end).Seconds()
			grp.lag[kind] = append(grp.lag[kind], lag)
			if lag > 2 {
				grp.slow[kind] = append(grp.slow[kind], fmt.Sprintf("%.0f+%.1f", end.Sub(start).Seconds(), lag))
			}
		}
		for i := range m {
			wg.Add(2)
			at := start.Add(spread * time.Duration(i) / time.Duration(m))
			go func() {
				defer wg.Done()
				time.Sleep(time.Until(at))
				var out contract.StartJobResult
				err := execute(ctx, s.Client, s.TaskQueue, fmt.Sprintf("bench-events-job-%d", i), contract.StartJobWorkflow,
					contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Long"}, &out)
				if err == nil && out.State != "Successful" {
					err = fmt.Errorf("job %d ended %s", out.ID, out.State)
				}
				record(0, s.Sims.Orchestrator.JobEnd(out.ID), err)
			}()
			go func() {
				defer wg.Done()
				time.Sleep(time.Until(at))
				var out contract.DeployBotResult
				err := execute(ctx, s.Client, s.TaskQueue, fmt.Sprintf("bench-events-bot-%d", i), contract.DeployBotWorkflow,
					contract.DeployBotInput{Profile: "cr", BotID: benchBotID, RunAsUserIDs: []int64{aasim.DemoUserID}}, &out)
				if err == nil && out.Status != "COMPLETED" {
					err = fmt.Errorf("deployment %s ended %s", out.DeploymentID, out.Status)
				}
				record(1, s.Sims.AA.DeploymentEnd(out.DeploymentID), err)
			}()
		}
	}
	wg.Wait()

	row := "9 events"
	kinds := []struct {
		name  string
		calls []string
	}{{"StartJob", []string{"job.get", "jobs.list"}}, {"DeployBot", []string{"activity.list"}}}
	var pollCalls [2]float64
	var failed []error
	for g, grp := range groups {
		if len(grp.errs) > 0 {
			failed = append(failed, fmt.Errorf("%s: %d runs failed, first: %w", grp.name, len(grp.errs), grp.errs[0]))
		}
		sims := grp.stack.Sims
		counts := [2]*simkit.Counters{sims.Orchestrator.Counters(), sims.AA.Counters()}
		for k, kind := range kinds {
			calls := 0.0
			for _, name := range kind.calls {
				calls += float64(counts[k].Get(name)) / float64(m)
			}
			lag := grp.lag[k]
			p50, p99, worst := Percentile(lag, 50), Percentile(lag, 99), Percentile(lag, 100)
			label := fmt.Sprintf("%s, %s", kind.name, grp.name)
			r.rep.Add(Line{Row: row, Metric: label + ": runs completed", Rpaflow: float64(len(lag)), Floor: F(float64(m)), FloorName: "all started",
				Ratio: F(float64(len(lag)) / float64(m)), Target: "all (0 lost)", Met: B(len(lag) == m)})
			if g == 0 {
				pollCalls[k] = calls
				r.rep.Add(Line{Row: row, Metric: label + ": status calls per run", Rpaflow: calls, Floor: F(1), FloorName: "one read of the final state", Ratio: F(calls)})
			} else {
				// The dropping worker reconciles often, so that recovery is
				// measured in bounded time: the 0.1 × target is the events
				// worker's.
				target, met := "≤ 0.1 × polling", B(calls <= 0.1*pollCalls[k])
				if grp.drop > 0 {
					target, met = fmt.Sprintf("— (reconciles every %s)", grp.reconcile), nil
				}
				r.rep.Add(Line{Row: row, Metric: label + ": status calls per run", Rpaflow: calls, Floor: F(pollCalls[k]), FloorName: "polling",
					Ratio: F(calls / pollCalls[k]), Target: target, Met: met})
			}
			if len(lag) == 0 {
				continue
			}
			if grp.events && len(grp.slow[k]) > 0 {
				// When they ended tells a stall of the whole machine (all
				// kinds at once) from a wait's own delay.
				r.rep.Note("row 9 %s: known over 2 s after the end (end+lag, s since the start): %s", label, strings.Join(grp.slow[k], " "))
			}
			target, met := "", (*bool)(nil)
			switch {
			case g == 1:
				target, met = "p99 ≤ 2 s", B(p99 <= 2)
			case g == 2:
				target, met = fmt.Sprintf("worst ≤ one reconcile interval (%s)", grp.reconcile), B(worst <= grp.reconcile.Seconds())
			}
			r.rep.Add(Line{Row: row, Metric: label + ": run's end to workflow result, p50 / p99 / worst", Unit: "s", Rpaflow: p99,
				Floor: F(p50), FloorName: fmt.Sprintf("p50 (worst %.1f s)", worst), Target: target, Met: met})
		}
		if grp.events {
			// skipped.breaker counts deliveries the sender skipped after a
			// failed one (UiPath's one-hour breaker): a receiver too slow
			// under a burst shows here.
			r.rep.Note("row 9 %s: %d of %d deliveries dropped by the simulators (%v webhooks, %v callbacks).", grp.name,
				sims.Orchestrator.Deliveries().Counters().Get("dropped")+sims.AA.Deliveries().Counters().Get("dropped"),
				sims.Orchestrator.Deliveries().Counters().Get("scheduled")+sims.AA.Deliveries().Counters().Get("scheduled"),
				sims.Orchestrator.Deliveries().Counters().Snapshot(), sims.AA.Deliveries().Counters().Snapshot())
			for _, d := range []struct {
				name string
				d    *simkit.Deliverer
			}{{"webhooks", sims.Orchestrator.Deliveries()}, {"callbacks", sims.AA.Deliveries()}} {
				var secs []float64
				for _, at := range d.d.AnswerTimes() {
					secs = append(secs, at.Seconds())
				}
				skipped := d.d.Counters().Get("skipped.breaker")
				r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("%s, %s: receiver's answer, p50 / p99 / worst", d.name, grp.name), Unit: "s",
					Rpaflow: Percentile(secs, 99), Floor: F(Percentile(secs, 50)), FloorName: fmt.Sprintf("p50 (worst %.2f s; %d skipped by the breaker)",
						Percentile(secs, 100), skipped), Target: "no delivery skipped", Met: B(skipped == 0)})
			}
		}
	}
	r.rep.Note("row 9: %d StartJob (Orchestrator simulator, a process running %s) and %d DeployBot (Control Room simulator, a bot running %s) per worker, started evenly over %s, on three workers at once, each with its own simulators: polling (events off), events (webhooks and callbacks through the worker's receiver, reconcile 10m), and events with 20 %% of deliveries dropped (reconcile %s). Status calls are the simulators' job reads (by Id and by $filter) and activity-list calls divided by the runs; the end-to-result time is from the simulator's end of the run to the client's receipt of the workflow result. Took %s.",
		m, run, m, run, spread, reconcile, time.Since(start).Round(time.Second))
	return errors.Join(failed...)
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(envStr(name, "")); err == nil && d > 0 {
		return d
	}
	return def
}
