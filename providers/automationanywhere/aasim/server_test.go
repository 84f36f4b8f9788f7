package aasim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type harness struct {
	t   *testing.T
	s   *Server
	srv *httptest.Server
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	o := DefaultOptions()
	if mod != nil {
		mod(&o)
	}
	h := &harness{t: t, s: New(o)}
	h.srv = httptest.NewServer(h.s)
	t.Cleanup(h.srv.Close)
	return h
}

// do sends a request and returns status and decoded body (nil when empty).
func (h *harness) do(method, path, token string, body any) (int, map[string]any, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = h.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, rd)
	if token != "" {
		req.Header.Set("X-Authorization", token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			h.t.Fatalf("%s %s: body %q is not JSON", method, path, raw)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func (h *harness) login() string {
	h.t.Helper()
	st, m, _ := h.do("POST", "/v2/authentication", "", map[string]string{"username": DemoUsername, "apiKey": DemoAPIKey})
	if st != 200 {
		h.t.Fatalf("login %d %v", st, m)
	}
	return m["token"].(string)
}

func TestDefaults(t *testing.T) {
	if len(DemoAPIKey) != 40 {
		t.Fatalf("DemoAPIKey has %d characters", len(DemoAPIKey))
	}
	o := DefaultOptions()
	if o.Users[0].ID != 3 || o.Users[0].MultipleLogin || o.APITasks[0].FileID != 2689 || o.Bots[0].ID != 87 {
		t.Fatalf("defaults %+v", o)
	}
	if ZipCodeTaskPath != "Automation Anywhere\\Bots\\Zip Code API Task" {
		t.Fatal(ZipCodeTaskPath)
	}
}

func TestMissingHeaderIsUM1117(t *testing.T) {
	h := newHarness(t, nil)
	for _, p := range []string{"/v1/authentication/logout", "/v4/automations/deploy", "/v3/activity/list", "/orchestrator/v1/hotbot/config/accessdetails"} {
		st, m, _ := h.do("POST", p, "", map[string]any{})
		want := map[string]any{"code": "UM1117", "details": nil, "message": "Access token expected in the 'X-Authorization' header"}
		if st != 401 || !equalJSON(m, want) {
			t.Errorf("%s: %d %v", p, st, m)
		}
	}
	if n := h.s.Counters().Get("http.401"); n != 4 {
		t.Fatalf("http.401 = %d", n)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestValidateSemantics(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.login()
	if st, m, _ := h.do("GET", "/v1/authentication/token?token=garbage", tok, nil); st != 200 || m["valid"] != false {
		t.Fatalf("garbage query token: %d %v", st, m)
	}
	if st, m, _ := h.do("GET", "/v1/authentication/token", tok, nil); st != 200 || m["valid"] != true {
		t.Fatalf("header only: %d %v", st, m)
	}
	if st, _, _ := h.do("GET", "/v1/authentication/token?token="+tok, "garbage", nil); st != 401 {
		t.Fatalf("invalid header token: %d", st)
	}
}

func TestLogoutWithoutBodyRevokesHeaderToken(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.login()
	if st, m, _ := h.do("POST", "/v1/authentication/logout", tok, nil); st != 204 || m != nil {
		t.Fatalf("logout %d %v", st, m)
	}
	if st, _, _ := h.do("POST", "/v3/activity/list", tok, map[string]any{}); st != 401 {
		t.Fatalf("after logout %d", st)
	}
}

func TestLoginErrors(t *testing.T) {
	h := newHarness(t, nil)
	st, m, _ := h.do("POST", "/v1/authentication", "", map[string]string{"username": DemoUsername, "password": "x"})
	if st != 401 || m["code"] != "auth.credentials.invalid" {
		t.Fatalf("password for an API-key-only user: %d %v", st, m)
	}
	st, m, _ = h.do("POST", "/v2/authentication", "", map[string]string{"username": DemoUsername, "apiKey": DemoAPIKey, "password": "x"})
	if st != 400 || m["code"] != "generic.server.exception" {
		t.Fatalf("both credentials: %d %v", st, m)
	}
	if st, m, _ := h.do("GET", "/v2/nothing", "", nil); st != 404 || m["code"] != "not.found" {
		t.Fatalf("unknown path %d %v", st, m)
	}
	if c := h.s.Counters(); c.Get("login") != 2 || c.Get("login.failed") != 2 {
		t.Fatalf("counters %v", c.Snapshot())
	}
}

func TestDisableV2Auth(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DisableV2Auth = true })
	if st, _, _ := h.do("POST", "/v2/authentication", "", map[string]string{"username": DemoUsername, "apiKey": DemoAPIKey}); st != 404 {
		t.Fatalf("v2 login %d", st)
	}
	if st, _, _ := h.do("POST", "/v1/authentication", "", map[string]string{"username": DemoUsername, "apiKey": DemoAPIKey}); st != 200 {
		t.Fatalf("v1 login %d", st)
	}
}

func TestAccessDetailsStringPathAndTaskTokenScope(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.APITasks = append(o.APITasks, APITask{FileID: 5, Path: "other", Inputs: []string{"a"}})
	})
	tok := h.login()
	st, m, _ := h.do("POST", "/orchestrator/v1/hotbot/config/accessdetails", tok, map[string]any{"botRepositoryPath": "other"})
	if st != 200 {
		t.Fatalf("%d %v", st, m)
	}
	d := m["accessDetails"].(map[string]any)["other"].(map[string]any)
	url := d["url"].(string)
	task := d["headers"].(map[string]any)["X-Authorization"].(string)
	if url != h.srv.URL+"/hotbot/5/execute" {
		t.Fatalf("url %s", url)
	}
	// The default Run echoes the inputs; NUMBER may come as a JSON number.
	st, m, _ = h.do("POST", url, task, map[string]any{"botInput": map[string]any{"a": map[string]any{"type": "NUMBER", "number": 4}}})
	if st != 200 || !equalJSON(m, map[string]any{"hotBotResult": map[string]any{"botOutput": map[string]any{"a": map[string]any{"type": "NUMBER", "number": "4"}}}}) {
		t.Fatalf("echo %d %v", st, m)
	}
	// A task token opens only its own API Task, and is not a Control Room token.
	if st, _, _ := h.do("POST", "/hotbot/2689/execute", task, map[string]any{}); st != 401 {
		t.Fatalf("other task with this token: %d", st)
	}
	if st, _, _ := h.do("POST", "/v3/activity/list", task, map[string]any{}); st != 401 {
		t.Fatalf("task token on the Control Room: %d", st)
	}
	if st, _, _ := h.do("POST", url, tok, map[string]any{}); st != 401 {
		t.Fatalf("Control Room token on execute: %d", st)
	}
	secrets := h.s.IssuedSecrets()
	for _, s := range []string{DemoAPIKey, tok, task} {
		if !slices.Contains(secrets, s) {
			t.Fatalf("IssuedSecrets lacks %.12s…", s)
		}
	}
}

func TestV3DeployAndV2ActivityListFilters(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	h := newHarness(t, func(o *Options) {
		o.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	tok := h.login()
	var ids []any
	for range 3 {
		st, m, _ := h.do("POST", "/v3/automations/deploy", tok, map[string]any{"fileId": 87, "runAsUserIds": []int{3}})
		if st != 200 || m["deploymentId"] == "" || !strings.HasPrefix(m["automationName"].(string), "Invoice Bot.2026.01.01.") {
			t.Fatalf("deploy %d %v", st, m)
		}
		ids = append(ids, m["deploymentId"])
	}
	if st, m, _ := h.do("POST", "/v3/automations/deploy", tok, map[string]any{"fileId": 87}); st != 400 {
		t.Fatalf("v3 without runAsUserIds %d %v", st, m)
	}
	mu.Lock()
	now = now.Add(1500 * time.Millisecond)
	mu.Unlock()
	filter := map[string]any{"operator": "or", "operands": []any{
		map[string]any{"operator": "eq", "field": "deploymentId", "value": ids[0]},
		map[string]any{"operator": "eq", "field": "deploymentId", "value": ids[2]},
	}}
	st, m, _ := h.do("POST", "/v2/activity/list", tok, map[string]any{"filter": filter, "page": map[string]int{"offset": 0, "length": 1}})
	if st != 200 {
		t.Fatalf("%d %v", st, m)
	}
	page := m["page"].(map[string]any)
	list := m["list"].([]any)
	if page["total"] != 3.0 || page["totalFilter"] != 2.0 || len(list) != 1 {
		t.Fatalf("page %v list %d", page, len(list))
	}
	item := list[0].(map[string]any)
	if item["deploymentId"] != ids[0] || item["status"] != "RUNNING" || item["botOutVariables"] != nil {
		t.Fatalf("item %v", item)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Users = append(o.Users, User{ID: 4, Username: "multi", APIKey: "k", MultipleLogin: true})
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			st, m, _ := h.do("POST", "/v2/authentication", "", map[string]string{"username": "multi", "apiKey": "k"})
			if st != 200 {
				t.Errorf("login %d", st)
				return
			}
			tok := m["token"].(string)
			if st, m, _ := h.do("GET", "/v1/authentication/token?token="+tok, tok, nil); st != 200 || m["valid"] != true {
				t.Errorf("validate %d %v", st, m)
			}
		})
	}
	wg.Wait()
	if n := h.s.Counters().Get("login"); n != 20 {
		t.Fatalf("login = %d", n)
	}
}

// The activity list sorts as asked, refuses filters on fields the Control
// Room cannot filter on (automationName among them), and the simulator
// keeps every automation name it was sent.
func TestActivityListSortsAndKeepsNames(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	h := newHarness(t, func(o *Options) {
		o.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	tok := h.login()
	for _, name := range []string{"first", "second", "second"} {
		st, m, _ := h.do("POST", "/v4/automations/deploy", tok, map[string]any{"botId": InvoiceBotID, "automationName": name,
			"unattendedRequest": map[string]any{"runAsUserIds": []int{DemoUserID}}})
		if st != 200 || m["automationName"] != name {
			t.Fatalf("deploy %d %v", st, m)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
	}
	st, m, _ := h.do("POST", "/v3/activity/list", tok, map[string]any{"sort": []any{map[string]any{"field": "startDateTime", "direction": "desc"}}})
	if list, _ := m["list"].([]any); st != 200 || len(list) != 3 || list[0].(map[string]any)["automationName"] != "second" || list[2].(map[string]any)["automationName"] != "first" {
		t.Fatalf("sorted list %d %v", st, m)
	}
	if st, m, _ := h.do("POST", "/v3/activity/list", tok, map[string]any{"filter": map[string]any{"operator": "eq", "field": "automationName", "value": "first"}}); st != 400 {
		t.Fatalf("filter on automationName %d %v, want 400", st, m)
	}
	if got := h.s.AutomationNames(); got["first"] != 1 || got["second"] != 2 {
		t.Fatalf("AutomationNames = %v", got)
	}
}

// TestAPITaskSessionsLimitAllTasks: the licence bounds executions of all
// tasks together; beyond it AA refuses at once (no queue), as here with 429.
func TestAPITaskSessionsLimitAllTasks(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.APITaskSessions = 2
		o.APITasks = []APITask{{FileID: 5, Path: "a", ConcurrencyLimit: 2, Latency: 300 * time.Millisecond},
			{FileID: 6, Path: "b", ConcurrencyLimit: 2, Latency: 300 * time.Millisecond}}
	})
	tok := h.login()
	st, m, _ := h.do("POST", "/orchestrator/v1/hotbot/config/accessdetails", tok, map[string]any{"botRepositoryPath": []string{"a", "b"}})
	if st != 200 {
		t.Fatalf("%d %v", st, m)
	}
	details := m["accessDetails"].(map[string]any)
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i, p := range []string{"a", "b", "b"} {
		d := details[p].(map[string]any)
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = h.do("POST", d["url"].(string), d["headers"].(map[string]any)["X-Authorization"].(string), map[string]any{})
		}()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if !slices.Equal(codes, []int{200, 200, 429}) || h.s.Counters().Get("execute.rejected") != 1 || h.s.PeakExecutions() != 2 {
		t.Fatalf("codes %v, rejected %d, peak %d: want the third refused with 429, peak 2",
			codes, h.s.Counters().Get("execute.rejected"), h.s.PeakExecutions())
	}
}

// TestOneAutomationPerRunner: a deployment to a busy runner waits (listed
// DEPLOYED) until the runner's earlier run ends; other runners are free.
func TestOneAutomationPerRunner(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	h := newHarness(t, func(o *Options) {
		o.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		o.ExclusiveRunners = true
	})
	tok := h.login()
	var ids []any
	for _, u := range []int{3, 3, 4} {
		_, m, _ := h.do("POST", "/v4/automations/deploy", tok, map[string]any{"botId": 87, "unattendedRequest": map[string]any{"runAsUserIds": []int{u}}})
		ids = append(ids, m["deploymentId"])
	}
	status := func() []any {
		_, m, _ := h.do("POST", "/v3/activity/list", tok, map[string]any{})
		byID := map[any]any{}
		for _, it := range m["list"].([]any) {
			byID[it.(map[string]any)["deploymentId"]] = it.(map[string]any)["status"]
		}
		return []any{byID[ids[0]], byID[ids[1]], byID[ids[2]]}
	}
	mu.Lock()
	now = now.Add(1500 * time.Millisecond) // the demo bot: deployed 1 s, runs 2 s
	mu.Unlock()
	if got := status(); !slices.Equal(got, []any{"RUNNING", "DEPLOYED", "RUNNING"}) {
		t.Fatalf("at 1.5 s %v, want the second (same runner) still waiting", got)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if got := status(); !slices.Equal(got, []any{"COMPLETED", "RUNNING", "COMPLETED"}) {
		t.Fatalf("at 3.5 s %v, want the second running after the first", got)
	}
	if q := h.s.Counters().Get("deploy.queued"); q != 1 {
		t.Fatalf("deploy.queued %d, want 1", q)
	}
}
