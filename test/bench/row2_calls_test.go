package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/workflows"
)

// callCounts are the provider calls one client made.
type callCounts struct{ logins, refreshes, details, executes, executeFailures int64 }

func countsOf(sim *aasim.Server, failures int64) callCounts {
	k := sim.Counters()
	return callCounts{logins: k.Get("login"), refreshes: k.Get("refresh"), details: k.Get("accessdetails"),
		executes: k.Get("execute"), executeFailures: failures}
}

func (c callCounts) total() int64 { return c.logins + c.refreshes + c.details }

// simAA is a Control Room simulator on a clock of the caller's and a client
// on the same clock.
func simAA(clock func() time.Time, lifetime time.Duration) (*aasim.Server, *aa.Client, func(), error) {
	o := aasim.DefaultOptions()
	o.TokenLifetime = lifetime
	o.Clock = clock
	o.APITasks[0].ConcurrencyLimit = 1000
	sim := aasim.New(o)
	srv := httptest.NewServer(sim)
	c, err := aa.New(aa.Options{BaseURL: srv.URL, Username: aasim.DemoUsername, APIKey: aasim.DemoAPIKey, AllowHTTP: true, Now: clock})
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	return sim, c, srv.Close, nil
}

var zipInput = map[string]botvalue.Value{"iStrZipCode": botvalue.Str("95134")}

// providerCalls is row 2: provider calls for D deployments spread over a
// simulated window, rpaflow's session vs a naive client vs an on-demand
// refresher, all against the real simulator on a simulated clock.
func (r *runner) providerCalls(ctx context.Context) error {
	d := envInt("RPAFLOW_BENCH_DEPLOYMENTS", 1000)
	window := envDur("RPAFLOW_BENCH_CALLS_WINDOW", 30*time.Minute)
	lifetime := envDur("RPAFLOW_BENCH_CALLS_TOKEN_LIFETIME", 2*time.Minute)
	minValidity := time.Duration(0) // what AAExecuteAPITask asks of access details: none beyond the max age
	r.rep.Params["RPAFLOW_BENCH_DEPLOYMENTS"] = fmt.Sprint(d)
	r.rep.Params["RPAFLOW_BENCH_CALLS_TOKEN_LIFETIME"] = lifetime.String()
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	at := func(i int) time.Duration { return time.Second + time.Duration(i)*window/time.Duration(d) }

	rp, err := rpaflowCalls(d, at, window, lifetime, minValidity, t0)
	if err != nil {
		return err
	}

	baseline := func(get func(ctx context.Context, c *aa.Client, now func() time.Time) func() (aa.AccessDetail, error)) (callCounts, error) {
		clk := &fakeClock{t: t0}
		sim, c, closeSim, err := simAA(clk.Now, lifetime)
		if err != nil {
			return callCounts{}, err
		}
		defer closeSim()
		next := get(ctx, c, clk.Now)
		var failures int64
		for i := range d {
			clk.Set(t0.Add(at(i)))
			det, err := next()
			if err != nil {
				return callCounts{}, fmt.Errorf("deployment %d: %w", i, err)
			}
			if _, err := c.Execute(ctx, det, zipInput); err != nil {
				failures++
			}
		}
		return countsOf(sim, failures), nil
	}
	naive, err := baseline(func(ctx context.Context, c *aa.Client, _ func() time.Time) func() (aa.AccessDetail, error) {
		return func() (aa.AccessDetail, error) { return Naive(ctx, c, aasim.ZipCodeTaskPath) }
	})
	if err != nil {
		return fmt.Errorf("naive client: %w", err)
	}
	onDemand, err := baseline(func(ctx context.Context, c *aa.Client, now func() time.Time) func() (aa.AccessDetail, error) {
		o := &OnDemand{Client: c, Now: now, MinValidity: minValidity}
		return func() (aa.AccessDetail, error) { return o.Details(ctx, aasim.ZipCodeTaskPath) }
	})
	if err != nil {
		return fmt.Errorf("on-demand client: %w", err)
	}
	for name, c := range map[string]callCounts{"rpaflow": rp, "naive": naive, "on-demand": onDemand} {
		if c.executes != int64(d) || c.executeFailures != 0 {
			return fmt.Errorf("%s: %d executions, %d failed; want %d, none failed", name, c.executes, c.executeFailures, d)
		}
	}

	row := "2 calls"
	add := func(metric string, rv, fv int64, floor, target string, met *bool) {
		r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("%s for %d deployments in %s", metric, d, window), Rpaflow: float64(rv), Floor: F(float64(fv)), FloorName: floor,
			Ratio: Ratio(float64(rv), float64(fv)), Target: target, Met: met})
	}
	add("logins", rp.logins, naive.logins, "naive (login per deployment)", "= 1", B(rp.logins == 1))
	add("logins", rp.logins, onDemand.logins, "on-demand refresher (x/oauth2 style, 1 process)", "", nil)
	add("refreshes", rp.refreshes, onDemand.refreshes, "on-demand refresher", "", nil)
	add("access-details calls", rp.details, naive.details, "naive", "", nil)
	add("access-details calls", rp.details, onDemand.details, "on-demand refresher", "", nil)
	add("all auth + access-details calls", rp.total(), naive.total(), "naive", "", nil)
	add("all auth + access-details calls", rp.total(), onDemand.total(), "on-demand refresher", "", nil)
	perFive := float64(rp.details) / (window.Minutes() / 5)
	r.rep.Add(Line{Row: row, Metric: "access-details calls per path per 5 min", Rpaflow: perFive,
		Floor: F(float64(onDemand.details) / (window.Minutes() / 5)), FloorName: "on-demand refresher", Ratio: Ratio(float64(rp.details), float64(onDemand.details)),
		Target: "≤ 1", Met: B(perFive <= 1)})
	r.rep.Note("row 2: %d deployments evenly over %s of simulated time, %s AA tokens, each deployment asks for details valid %s more (AAExecuteAPITask's minValidity) and executes the Zip Code task on the simulator (all %d executions succeeded for every client). rpaflow = the real ControlRoomSession workflow in the SDK's time-skipping test environment with the real AARenewSession activity, provider client and simulator on the test clock; each deployment is one accessDetails update (what AAExecuteAPITask sends). The only adaptation: the activity's details are stamped with the test clock (the test environment's activity StartedTime is wall time). Naive and on-demand run the same schedule on the same clock; the on-demand refresher (test/bench/ondemand.go: refresh within a 10 s skew, login when expired, details reused while valid %s more) is one process's cache — each extra worker process would repeat its calls, while rpaflow's session is shared by all workers. With tokens shorter than the details' reuse time the on-demand client lets its token expire and logs in again (each login of a single-session AA user ends the user's other sessions); rpaflow keeps one login alive with refreshes. Details are reused for up to %s (the 5 min max age minus the %s asked), so the floor for any client is one fetch per path per %s.",
		d, window, lifetime, minValidity, d, minValidity, 5*time.Minute-minValidity, minValidity, 5*time.Minute-minValidity)
	return nil
}

// rpaflowCalls runs the session workflow in the time-skipping test
// environment against a simulator on the test clock.
func rpaflowCalls(d int, at func(int) time.Duration, window, lifetime, minValidity time.Duration, t0 time.Time) (callCounts, error) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.SetTestTimeout(5 * time.Minute)
	sim, c, closeSim, err := simAA(env.Now, lifetime)
	if err != nil {
		return callCounts{}, err
	}
	defer closeSim()
	reg := activities.NewRegistry()
	reg.AddAA("cr", c)
	cr := &activities.AutomationAnywhere{Registry: reg}
	env.RegisterWorkflowWithOptions(workflows.ControlRoomSession, workflow.RegisterOptions{Name: contract.ControlRoomSessionWorkflow})
	env.RegisterActivityWithOptions(func(ctx context.Context, in activities.RenewInput) (activities.RenewResult, error) {
		res, err := cr.AARenewSession(ctx, in)
		now := env.Now()
		for p, det := range res.Details {
			det.FetchedAt = now
			res.Details[p] = det
		}
		return res, err
	}, activity.RegisterOptions{Name: "AARenewSession"})
	env.RegisterActivityWithOptions(cr.AALogout, activity.RegisterOptions{Name: "AALogout"})

	var mu sync.Mutex
	var failures int64
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		failures++
		if firstErr == nil {
			firstErr = err
		}
	}
	ctx := context.Background()
	// The test environment queues at most 1,000 callbacks: each deployment
	// schedules the next one instead of registering all up front.
	var deploy func(i int)
	deploy = func(i int) {
		if i+1 < d {
			env.RegisterDelayedCallback(func() { deploy(i + 1) }, at(i+1)-at(i))
		}
		env.UpdateWorkflow(contract.UpdateAccessDetails, fmt.Sprintf("deploy-%d", i), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { fail(fmt.Errorf("deployment %d rejected: %w", i, err)) },
			OnComplete: func(v any, err error) {
				if err != nil {
					fail(fmt.Errorf("deployment %d: %w", i, err))
					return
				}
				var res contract.AccessDetailsResult
				b, _ := json.Marshal(v)
				if err := json.Unmarshal(b, &res); err != nil {
					fail(err)
					return
				}
				det := res.Details[aasim.ZipCodeTaskPath]
				if _, err := c.Execute(ctx, aa.AccessDetail{URL: det.URL, Headers: det.Headers}, zipInput); err != nil {
					fail(fmt.Errorf("deployment %d execute: %w", i, err))
				}
			},
		}, contract.AccessDetailsRequest{Paths: []string{aasim.ZipCodeTaskPath}, MinValidity: contract.Duration(minValidity)})
	}
	env.RegisterDelayedCallback(func() { deploy(0) }, at(0))
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdateLogout, "logout", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { fail(err) }, OnComplete: func(any, error) {}})
	}, window) // count the calls made within the window
	env.ExecuteWorkflow(contract.ControlRoomSessionWorkflow, contract.SessionInput{Profile: "cr"})
	if !env.IsWorkflowCompleted() {
		return callCounts{}, fmt.Errorf("the session did not end after logout")
	}
	if err := env.GetWorkflowError(); err != nil {
		return callCounts{}, fmt.Errorf("session: %w", err)
	}
	if firstErr != nil {
		return callCounts{}, fmt.Errorf("%d deployments failed, first: %w", failures, firstErr)
	}
	return countsOf(sim, failures), nil
}
