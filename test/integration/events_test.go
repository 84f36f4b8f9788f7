package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/simkit"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
	"github.com/rpaflow/rpaflow/session"
)

const (
	itWebhookSecret = "it-webhook-secret-0123456789abcdef"
	itCallbackKey   = "it-callback-key-0123456789abcdef"
	itReconcile     = 10 * time.Second
)

// eventsStack is a worker with events on for orch and cr, its receiver on
// a loopback listener the simulators post to. Orchestrator has no webhook
// until `starter webhook ensure` creates it.
func eventsStack(t *testing.T) *stack {
	t.Helper()
	return eventsStackReconciling(t, itReconcile, nil)
}

// eventsStackReconciling is eventsStack with another reconcile interval
// and extra worker settings.
func eventsStackReconciling(t *testing.T, reconcile time.Duration, extra map[string]string) *stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	oo := orchsim.DefaultOptions()
	oo.Folders[0].Releases = append(oo.Folders[0].Releases, orchsim.Release{Name: "FiveSeconds", Pending: time.Second, Running: 4 * time.Second})
	ao := aasim.DefaultOptions()
	settings := map[string]string{
		"RPAFLOW_ORCH_SCOPES":             "OR.Folders.Read OR.Execution.Read OR.Jobs OR.Queues OR.Webhooks",
		"RPAFLOW_ORCH_WEBHOOK_SECRET":     itWebhookSecret,
		"RPAFLOW_ORCH_RECONCILE_INTERVAL": reconcile.String(),
		"RPAFLOW_CR_WEBHOOK_SECRET":       itCallbackKey,
		"RPAFLOW_CR_CALLBACK_URL":         base,
		"RPAFLOW_CR_RECONCILE_INTERVAL":   reconcile.String(),
	}
	maps.Copy(settings, extra)
	return newStack(t, stackOptions{EventsListener: ln, Sims: simenv.Options{Orchestrator: &oo, AA: &ao}, Extra: settings})
}

func metric(t *testing.T, s *stack, prefix string) string {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func runJob(t *testing.T, s *stack, id string) (contract.StartJobResult, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue}, contract.StartJobWorkflow,
		contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "FiveSeconds"})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.StartJobResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	return res, time.Since(start)
}

// StartJob, AddQueueItem and DeployBot learn their run's end from signed
// webhooks and a deploy callback through the worker's real receiver, with
// one status read each; with every delivery dropped, the reconciliation
// finds the end.
func TestEvents_EndRunsThroughTheReceiver(t *testing.T) {
	s := eventsStack(t)
	orch := s.Sims.Orchestrator
	ensureWebhook(t, s)
	res, took := runJob(t, s, "it-events-job")
	if res.State != "Successful" || took > 8*time.Second {
		t.Fatalf("job %+v took %s; want Successful soon after its 5 s run", res, took)
	}
	if got := orch.Counters().Get("job.get"); got < 1 || got > 3 {
		t.Errorf("job reads = %d for one job ended by its webhook; want 1 (up to 3 if the read side lagged)", got)
	}
	if d := orch.Deliveries().Counters(); d.Get("delivered") != 2 {
		t.Errorf("webhook deliveries %v; want the ping's and the job's", d.Snapshot())
	}

	// A queue item retried once: the first transaction's webhook leads the
	// wait to the retry, whose own webhook ends it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	qrun, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-events-item", TaskQueue: s.TaskQueue}, contract.AddQueueItemWorkflow,
		contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: "it-events-1",
			SpecificContent: map[string]any{"outcome": "retry", "order": "it-events-1"}, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	var item contract.AddQueueItemResult
	if err := qrun.Get(ctx, &item); err != nil || item.Status != "Successful" || item.FinalID == 0 || item.Output["order"] != "it-events-1" {
		t.Fatalf("queue item %+v %v", item, err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("queue item took %s; want soon after its two 2 s transactions", took)
	}
	// The first read after the event: the item and its last retry; then the retry.
	if got := orch.Counters().Get("queueItem"); got < 3 || got > 6 {
		t.Errorf("queue item reads = %d for an item and its retry ended by webhooks; want 3 (up to 6 if the read side lagged)", got)
	}
	if m := metric(t, s, "rpaflow_run_reads_total"); !regexp.MustCompile(`reason="event",subject="queueitem"[^}]*\} 2\b`).MatchString(m) {
		t.Errorf("want the item's two reads made on events:\n%s", m)
	}
	if d := orch.Deliveries().Counters(); d.Get("delivered") != 4 {
		t.Errorf("webhook deliveries %v; want the ping's, the job's and the two transactions'", d.Snapshot())
	}

	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-events-bot", TaskQueue: s.TaskQueue}, contract.DeployBotWorkflow,
		contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID}})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	var bot contract.DeployBotResult
	if err := run.Get(ctx, &bot); err != nil || bot.Status != "COMPLETED" {
		t.Fatalf("bot %+v %v", bot, err)
	}
	if took := time.Since(start); took > 7*time.Second {
		t.Errorf("bot took %s; want soon after its 3 s run", took)
	}
	if got := s.Sims.AA.Counters().Get("activity.list"); got < 1 || got > 3 {
		t.Errorf("activity reads = %d for one deployment ended by its callback; want 1 (up to 3)", got)
	}
	if d := s.Sims.AA.Deliveries().Counters(); d.Get("delivered") != 1 {
		t.Errorf("callback deliveries %v", d.Snapshot())
	}
	m := metric(t, s, "rpaflow_events_total")
	for _, want := range []string{`outcome="delivered",platform="uipath",profile="orch"`, `outcome="delivered",platform="aa",profile="cr"`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}

	// Every delivery lost: the wait finds the end at its reconciliation,
	// 5 % to 20 % before the interval.
	orch.Deliveries().SetFaults(simkit.DeliveryFaults{Drop: 1}, 1)
	before := orch.Counters().Get("job.get")
	res, took = runJob(t, s, "it-events-job-lost")
	if res.State != "Successful" || took < itReconcile*4/5 || took > itReconcile+8*time.Second {
		t.Fatalf("job %+v took %s; want it found at the reconciliation, 8 s to 9.5 s after the wait began", res, took)
	}
	if got := orch.Counters().Get("job.get") - before; got != 1 {
		t.Errorf("job reads = %d with the webhook lost; want the one reconciliation read", got)
	}
}

// Events that reach the receiver together go to Temporal in one call, to
// the profile's RunEventsIntake workflow, which hands each to its run's
// wait: the jobs end on those events, long before their reconciliation.
func TestEvents_BatchThroughTheIntake(t *testing.T) {
	s := eventsStackReconciling(t, 10*time.Minute, nil) // no webhook: only the batch tells the waits
	orch := s.Sims.Orchestrator
	const n = 5
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var runs []client.WorkflowRun
	for i := range n {
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("it-events-batch-%d", i), TaskQueue: s.TaskQueue},
			contract.StartJobWorkflow, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "FiveSeconds"})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	// The jobs (ids 1 to n on a fresh simulator) end; their waits have
	// registered by then.
	deadline := time.Now().Add(time.Minute)
	for id := int64(1); id <= n; id++ {
		for orch.JobState(id) != "Successful" {
			if time.Now().After(deadline) {
				t.Fatalf("job %d is %q", id, orch.JobState(id))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var batch []contract.RoutedRunEvent
	for id := 1; id <= n; id++ {
		batch = append(batch, contract.RoutedRunEvent{Subject: contract.SubjectJob, ID: strconv.Itoa(id), Event: contract.RunEvent{
			EventID: fmt.Sprintf("uipath:it-batch-%d", id), Type: "job.completed", State: "Successful", RunID: strconv.Itoa(id),
			Terminal: true, Received: time.Now()}})
	}
	if err := activities.SignalRunEventsIntake(ctx, s.Client, session.Names{}, s.TaskQueue, "orch", batch); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	for _, run := range runs {
		var res contract.StartJobResult
		if err := run.Get(ctx, &res); err != nil || res.State != "Successful" {
			t.Fatalf("%s: %+v %v", run.GetID(), res, err)
		}
	}
	if took := time.Since(sent); took > 30*time.Second {
		t.Errorf("the waits took %s after the batch", took)
	}
	if m := metric(t, s, "rpaflow_run_reads_total"); !regexp.MustCompile(`reason="event",subject="job"[^}]*\} 5\b`).MatchString(m) {
		t.Errorf("want the five jobs read on their events:\n%s", m)
	}
}

// ensureWebhook creates the Orchestrator webhook with the starter's command
// (a worker does it, with the profile's secret), pings it through the real
// receiver, and finds it unchanged the second time.
func ensureWebhook(t *testing.T, s *stack) {
	t.Helper()
	var url string
	for _, p := range s.Config.Profiles {
		if p.CallbackURL != "" {
			url = p.CallbackURL + "/events/uipath/orch"
		}
	}
	for i, want := range []string{contract.WebhookCreated, contract.WebhookUnchanged} {
		args := []string{"webhook", "ensure", "--profile", "orch", "--url", url, "--json"}
		if i == 0 {
			args = append(args, "--ping")
		}
		code, stdout, stderr := s.starter(t, args...)
		var out struct{ Result contract.EnsureWebhookResult }
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil || out.Result.Outcome != want || out.Result.URL != url ||
			out.Result.Pinged != (i == 0) || len(out.Result.Events) != 6 {
			t.Fatalf("webhook ensure #%d: exit %d\n%s%s", i+1, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, itWebhookSecret) {
			t.Fatal("the starter's output holds the webhook secret")
		}
		if i == 0 {
			// The ping arrives signed with the secret the worker gave Orchestrator.
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(metric(t, s, "rpaflow_events_total"), `outcome="verified",platform="uipath",profile="orch"`) {
				if time.Now().After(deadline) {
					t.Fatalf("the ping was not verified by the receiver:\n%s", metric(t, s, "rpaflow_events_total"))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	if hooks := s.Sims.Orchestrator.Webhooks(); len(hooks) != 1 || hooks[0].Secret != itWebhookSecret || hooks[0].URL != url {
		t.Fatalf("webhooks in Orchestrator: %+v", hooks)
	}
}

// The receiver refuses what is not signed by the profile's secret and
// answers without any secret; nothing reaches Temporal.
func TestEvents_ReceiverRefusesForgeries(t *testing.T) {
	s := eventsStack(t)
	url := s.Config.Profiles[0].CallbackURL
	for _, p := range s.Config.Profiles {
		if p.CallbackURL != "" {
			url = p.CallbackURL
		}
	}
	body := `{"Type":"job.completed","EventId":"1","Timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `","Job":{"Id":1,"State":"Successful"}}`
	for name, h := range map[string]string{"unsigned": "", "forged": "c2lnbmF0dXJl"} {
		req, _ := http.NewRequest(http.MethodPost, url+"/events/uipath/orch", strings.NewReader(body))
		if h != "" {
			req.Header.Set("X-UiPath-Signature", h)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), itWebhookSecret) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	if m := metric(t, s, "rpaflow_events_total"); !strings.Contains(m, `reason="bad_signature"`) || !strings.Contains(m, `reason="unsigned"`) {
		t.Errorf("refusals not counted:\n%s", m)
	}
	if strings.Contains(s.Logs.String(), itWebhookSecret) || strings.Contains(s.Logs.String(), itCallbackKey) {
		t.Error("the worker log holds an events secret")
	}
}
