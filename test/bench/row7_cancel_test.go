package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// heartbeatInterval is the worker's heartbeat throttle
// (MaxHeartbeatThrottleInterval): how late a cancelled wait learns of it.
const heartbeatInterval = 10 * time.Second

// cancellation is row 7: N running deployments are cancelled at once;
// count the runs still alive at the Control Room afterwards and time each
// cancel request to the stop request the Control Room received.
func (r *runner) cancellation(ctx context.Context) error {
	n := envInt("RPAFLOW_BENCH_CANCEL", 100)
	r.rep.Params["RPAFLOW_BENCH_CANCEL"] = fmt.Sprint(n)
	s, err := startStack(r, "cancel", stackOptions{})
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }()
	aaSim := s.Sims.AA
	runs := make([]client.WorkflowRun, n)
	for i := range runs {
		runs[i], err = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-cancel-%d", i), TaskQueue: s.TaskQueue},
			contract.DeployBotWorkflow, contract.DeployBotInput{Profile: "cr", BotID: aasim.LongBotID, RunAsUserIDs: []int64{aasim.DemoUserID}})
		if err != nil {
			return err
		}
	}
	for deadline := time.Now().Add(3 * time.Minute); aaSim.Running() < n; {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d deployments running after 3 minutes", aaSim.Running(), n)
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
	alive := aaSim.Running()
	cancelAt := make([]time.Time, n)
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cancelAt[i] = time.Now()
			_ = s.Client.CancelWorkflow(ctx, run.GetID(), "")
		}()
	}
	wg.Wait()
	var lat []time.Duration
	ended := 0
	var firstErr error
	deployment := make([]string, n)
	for i, run := range runs {
		err := run.Get(ctx, nil)
		var ce *temporal.CanceledError
		var stop contract.RunStop
		if !errors.As(err, &ce) || ce.Details(&stop) != nil || !stop.Terminal {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s ended with %v (stop %+v)", run.GetID(), err, stop)
			}
			continue
		}
		ended++
		deployment[i] = stop.RunID
	}
	stops := aaSim.StopRequests()
	for i, id := range deployment {
		if at, ok := stops[id]; ok {
			lat = append(lat, at.Sub(cancelAt[i]))
		}
	}
	left := aaSim.Running()
	row := "7 cancel"
	r.rep.Add(Line{Row: row, Metric: fmt.Sprintf("Control Room runs still alive after cancelling %d running deployments at once", n), Unit: "runs",
		Rpaflow: float64(left), Floor: F(float64(alive)), FloorName: "runs alive before the cancel (what a cancel that stops only the wait leaves)", Target: "0", Met: B(left == 0)})
	r.rep.Add(Line{Row: row, Metric: "workflows ended Canceled with a terminal platform status", Rpaflow: float64(ended), Floor: F(float64(n)), FloorName: "all cancelled",
		Ratio: F(float64(ended) / float64(n)), Target: "all", Met: B(ended == n)})
	if len(lat) > 0 {
		ms := Millis(lat)
		p99 := Percentile(ms, 99)
		r.rep.Add(Line{Row: row, Metric: "cancel → stop request at the Control Room, p99", Unit: "ms", Rpaflow: p99, Floor: F(float64(heartbeatInterval.Milliseconds())),
			FloorName: "one heartbeat interval (the worker's heartbeat throttle)", Ratio: F(p99 / float64(heartbeatInterval.Milliseconds())), Target: "≤ 1", Met: B(p99 <= float64(heartbeatInterval.Milliseconds()))})
		r.rep.Add(Line{Row: row, Metric: "cancel → stop request at the Control Room, p50", Unit: "ms", Rpaflow: Percentile(ms, 50)})
	}
	r.rep.Note("row 7: %d DeployBot workflows of the Control Room simulator's Long Bot (an hour long; a stop ends it RUN_ABORTED after 1 s) are running; all are cancelled at once from %d goroutines. Latency is from each CancelWorkflow call to the stop request the simulator received for that deployment (%d measured).", n, n, len(lat))
	return firstErr
}
