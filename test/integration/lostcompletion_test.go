package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/plugin"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

// loseCompletions drops the completion of each start activity's first
// attempt after the activity ran: the platform did the work and answered,
// and Temporal hears a retryable failure instead, as when the worker dies
// or the server is down between the platform's answer and the completion.
type loseCompletions struct {
	interceptor.WorkerInterceptorBase
	lost atomic.Int64
}

var startActivities = map[string]bool{"OrchStartJob": true, "OrchAddQueueItem": true, "AADeployBot": true, "AADeploy": true,
	"AAAddWorkItem": true, "AAExecuteAPITask": true}

func (l *loseCompletions) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &loseActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, root: l}
}

type loseActivity struct {
	interceptor.ActivityInboundInterceptorBase
	root *loseCompletions
}

func (a *loseActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	if info := activity.GetInfo(ctx); err == nil && info.Attempt == 1 && startActivities[info.ActivityType.Name] {
		a.root.lost.Add(1)
		return nil, temporal.NewApplicationError("test fault: the platform answered but the completion was lost", "CompletionLost")
	}
	return res, err
}

// countingMetrics counts rpaflow_starts_adopted by start.
type countingMetrics struct {
	adopted *[5]atomic.Int64
	start   string
}

func (m countingMetrics) Gauge(name string) client.MetricsGauge {
	return client.MetricsNopHandler.Gauge(name)
}
func (m countingMetrics) Timer(name string) client.MetricsTimer {
	return client.MetricsNopHandler.Timer(name)
}

func (m countingMetrics) WithTags(tags map[string]string) client.MetricsHandler {
	if s, ok := tags["start"]; ok {
		m.start = s
	}
	return m
}

func (m countingMetrics) Counter(name string) client.MetricsCounter {
	if name != "rpaflow_starts_adopted" {
		return client.MetricsNopHandler.Counter(name)
	}
	return adoptedCounter{m}
}

type adoptedCounter struct{ m countingMetrics }

func (c adoptedCounter) Inc(n int64) { c.m.adopted[kindIndex(c.m.start)].Add(n) }

var faultKinds = []string{contract.StartJobWorkflow, contract.AddQueueItemWorkflow, contract.DeployBotWorkflow,
	contract.AddWorkItemWorkflow, contract.DeployAPITaskWorkflow}

func kindIndex(kind string) int {
	for i, k := range faultKinds {
		if k == kind {
			return i
		}
	}
	return 0
}

// adoptionLog counts the activities' "adopting it" log lines.
type adoptionLog struct {
	slog.Handler
	lines *atomic.Int64
}

func (h adoptionLog) Enabled(context.Context, slog.Level) bool { return true }
func (h adoptionLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "adopting it, not starting another") {
		h.lines.Add(1)
	}
	return nil
}
func (h adoptionLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h adoptionLog) WithGroup(string) slog.Handler      { return h }

// Each of the five starts, 20 times, with its first completion lost: the
// platform gets exactly one start per workflow. Jobs, queue items and
// deployments are found by their key and adopted; work items and API Task
// executions, which carry no key, end Ambiguous with the details to check.
func TestLostCompletionNeverStartsTwice(t *testing.T) {
	if devServer == nil {
		t.Skip("no Temporal dev server (run `make test`)")
	}
	const runs = 20
	ns, err := namespaces.Next()
	if err != nil {
		t.Fatal(err)
	}
	ao := aasim.DefaultOptions()
	ao.APITasks[0].ConcurrencyLimit = 2 * runs
	// Listed only after the retry's first look: the retry keeps looking.
	ao.Bots[0].Deployed, ao.Bots[0].Running, ao.Bots[0].ListDelay = 200*time.Millisecond, time.Second, 4*time.Second
	oo := orchsim.DefaultOptions()
	oo.Folders[0].Queues = append(oo.Folders[0].Queues, orchsim.Queue{Name: "Loose"}) // references not enforced
	oo.JobListPerMinute = 10 * runs
	sims, p := pluginOnSims(t, simenv.Options{AA: &ao, Orchestrator: &oo}, plugin.Options{})
	var logLines atomic.Int64
	var adopted [5]atomic.Int64
	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: ns, Plugins: []client.Plugin{p},
		Logger:         log.NewStructuredLogger(slog.New(adoptionLog{lines: &logLines})),
		MetricsHandler: countingMetrics{adopted: &adopted}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	fault := &loseCompletions{}
	w := worker.New(c, "lost-completions", worker.Options{Interceptors: []interceptor.WorkerInterceptor{fault}})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type run struct {
		kind string
		wf   client.WorkflowRun
	}
	var all []run
	start := func(kind, id string, in any) {
		wf, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "lost-completions"}, kind, in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, run{kind, wf})
	}
	began := time.Now()
	for i := range runs {
		// Half the jobs and items carry the caller's reference, half the derived one.
		ref := ""
		if i%2 == 0 {
			ref = fmt.Sprintf("PO-%d", i)
		}
		start(contract.StartJobWorkflow, fmt.Sprintf("lost-job-%d", i),
			contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices", Reference: ref})
		queue := "Orders" // unique references
		if ref == "" {
			queue = "Loose"
		}
		start(contract.AddQueueItemWorkflow, fmt.Sprintf("lost-item-%d", i),
			contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: queue, Reference: ref, SpecificContent: map[string]any{"n": float64(i)}})
		start(contract.DeployBotWorkflow, fmt.Sprintf("lost-bot-%d", i), contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID,
			RunAsUserIDs: []int64{aasim.DemoUserID}, BotInput: map[string]json.RawMessage{"sInput1": json.RawMessage(fmt.Sprintf(`"bot-%d"`, i))}})
		start(contract.AddWorkItemWorkflow, fmt.Sprintf("lost-workitem-%d", i),
			contract.AddWorkItemInput{Profile: "cr", Queue: "Invoices", Data: map[string]any{"invoice": fmt.Sprintf("INV-%d", i), "amount": 10.0}})
		start(contract.DeployAPITaskWorkflow, fmt.Sprintf("lost-task-%d", i), contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask,
			BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"10001"`)}})
	}

	type tally struct{ runs, adopted, ambiguous int }
	got := map[string]*tally{}
	seen := map[string]bool{} // the run each workflow ended with, per kind
	for _, r := range all {
		tl := got[r.kind]
		if tl == nil {
			tl = &tally{}
			got[r.kind] = tl
		}
		tl.runs++
		var res struct {
			JobID        int64  `json:"jobId"`
			ID           any    `json:"id"`
			DeploymentID string `json:"deploymentId"`
			State        string `json:"state"`
			Status       string `json:"status"`
			Adopted      bool   `json:"adopted"`
		}
		err := r.wf.Get(ctx, &res)
		switch r.kind {
		case contract.AddWorkItemWorkflow, contract.DeployAPITaskWorkflow:
			info, _ := contract.InfoOf(err)
			if contract.TypeOf(err) != contract.ErrAmbiguous || info.SentAt == nil || !strings.Contains(err.Error(), "To check by hand") {
				t.Errorf("%s %s: %v (info %+v), want Ambiguous with the time it was sent and what to check", r.kind, r.wf.GetID(), err, info)
				continue
			}
			tl.ambiguous++
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", r.kind, r.wf.GetID(), err)
			continue
		}
		if res.Adopted {
			tl.adopted++
		}
		run := fmt.Sprint(r.kind, res.JobID, res.ID, res.DeploymentID)
		if seen[run] {
			t.Errorf("%s %s ended with a run another workflow ended with: %+v", r.kind, r.wf.GetID(), res)
		}
		seen[run] = true
	}
	elapsed := time.Since(began)

	aa := sims.AA.Counters()
	dups := func(counts map[string]int) (n int) {
		for _, c := range counts {
			n += c - 1
		}
		return n
	}
	executions := aa.Get("execute") - aa.Get("execute.rejected")
	platform := map[string][2]int{ // starts on the platform, duplicates among them
		contract.StartJobWorkflow:      {sims.Orchestrator.Jobs(), dups(sims.Orchestrator.JobReferences())},
		contract.AddQueueItemWorkflow:  {sum(sims.Orchestrator.ItemReferences()), dups(sims.Orchestrator.ItemReferences())},
		contract.DeployBotWorkflow:     {sum(sims.AA.AutomationNames()), dups(sims.AA.AutomationNames())},
		contract.AddWorkItemWorkflow:   {int(aa.Get("wlm.add")), int(aa.Get("wlm.add")) - runs},
		contract.DeployAPITaskWorkflow: {int(executions), int(executions) - runs},
	}
	t.Logf("lost completion, one per workflow (%d lost), %s for all:", fault.lost.Load(), elapsed.Round(time.Second))
	t.Logf("  %-13s %5s %15s %10s %8s %9s", "kind", "runs", "platform starts", "duplicates", "adopted", "ambiguous")
	for i, kind := range faultKinds {
		tl, pl := got[kind], platform[kind]
		t.Logf("  %-13s %5d %15d %10d %8d %9d", kind, tl.runs, pl[0], pl[1], tl.adopted, tl.ambiguous)
		if pl[0] != runs || pl[1] != 0 {
			t.Errorf("%s: %d starts on the platform (%d duplicates), want %d and 0", kind, pl[0], pl[1], runs)
		}
		wantAdopted, wantAmbiguous := runs, 0
		if kind == contract.AddWorkItemWorkflow || kind == contract.DeployAPITaskWorkflow {
			wantAdopted, wantAmbiguous = 0, runs
		}
		if tl.adopted != wantAdopted || tl.ambiguous != wantAmbiguous || adopted[i].Load() != int64(wantAdopted) {
			t.Errorf("%s: adopted %d (metric %d), ambiguous %d; want %d adopted and %d ambiguous", kind, tl.adopted, adopted[i].Load(), tl.ambiguous, wantAdopted, wantAmbiguous)
		}
	}
	if fault.lost.Load() != 5*runs || logLines.Load() != 3*runs {
		t.Errorf("lost %d completions and logged %d adoptions; want %d and %d", fault.lost.Load(), logLines.Load(), 5*runs, 3*runs)
	}
}

func sum(counts map[string]int) (n int) {
	for _, c := range counts {
		n += c
	}
	return n
}
