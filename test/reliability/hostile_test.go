package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	nexuspb "go.temporal.io/api/nexus/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/simkit"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub/hubsim"
	"github.com/rpaflow/rpaflow/test/integration/caller"
	"github.com/rpaflow/rpaflow/test/proc"
)

// hostileLog counts the attacks of the hostile-neighbour case; each must
// be refused.
type hostileLog struct {
	t         *testing.T
	mu        sync.Mutex
	attempts  map[string]int
	succeeded int
}

// refused records one refused attempt at attack, or fails the test with
// why it was not refused.
func (h *hostileLog) refused(attack, how string, ok bool, why string, args ...any) {
	h.t.Helper()
	h.mu.Lock()
	h.attempts[attack]++
	if !ok {
		h.succeeded++
	}
	h.mu.Unlock()
	if !ok {
		h.t.Errorf("hostile: %s: NOT refused: "+why, append([]any{attack}, args...)...)
		return
	}
	fmt.Printf("hostile: %s: refused (%s)\n", attack, how)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// testHostile is a neighbour on the same network and Temporal server
// trying what the trust boundaries forbid, against a running worker: Nexus
// calls for profiles its endpoint's queue does not allow, a request ID
// reused through another endpoint, a session's platform text across Nexus,
// platforms redirecting credentials to another host, secrets in platform
// error text reaching the logs, metric series minted from workflow input,
// and a codec endpoint in clear off loopback.
func testHostile(t *testing.T) {
	h := &hostileLog{t: t, attempts: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// A platform that answers a folder lookup with error text full of
	// credentials, in every notation the logs must clean.
	cases := map[string]string{}
	secrets := map[string]string{}
	for _, c := range []struct{ name, format string }{
		{"camelCase accessToken", `{"accessToken":"%s"}`},
		{"camelCase clientSecret", `{"clientSecret":"%s","x":1}`},
		{"camelCase refreshToken", `refreshToken=%s`},
		{"camelCase apiKey", `{"apiKey":"%s"}`},
		{"Go struct print", `{Profile:cr Token:%s Expiry:0}`},
		{"Go pointer struct print", `&{AccessToken:%s ExpiresIn:3600}`},
		{"X-API-Key header", `X-API-Key: %s`},
		{"Cookie header", `Cookie: sid=%s; other=1`},
		{"Set-Cookie header", `Set-Cookie: sid=%s; HttpOnly`},
		{"Hub app-key header", `x-ah-openapi-app-key: %s`},
		{"value after an escaped quote", `{"password":"ab\"%s"}`},
	} {
		folder := "case-" + randomHex(4)
		secret := "hv" + randomHex(12)
		cases[folder] = fmt.Sprintf(c.format, secret)
		secrets[folder] = secret
		cases[folder+"/name"] = c.name
	}
	var evilSims http.Handler
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for folder, text := range cases {
			if !strings.HasSuffix(folder, "/name") && strings.Contains(r.URL.RawQuery, folder) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]any{"message": "folder lookup refused: " + text, "errorCode": 1001})
				return
			}
		}
		evilSims.ServeHTTP(w, r)
	}))
	defer evil.Close()

	// Platforms that redirect every call, with its credentials, elsewhere.
	trap := simkit.NewRedirectTrap(http.StatusTemporaryRedirect)
	defer trap.Close()

	s := newStack(t, "hostile", stackOptions{})
	evilSims = s.Sims
	ordersQ, billingQ := "hq-orders-"+randomHex(3), "hq-billing-"+randomHex(3)
	profiles := []string{"cr", "orch", "hub", "badcr", "evil", "redir", "redirhub"}
	s.env["RPAFLOW_PROFILES"] = strings.Join(profiles, ",")
	copyProfile := func(from, to string, change map[string]string) {
		for k, v := range s.env {
			if rest, ok := strings.CutPrefix(k, config.EnvVar(from, "")); ok {
				s.env[config.EnvVar(to, rest)] = v
			}
		}
		for k, v := range change {
			s.env[config.EnvVar(to, k)] = v
		}
	}
	copyProfile("cr", "badcr", map[string]string{"API_KEY": "wrong-api-key-" + randomHex(6)})
	copyProfile("orch", "evil", map[string]string{"URL": evil.URL})
	copyProfile("orch", "redir", map[string]string{"URL": trap.URL})
	copyProfile("hub", "redirhub", map[string]string{"URL": trap.URL + simenv.HubPath})
	s.env["RPAFLOW_NEXUS_QUEUES"] = ordersQ + "=cr|orch|badcr;" + billingQ + "=orch"
	s.env["RPAFLOW_ORCH_POOLS"] = "Shared=1" // a pool both teams draw from
	s.startWorker()

	// Nexus: one endpoint per calling team, a caller with no rpaflow key.
	plain, err := client.Dial(client.Options{HostPort: s.HostPort, Namespace: s.Namespace, Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	endpoints := map[string]string{} // queue -> endpoint name
	endpointIDs := map[string]string{}
	for _, q := range []string{ordersQ, billingQ} {
		name := "ep-" + q
		resp, err := plain.OperatorService().CreateNexusEndpoint(ctx, &operatorservice.CreateNexusEndpointRequest{Spec: &nexuspb.EndpointSpec{
			Name: name, Target: &nexuspb.EndpointTarget{Variant: &nexuspb.EndpointTarget_Worker_{Worker: &nexuspb.EndpointTarget_Worker{Namespace: s.Namespace, TaskQueue: q}}}}})
		if err != nil {
			t.Fatalf("creating Nexus endpoint %s: %v", name, err)
		}
		endpoints[q], endpointIDs[q] = name, resp.GetEndpoint().GetId()
	}
	cw := worker.New(plain, "hostile-caller", worker.Options{})
	cw.RegisterWorkflow(caller.NexusStep)
	if err := cw.Start(); err != nil {
		t.Fatal(err)
	}
	defer cw.Stop()
	call := func(id, queue string, step caller.Step) caller.Outcome {
		t.Helper()
		step.Endpoint = endpoints[queue]
		run, err := plain.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "hostile-caller", WorkflowExecutionTimeout: 2 * time.Minute}, caller.NexusStep, step)
		if err != nil {
			t.Fatal(err)
		}
		var out caller.Outcome
		if err := run.Get(ctx, &out); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return out
	}

	// A legitimate call on each endpoint works.
	if ok := call("legit-orders", ordersQ, caller.Step{Session: &contract.SessionStatusInput{Profile: "cr"}}); ok.ErrorType != "" && ok.ErrorType != contract.ErrNotFound {
		t.Errorf("legitimate sessionStatus on %s: %+v", ordersQ, ok)
	}

	forbidden := func(attack, id, queue, profile string, step caller.Step) {
		out := call(id, queue, step)
		leaked := ""
		for _, p := range profiles {
			if p != profile && strings.Contains(out.Message, `"`+p+`"`) {
				leaked = p
			}
		}
		how := out.Message
		if i := strings.Index(how, "profile \""); i >= 0 {
			how = how[i:]
		}
		h.refused(attack, fmt.Sprintf("%s: %s", out.ErrorType, firstLine(how)),
			out.ErrorType == contract.ErrForbidden && out.Field == "profile" && strings.Contains(out.Message, `"`+profile+`"`) && strings.Contains(out.Message, `"`+queue+`"`) && leaked == "",
			"%+v (names another profile: %q)", out, leaked)
	}
	const nexusAttack = "Nexus call for a profile its endpoint's queue does not allow"
	forbidden(nexusAttack, "h-billing-apitask", billingQ, "cr", caller.Step{APITask: &contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: "x"}})
	forbidden(nexusAttack, "h-billing-workitem", billingQ, "cr", caller.Step{WorkItem: &contract.AddWorkItemInput{Profile: "cr", Queue: "Invoices"}})
	forbidden(nexusAttack, "h-billing-status", billingQ, "cr", caller.Step{Session: &contract.SessionStatusInput{Profile: "cr"}})
	forbidden(nexusAttack, "h-billing-evil-job", billingQ, "evil", caller.Step{Job: &contract.StartJobInput{Profile: "evil", Folder: "Shared", Process: "Invoices"}})
	forbidden(nexusAttack, "h-orders-hub-status", ordersQ, "hub", caller.Step{Session: &contract.SessionStatusInput{Profile: "hub"}})
	forbidden(nexusAttack, "h-orders-redir-item", ordersQ, "redir", caller.Step{QueueItem: &contract.AddQueueItemInput{Profile: "redir", Folder: "Shared", Queue: "Orders", Reference: "R1"}})
	forbidden(nexusAttack, "h-orders-unknown", ordersQ, "nope", caller.Step{Job: &contract.StartJobInput{Profile: "nope", Folder: "Shared", Process: "Invoices"}})

	// sessionStatus keeps the platform's text home: a session failing to
	// log in has a lastError in rpaflow's namespace, none across Nexus.
	s.startSession(ctx, contract.ControlRoomSessionWorkflow, contract.AASessionID("badcr"), "badcr")
	var home contract.SessionStatus
	waitUntil(t, ctx, "the badcr session to record its login failure", func() bool {
		home, _ = s.status(ctx, contract.AASessionID("badcr"))
		return home.LastError != ""
	})
	st := call("h-orders-badcr-status", ordersQ, caller.Step{Session: &contract.SessionStatusInput{Profile: "badcr"}})
	if st.Session == nil {
		st.Session = &contract.SessionStatus{LastError: "(no answer: " + st.Message + ")"}
	}
	h.refused("sessionStatus lastError across Nexus", "lastError dropped, lastErrorType "+string(st.Session.LastErrorType)+" kept",
		st.Session.LastError == "" && st.Session.LastErrorType == home.LastErrorType && st.Session.ConsecutiveFailures > 0,
		"caller saw %+v (home: %q)", st.Session, home.LastError)

	// A request ID reused through another endpoint starts a run of its
	// own; through the same endpoint it attaches (the retry guarantee).
	reqID := "reused-" + randomHex(6)
	item := contract.AddQueueItemInput{Profile: "orch", Folder: "Shared", Queue: "Orders", Reference: "PO-H-" + reqID}
	for _, q := range []string{ordersQ, ordersQ, billingQ} {
		if code, body := nexusHTTPStart(t, ctx, endpointIDs[q], contract.OpAddQueueItem, reqID, item); code >= 300 {
			t.Fatalf("direct Nexus start on %s: %d %s", q, code, body)
		}
	}
	ids := map[string]string{}
	for _, q := range []string{ordersQ, billingQ} {
		id := contract.NexusWorkflowID(q, contract.OpAddQueueItem, reqID)
		d, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatalf("the run of %s: %v", q, err)
		}
		ids[q] = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		if _, ok := d.GetWorkflowExecutionInfo().GetMemo().GetFields()[contract.NexusQueueMemo+q]; !ok {
			t.Errorf("%s has no %s%s memo", id, contract.NexusQueueMemo, q)
		}
	}
	_, oldErr := s.Client.DescribeWorkflowExecution(ctx, contract.NexusWorkflowIDPrefix+contract.OpAddQueueItem+":"+reqID, "")
	h.refused("reused request ID from another endpoint", "a run of its own per endpoint queue",
		ids[ordersQ] != "" && ids[billingQ] != "" && ids[ordersQ] != ids[billingQ] && oldErr != nil, "runs %v", ids)

	// A caller naming another team's fairness key queues under its own
	// endpoint's, and poolStatus across Nexus lists only the caller's keys.
	jobFor := func(process string) contract.StartJobInput {
		return contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: process, Admission: &contract.Admission{FairnessKey: billingQ}}
	}
	holdReq, waitReq := "fk-hold-"+randomHex(4), "fk-wait-"+randomHex(4)
	if code, body := nexusHTTPStart(t, ctx, endpointIDs[ordersQ], contract.OpStartJob, holdReq, jobFor("LongRunning")); code >= 300 {
		t.Fatalf("Nexus startJob on %s: %d %s", ordersQ, code, body)
	}
	var pool contract.PoolStatus
	waitUntil(t, ctx, "the first job to hold the pool's slot", func() bool {
		pool, err = poolStatus(ctx, s, "orch", "Shared")
		return err == nil && pool.Holders == 1
	})
	if code, body := nexusHTTPStart(t, ctx, endpointIDs[ordersQ], contract.OpStartJob, waitReq, jobFor("Invoices")); code >= 300 {
		t.Fatalf("Nexus startJob on %s: %d %s", ordersQ, code, body)
	}
	waitUntil(t, ctx, "the second job to queue", func() bool {
		pool, err = poolStatus(ctx, s, "orch", "Shared")
		return err == nil && pool.Waiting == 1
	})
	var homeKeys []string
	for _, q := range pool.Queues {
		homeKeys = append(homeKeys, q.Key)
	}
	h.refused("Nexus caller queueing under another team's fairness key", "queued under "+strings.Join(homeKeys, ","),
		len(homeKeys) == 1 && homeKeys[0] == ordersQ+"/"+billingQ, "queued under %v", homeKeys)
	billingView := call("h-billing-pool-status", billingQ, caller.Step{Pool: &contract.PoolStatusInput{Profile: "orch", Pool: "Shared"}})
	ordersView := call("h-orders-pool-status", ordersQ, caller.Step{Pool: &contract.PoolStatusInput{Profile: "orch", Pool: "Shared"}})
	h.refused("poolStatus across Nexus listing another team's keys", "totals only",
		billingView.Pool != nil && billingView.Pool.Waiting == 1 && len(billingView.Pool.Queues) == 0 &&
			ordersView.Pool != nil && len(ordersView.Pool.Queues) == 1 && ordersView.Pool.Queues[0].Key == ordersQ+"/"+billingQ,
		"billing saw %+v, orders saw %+v", billingView, ordersView)
	for _, req := range []string{waitReq, holdReq} {
		if err := s.Client.CancelWorkflow(ctx, contract.NexusWorkflowID(ordersQ, contract.OpStartJob, req), ""); err != nil {
			t.Errorf("cancelling %s: %v", req, err)
		}
	}

	// Redirects: the credentials stay home, the error names the host.
	thiefHost := trap.OtherHost
	job := s.start(ctx, "h-redirect-job", contract.StartJobWorkflow, contract.StartJobInput{Profile: "redir", Folder: "Shared", Process: "Invoices"})
	jerr := job.Get(ctx, nil)
	h.refused("Orchestrator redirect to another host with credentials", "error names "+thiefHost,
		jerr != nil && strings.Contains(jerr.Error(), thiefHost) && strings.Contains(jerr.Error(), "redirect") && trap.Reached() == 0,
		"%v (%d requests reached the other host)", jerr, trap.Reached())
	watchID := "h-redirect-hub"
	s.start(ctx, watchID, contract.AutomationHubTokenWatchWorkflow, contract.HubWatchInput{Profile: "redirhub"})
	var hs contract.HubWatchStatus
	waitUntil(t, ctx, "the hub watch's first check", func() bool {
		v, err := s.Client.QueryWorkflow(ctx, watchID, "", "status")
		return err == nil && v.Get(&hs) == nil && hs.Checks > 0
	})
	h.refused("Automation Hub redirect with token and app key", "check fails naming "+thiefHost,
		strings.Contains(hs.Message, thiefHost) && trap.Reached() == 0 && !strings.Contains(hs.Message, hubsim.DemoToken),
		"status %+v (%d requests reached the other host)", hs, trap.Reached())
	_ = s.Client.TerminateWorkflow(ctx, watchID, "", "hostile case done")

	// Credentials in platform error text: the worker logs the failures,
	// never the values.
	var runs []client.WorkflowRun
	for folder := range secrets {
		runs = append(runs, s.start(ctx, "h-redact-"+folder, contract.StartJobWorkflow, contract.StartJobInput{Profile: "evil", Folder: folder, Process: "Invoices"}))
	}
	for _, o := range waitAll(ctx, runs) {
		if o.err == nil {
			t.Errorf("%s succeeded against a platform that refuses it", o.id)
		}
	}
	time.Sleep(time.Second) // the last log lines
	logs := proc.Read(s.worker.Log)
	for folder, secret := range secrets {
		name := cases[folder+"/name"]
		h.refused("secret in logs: "+name, "redacted in the worker log",
			strings.Contains(logs, folder) && !strings.Contains(logs, secret), "the log %s", map[bool]string{true: "holds the value", false: "never mentions the case"}[strings.Contains(logs, secret)])
	}

	// Metric series minted from workflow input.
	for i := range 5 {
		_ = s.start(ctx, fmt.Sprintf("h-label-%d", i), contract.StartJobWorkflow, contract.StartJobInput{Profile: "minted-" + randomHex(4), Folder: "Shared", Process: "Invoices"}).Get(ctx, nil)
	}
	var metrics string
	waitUntil(t, ctx, "the unknown-profile series", func() bool {
		metrics = get(t, "http://"+s.worker.HTTPAddr+"/metrics")
		return strings.Contains(metrics, `profile="unknown"`)
	})
	h.refused("profile label cardinality", `one profile="unknown" series`, !strings.Contains(metrics, "minted-"), "/metrics holds the minted profile names")

	// The starter refuses to send payloads in clear to a codec off loopback.
	for _, endpoint := range []string{"http://codec.example.com:8082/codec", "http://10.1.2.3:8082/codec"} {
		cmd := exec.CommandContext(ctx, starterBin, "session", "status", "--profile", "cr")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "TEMPORAL_ADDRESS=" + s.HostPort, "TEMPORAL_NAMESPACE=" + s.Namespace, "RPAFLOW_CODEC_ENDPOINT=" + endpoint}
		out, err := cmd.CombinedOutput()
		h.refused("codec endpoint in clear off loopback", "starter exits: "+firstLine(strings.TrimSpace(lastLine(string(out)))),
			err != nil && strings.Contains(string(out), "RPAFLOW_CODEC_ENDPOINT") && strings.Contains(string(out), "https://"), "starter: %v\n%s", err, out)
	}

	total := 0
	for attack, n := range h.attempts {
		total += n
		t.Logf("hostile: %-60s %d attempts", attack, n)
	}
	t.Logf("hostile: %d attempts, %d succeeded", total, h.succeeded)
}

// nexusHTTPStart starts operation on an endpoint through the server's
// Nexus HTTP API with a request ID of the caller's choosing, as any client
// that reaches the server's HTTP port can.
func nexusHTTPStart(t *testing.T, ctx context.Context, endpointID, operation, requestID string, input any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(input)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+sharedHTTP+"/nexus/endpoints/"+endpointID+"/services/"+contract.NexusService+"/"+operation, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Nexus-Request-Id", requestID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

func waitUntil(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func lastLine(s string) string {
	if i := strings.LastIndex(strings.TrimSpace(s), "\n"); i >= 0 {
		return strings.TrimSpace(s)[i+1:]
	}
	return s
}
