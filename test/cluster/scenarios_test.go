package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
)

// TestCluster runs the scenarios in order on one cluster and one set of
// workers; each case restores the topology it disturbed.
func TestCluster(t *testing.T) {
	if tc == nil {
		t.Skip("no cluster (RPAFLOW_CLUSTER=1, `make test-cluster`)")
	}
	start := time.Now()
	w := newWorld(t)
	fmt.Printf("cluster: 3 rpaflow workers up in %s\n", time.Since(start).Round(time.Second))
	// Each case bounds itself with its own context.
	cases := []struct {
		name string
		f    func(*testing.T, *world)
	}{
		{"flows", testFlows},
		{"worker-kill", testWorkerKill},
		{"history-kill", testHistoryKill},
		{"postgres-restart", testPostgresRestart},
		{"rolling-restart", testRollingRestart},
		{"secrets", testSecrets},
	}
	for _, c := range cases {
		began := time.Now()
		t.Run(c.name, func(t *testing.T) { c.f(t, w) })
		fmt.Printf("cluster: %s: took %s\n", c.name, time.Since(began).Round(time.Second))
	}
}

// cliResult is `temporal workflow execute -o json`'s answer.
type cliResult struct {
	Result json.RawMessage `json:"result"`
}

// testFlows drives each workflow through the Temporal CLI with a worker's
// codec endpoint, as the README tells users to: an API Task, a bot, a job,
// a queue item and a schedule (whose run is found through visibility on
// PostgreSQL).
func testFlows(t *testing.T, w *world) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tried, lost := 0, 0
	execute := func(wfType, id, input string, out any) bool {
		tried++
		raw, err := w.cli(ctx, "workflow", "execute", "--type", wfType, "--task-queue", queue, "--workflow-id", id,
			"--input", input, "--codec-endpoint", w.codecEndpoint(), "-o", "json")
		var res cliResult
		if err == nil {
			err = json.Unmarshal([]byte(raw), &res)
		}
		if err == nil {
			err = json.Unmarshal(res.Result, out)
		}
		if err != nil {
			lost++
			t.Errorf("%s %s: %v", wfType, id, err)
			return false
		}
		return true
	}

	var task contract.DeployAPITaskResult
	if execute(contract.DeployAPITaskWorkflow, "flow-api-task",
		`{"profile":"cr","botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}`, &task) &&
		task.BotOutput["State"] != "California" {
		lost++
		t.Errorf("API Task output %v, want State California", task.BotOutput)
	}
	var bot contract.DeployBotResult
	if execute(contract.DeployBotWorkflow, "flow-bot",
		`{"profile":"cr","botId":87,"runAsUserIds":[3],"botInput":{"sInput1":"cluster"}}`, &bot) &&
		(bot.Status != "COMPLETED" || bot.BotOutput["sOutput"] != "done: cluster") {
		lost++
		t.Errorf("bot result %+v, want COMPLETED with sOutput \"done: cluster\"", bot)
	}
	var job contract.StartJobResult
	if execute(contract.StartJobWorkflow, "flow-job",
		`{"profile":"orch","folder":"Shared","process":"Invoices","inputArguments":{"count":3}}`, &job) &&
		(job.State != "Successful" || job.OutputArguments["count"] != float64(3)) {
		lost++
		t.Errorf("job result %+v, want Successful with count 3", job)
	}
	var item contract.AddQueueItemResult
	if execute(contract.AddQueueItemWorkflow, "flow-queue-item",
		`{"profile":"orch","folder":"Shared","queue":"Orders","reference":"CL-1","priority":"Normal","specificContent":{"amount":12.5}}`, &item) &&
		(item.ID == 0 || item.Duplicate) {
		lost++
		t.Errorf("queue item %+v, want a new item", item)
	}

	// A schedule, triggered once; its run is found by the scheduled-by
	// search attribute (visibility on PostgreSQL) and must complete.
	tried++
	if err := scheduleFlow(ctx, w); err != nil {
		lost++
		t.Errorf("schedule: %v", err)
	}
	fmt.Printf("cluster: flows: tried %d, lost %d\n", tried, lost)
}

func scheduleFlow(ctx context.Context, w *world) error {
	const id = "flow-schedule"
	if _, err := w.cli(ctx, "schedule", "create", "--schedule-id", id, "--interval", "1h", "--overlap-policy", "Skip",
		"--workflow-id", id, "--type", contract.DeployAPITaskWorkflow, "--task-queue", queue,
		"--input", `{"profile":"cr","botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"10001"}}`,
		"--codec-endpoint", w.codecEndpoint()); err != nil {
		return err
	}
	defer func() { _, _ = w.cli(context.Background(), "schedule", "delete", "--schedule-id", id) }()
	if _, err := w.cli(ctx, "schedule", "trigger", "--schedule-id", id); err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		raw, err := w.cli(ctx, "workflow", "list", "--query", fmt.Sprintf("TemporalScheduledById = '%s'", id), "-o", "json")
		if err != nil {
			return err
		}
		var runs []struct {
			Execution struct {
				WorkflowID string `json:"workflowId"`
			} `json:"execution"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(raw), &runs); err != nil {
			return fmt.Errorf("workflow list: %v\n%s", err, raw)
		}
		if len(runs) > 0 && strings.Contains(strings.ToLower(runs[0].Status), "completed") {
			var res contract.DeployAPITaskResult
			if err := w.Client.GetWorkflow(ctx, runs[0].Execution.WorkflowID, "").Get(ctx, &res); err != nil {
				return err
			}
			if res.BotOutput["State"] != "New York" {
				return fmt.Errorf("scheduled run %s: output %v, want State New York", runs[0].Execution.WorkflowID, res.BotOutput)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no completed run of the schedule listed after 90s: %s", raw)
		}
		time.Sleep(time.Second)
	}
}

// sessionPids maps each cluster session to the worker process that
// completed its latest workflow task.
func (w *world) sessionPids(ctx context.Context, t *testing.T) map[string]int {
	out := map[string]int{}
	for i := range aaUsers {
		id := contract.AASessionID(aaProfile(i))
		pid, err := w.sessionWorkerPid(ctx, id)
		if err != nil {
			t.Fatalf("session %s: %v", id, err)
		}
		out[id] = pid
	}
	return out
}

// touch sends each session a token update, which runs a workflow task on
// whichever worker now serves the session.
func (w *world) touch(ctx context.Context, ids []string) error {
	for _, id := range ids {
		h, err := w.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: contract.UpdateToken,
			Args: []any{contract.TokenRequest{MinValidity: contract.Duration(time.Second)}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			var res contract.TokenResult
			err = h.Get(ctx, &res)
		}
		if err != nil {
			return fmt.Errorf("token update of %s: %w", id, err)
		}
	}
	return nil
}

// testWorkerKill SIGKILLs the worker that runs the most sessions while 200
// deployments are in flight: the sessions move to the other workers
// without a new login, and every deployment ends well.
func testWorkerKill(t *testing.T, w *world) {
	// A bot's status poll on the killed worker is retried after its 2-minute heartbeat timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	l := w.startLoad(t, ctx, "worker-kill", 200, 10*time.Second, 40)
	defer l.wait()
	pids := w.sessionPids(ctx, t)
	count := map[int]int{}
	for _, p := range pids {
		count[p]++
	}
	victim, most := -1, 0
	for i := range workers {
		if n := count[w.worker(i).Pid()]; n > most {
			victim, most = i, n
		}
	}
	if victim < 0 {
		t.Fatalf("no session runs on a live worker: %v", pids)
	}
	killedPid := w.worker(victim).Pid()
	var moved []string
	for id, p := range pids {
		if p == killedPid {
			moved = append(moved, id)
		}
	}
	if err := w.worker(victim).Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	l.killedAt = killedAt
	if err := w.touch(ctx, moved); err != nil {
		t.Errorf("sessions of the killed worker: %v", err)
	}
	movedIn := time.Since(killedAt)
	after := w.sessionPids(ctx, t)
	for _, id := range moved {
		if after[id] == killedPid {
			t.Errorf("session %s still shows the killed worker", id)
		}
	}
	l.finish(t, ctx, fmt.Sprintf("SIGKILL of rpaflow-worker-%d (%d of %d sessions), they answered on other workers %s later",
		victim+1, most, aaUsers, movedIn.Round(100*time.Millisecond)))
	w.startWorker(victim)
}

// testHistoryKill SIGKILLs one history host under load and starts new
// deployments with the Temporal CLI and the codec endpoint meanwhile.
func testHistoryKill(t *testing.T, w *world) {
	// As in worker-kill, a bot poll cut by the failover may wait out its heartbeat timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const victim = "history-2"
	l := w.startLoad(t, ctx, "history-kill", 200, 10*time.Second, 40)
	defer l.wait()
	if err := tc.KillService(victim); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	defer func() {
		// Back to two hosts before the next case.
		if err := tc.StartService(victim); err != nil {
			t.Errorf("restarting %s: %v", victim, err)
		} else if err := tc.WaitListening(context.Background(), victim, time.Minute); err != nil {
			t.Error(err)
		}
	}()
	const viaCLI = 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	for i := range viaCLI {
		id := fmt.Sprintf("history-kill-cli-%d", i)
		input, _ := json.Marshal(apiTaskInput(aaProfile(i%aaUsers), id, false))
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			_, err := w.cli(ctx, "workflow", "start", "--type", contract.DeployAPITaskWorkflow, "--task-queue", queue,
				"--workflow-id", id, "--input", string(input), "--codec-endpoint", w.codecEndpoint())
			if err != nil {
				t.Errorf("starting %s with the Temporal CLI during the failover: %v", id, err)
				return
			}
			mu.Lock()
			slowest = max(slowest, time.Since(began))
			mu.Unlock()
			l.add(&deployment{id: id, key: id, cli: true, run: w.Client.GetWorkflow(ctx, id, "")})
		}()
	}
	wg.Wait()
	l.finish(t, ctx, fmt.Sprintf("SIGKILL of %s %s after the load began; %d CLI starts during the failover took up to %s",
		victim, killedAt.Sub(l.startedAt).Round(100*time.Millisecond), viaCLI, slowest.Round(100*time.Millisecond)))
}

// testPostgresRestart stops PostgreSQL (fast: connections cut) under load,
// keeps it down 3 s, and starts it again.
func testPostgresRestart(t *testing.T, w *world) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := w.startLoad(t, ctx, "postgres-restart", 200, 10*time.Second, 40)
	defer l.wait()
	began := time.Now()
	if err := tc.RestartPostgres(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	l.finish(t, ctx, fmt.Sprintf("PostgreSQL stopped and back in %s", time.Since(began).Round(100*time.Millisecond)))
}

// testRollingRestart replaces the three workers one after another (SIGTERM,
// then a new process), as an upgrade would, under load.
func testRollingRestart(t *testing.T, w *world) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	l := w.startLoad(t, ctx, "rolling-restart", 200, 20*time.Second, 20)
	defer l.wait()
	began := time.Now()
	for i := range workers {
		if err := w.worker(i).Stop(45 * time.Second); err != nil {
			t.Error(err)
		}
		w.startWorker(i)
	}
	l.finish(t, ctx, fmt.Sprintf("3 workers replaced one by one in %s", time.Since(began).Round(100*time.Millisecond)))
}
