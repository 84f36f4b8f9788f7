package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	nexuspb "go.temporal.io/api/nexus/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/integration/caller"
)

// nexusCalls is row 6: a caller workflow runs DeployAPITask through
// rpaflow's Nexus endpoint from another namespace, or as a child workflow
// in rpaflow's namespace, or the client starts DeployAPITask directly.
func (r *runner) nexusCalls(ctx context.Context) error {
	n := envInt("RPAFLOW_BENCH_NEXUS_N", 300)
	conc := envInt("RPAFLOW_BENCH_CONCURRENCY", 20)
	rounds := 3
	r.rep.Params["RPAFLOW_BENCH_NEXUS_N"] = fmt.Sprint(n)

	ao := aasim.DefaultOptions()
	ao.APITasks[0].ConcurrencyLimit = 2 * conc
	s, err := startStack(r, "nexus", stackOptions{Sims: simenv.Options{AA: &ao}})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }()

	endpoint := "rpaflow-bench"
	if _, err := s.Client.OperatorService().CreateNexusEndpoint(ctx, &operatorservice.CreateNexusEndpointRequest{Spec: &nexuspb.EndpointSpec{
		Name: endpoint,
		Target: &nexuspb.EndpointTarget{Variant: &nexuspb.EndpointTarget_Worker_{Worker: &nexuspb.EndpointTarget_Worker{
			Namespace: s.Namespace, TaskQueue: s.TaskQueue}}},
	}}); err != nil {
		return fmt.Errorf("creating the Nexus endpoint: %w", err)
	}
	ns, err := r.namespaces.Next()
	if err != nil {
		return err
	}
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	other, err := client.Dial(client.Options{HostPort: r.hostPort, Namespace: ns, Logger: quiet})
	if err != nil {
		return err
	}
	defer other.Close()
	nw := worker.New(other, "caller", worker.Options{})
	nw.RegisterWorkflow(caller.NexusStep)
	// The child-workflow caller lives in rpaflow's namespace and reads the
	// child's encrypted result, so it uses rpaflow's client.
	cw := worker.New(s.Client, "caller", worker.Options{})
	cw.RegisterWorkflow(caller.ChildAPITask)
	for _, w := range []worker.Worker{nw, cw} {
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
	}

	in := contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: aasim.ZipCodeTaskPath,
		BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"95134"`)}}
	check := func(res contract.DeployAPITaskResult) error {
		if res.BotOutput["State"] != "California" {
			return fmt.Errorf("DeployAPITask returned %v, want State California", res.BotOutput)
		}
		return nil
	}
	var seq atomic.Int64
	viaNexus := func(ctx context.Context, _ int) error {
		run, err := other.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-nexus-%d", seq.Add(1)), TaskQueue: "caller"},
			caller.NexusStep, caller.Step{Endpoint: endpoint, APITask: &in})
		if err != nil {
			return err
		}
		var out caller.Outcome
		if err := run.Get(ctx, &out); err != nil {
			return err
		}
		if out.ErrorType != "" || out.APITask == nil {
			return fmt.Errorf("nexus step: %s %s", out.ErrorType, out.Message)
		}
		return check(*out.APITask)
	}
	// run starts wf on rpaflow's namespace and checks its API Task result.
	run := func(ctx context.Context, id, queue string, wf any, args ...any) error {
		r, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, wf, args...)
		if err != nil {
			return err
		}
		var out contract.DeployAPITaskResult
		if err := r.Get(ctx, &out); err != nil {
			return err
		}
		return check(out)
	}
	viaChild := func(ctx context.Context, _ int) error {
		return run(ctx, fmt.Sprintf("bench-child-%d", seq.Add(1)), "caller", caller.ChildAPITask, "", in)
	}
	direct := func(ctx context.Context, _ int) error {
		return run(ctx, fmt.Sprintf("bench-direct-%d", seq.Add(1)), s.TaskQueue, contract.DeployAPITaskWorkflow, in)
	}
	fns := map[string]func(context.Context, int) error{"nexus": viaNexus, "child": viaChild, "direct": direct}
	for name, f := range fns { // warm up each path (the session's login, the endpoint)
		if err := f(ctx, 0); err != nil {
			return fmt.Errorf("warm-up %s: %w\n%s", name, err, s.Logs)
		}
	}
	res, err := alternate(ctx, n, rounds, conc, []string{"child", "nexus", "direct"}, fns)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, s.Logs)
	}
	nx, ch, dr := res["nexus"], res["child"], res["direct"]
	thr := func(a *sample) float64 { return a.throughput() }
	p := func(a *sample, q float64) float64 { return a.percentile(q) }
	row := "6 nexus"
	p50 := p(nx, 50) / p(ch, 50)
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("p50 latency, %d caller runs of one deployApiTask, concurrency %d", n, conc), Unit: "ms",
		Rpaflow: p(nx, 50), Floor: F(p(ch, 50)), FloorName: "the same step as a child workflow", Ratio: F(p50), Target: "≤ 1.5", Met: B(p50 <= 1.5)})
	r.rep.Add(Line{Row: row, Metric: "p99 latency", Unit: "ms", Rpaflow: p(nx, 99), Floor: F(p(ch, 99)),
		FloorName: "child workflow", Ratio: Ratio(p(nx, 99), p(ch, 99))})
	r.rep.Add(Line{Row: row, Metric: "throughput", Unit: "runs/s", Rpaflow: thr(nx), Floor: F(thr(ch)),
		FloorName: "child workflow", Ratio: F(thr(nx) / thr(ch))})
	r.rep.Add(Line{Row: row, Metric: "p50 latency", Unit: "ms", Rpaflow: p(nx, 50), Floor: F(p(dr, 50)),
		FloorName: "DeployAPITask started directly", Ratio: Ratio(p(nx, 50), p(dr, 50))})
	r.rep.Add(Line{Row: row, Metric: "throughput", Unit: "runs/s", Rpaflow: thr(nx), Floor: F(thr(dr)),
		FloorName: "DeployAPITask started directly", Ratio: F(thr(nx) / thr(dr))})
	r.rep.Note("row 6: %d runs per variant in %d alternating rounds at concurrency %d after one warm-up each; the Nexus caller runs in a second namespace with the SDK's default converter, the child-workflow caller in rpaflow's namespace with its codec.", n, rounds, conc)
	return nil
}
