package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/internal/simenv"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/devserver"
)

type runner struct {
	hostPort   string // the Temporal frontend
	namespaces *devserver.Namespaces
	// label tells the servers apart when rows run on both (RPAFLOW_BENCH_SERVER=cluster).
	label string
	rep   *Report
	// eventsPerUpdate is measured in row 1 (the session's history after N
	// deployments) and reported in row 3.
	eventsPerUpdate float64
}

const (
	bareWorkflowName = "BenchBareWorkflow"
	bareActivityName = "BenchNoopActivity"
)

// bareWorkflow is the engine floor: one workflow, one no-op activity.
func bareWorkflow(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, bareActivityName, in).Get(ctx, &out)
	return out, err
}

func noopActivity(_ context.Context, in string) (string, error) { return in, nil }

// deployments is row 1: DeployAPITask runs vs a bare workflow vs direct HTTP.
func (r *runner) deployments(ctx context.Context) error {
	n := envInt("RPAFLOW_BENCH_N", 500)
	conc := envInt("RPAFLOW_BENCH_CONCURRENCY", 20)
	rounds := 4
	r.rep.Params["RPAFLOW_BENCH_N"] = fmt.Sprint(n)
	r.rep.Params["RPAFLOW_BENCH_CONCURRENCY"] = fmt.Sprint(conc)

	// The demo API Task allows 2 executions at once; every variant here
	// runs conc at once, so the allocation is raised for all of them alike.
	ao := aasim.DefaultOptions()
	ao.APITasks[0].ConcurrencyLimit = 2 * conc
	s, err := startStack(r, "deploy", stackOptions{Sims: simenv.Options{AA: &ao}})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }() // a worker slow to stop only delays the next row

	bareQueue := s.TaskQueue + "-bare"
	bw := worker.New(s.Client, bareQueue, worker.Options{})
	bw.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	bw.RegisterActivityWithOptions(noopActivity, activity.RegisterOptions{Name: bareActivityName})
	if err := bw.Start(); err != nil {
		return fmt.Errorf("bare worker: %w", err)
	}
	defer bw.Stop()

	input := map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)}
	var seq atomic.Int64
	deploy := func(ctx context.Context, _ int) error {
		id := fmt.Sprintf("bench-deploy-%d", seq.Add(1))
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue},
			contract.DeployAPITaskWorkflow, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: aasim.ZipCodeTaskPath, BotInput: input})
		if err != nil {
			return err
		}
		var res contract.DeployAPITaskResult
		if err := run.Get(ctx, &res); err != nil {
			return err
		}
		if res.BotOutput["State"] != "California" {
			return fmt.Errorf("DeployAPITask returned %v, want State California", res.BotOutput)
		}
		return nil
	}
	bare := func(ctx context.Context, _ int) error {
		id := fmt.Sprintf("bench-bare-%d", seq.Add(1))
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: bareQueue}, bareWorkflowName, "95134")
		if err != nil {
			return err
		}
		var out string
		return run.Get(ctx, &out)
	}
	// Network floor: access details once, then only the execute call per run.
	hc, err := aa.New(aa.Options{BaseURL: s.SimURL, Username: aasim.DemoUsername, APIKey: aasim.DemoAPIKey, AllowHTTP: true})
	if err != nil {
		return err
	}
	var det aa.AccessDetail
	direct := func(ctx context.Context, _ int) error {
		out, err := hc.Execute(ctx, det, map[string]botvalue.Value{"iStrZipCode": botvalue.Str("95134")})
		if err == nil && out["State"].String != "California" {
			err = fmt.Errorf("execute returned %v, want State California", out)
		}
		return err
	}

	// Warm up: the first deployment creates the session (login + details).
	if err := deploy(ctx, 0); err != nil {
		return fmt.Errorf("warm-up deployment: %w\n%s", err, s.Logs)
	}
	if err := bare(ctx, 0); err != nil {
		return fmt.Errorf("warm-up bare workflow: %w", err)
	}
	if tok, err := hc.Login(ctx); err != nil {
		return err
	} else if ad, err := hc.AccessDetails(ctx, tok.Value, []string{aasim.ZipCodeTaskPath}); err != nil {
		return err
	} else {
		det = ad.Details[aasim.ZipCodeTaskPath]
	}
	before := s.Sims.AA.Counters().Snapshot()

	res, err := alternate(ctx, n, rounds, conc, []string{"bare", "rpaflow", "http"},
		map[string]func(context.Context, int) error{"rpaflow": deploy, "bare": bare, "http": direct})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, s.Logs)
	}
	after := s.Sims.AA.Counters().Snapshot()

	rp, br, ht := res["rpaflow"], res["bare"], res["http"]
	thrRatio, p50Ratio := rp.throughput()/br.throughput(), rp.percentile(50)/br.percentile(50)
	row := "1 deploy" + r.label
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("throughput, %d runs, concurrency %d", n, conc), Unit: "runs/s",
		Rpaflow: rp.throughput(), Floor: F(br.throughput()), FloorName: "bare workflow + 1 no-op activity", Ratio: F(thrRatio), Target: "≥ 0.8", Met: B(thrRatio >= 0.8)})
	r.rep.Add(Line{Row: row, Metric: "p50 latency", Unit: "ms", Rpaflow: rp.percentile(50), Floor: F(br.percentile(50)),
		FloorName: "bare workflow", Ratio: F(p50Ratio), Target: "≤ 1.25", Met: B(p50Ratio <= 1.25)})
	r.rep.Add(Line{Row: row, Metric: "p99 latency", Unit: "ms", Rpaflow: rp.percentile(99), Floor: F(br.percentile(99)),
		FloorName: "bare workflow", Ratio: Ratio(rp.percentile(99), br.percentile(99))})
	r.rep.Add(Line{Row: row, Metric: "throughput", Unit: "runs/s", Rpaflow: rp.throughput(), Floor: F(ht.throughput()),
		FloorName: "direct HTTP execute (network floor)", Ratio: F(rp.throughput() / ht.throughput())})
	r.rep.Add(Line{Row: row, Metric: "p50 latency", Unit: "ms", Rpaflow: rp.percentile(50), Floor: F(ht.percentile(50)),
		FloorName: "direct HTTP execute", Ratio: Ratio(rp.percentile(50), ht.percentile(50))})
	logins := after["login"] - before["login"]
	details := after["accessdetails"] - before["accessdetails"]
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("logins + access-details calls during the %d warm runs", n),
		Rpaflow: float64(logins + details), Floor: F(0), FloorName: "direct HTTP (details fetched once before)", Target: "≤ 1 per 5 min", Met: B(details <= 1 && logins == 0)})

	// How much history each consumer update adds to the session (row 3 uses it).
	events, updates, err := sessionHistory(ctx, s.Client, contract.AASessionID("cr"))
	if err != nil {
		return err
	}
	if updates > 0 {
		r.eventsPerUpdate = float64(events) / float64(updates)
	}
	r.rep.Note("row 1%s: %d DeployAPITask, %d bare and %d direct-HTTP runs in %d alternating rounds at concurrency %d after one warm-up each; the API Task's concurrencyLimit is raised to %d for all variants (the demo's 2 would make every variant wait on 429s); the session's history holds %d events for %d accessDetails updates.",
		r.label, n, n, n, rounds, conc, 2*conc, events, updates)
	return nil
}

// sessionHistory counts the events of a workflow's current run and the
// updates it accepted.
func sessionHistory(ctx context.Context, c client.Client, id string) (events, updates int, err error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, 0, fmt.Errorf("history of %s: %w", id, err)
		}
		events++
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			updates++
		}
	}
	return events, updates, nil
}
