package orchestrator_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

var ctx = context.Background()

func TestFolderResolveCachesAndHintsOnMiss(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, err := c.Folder(ctx, tok, "Finance/Invoices")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != 2 || f.FullyQualifiedName != "Finance/Invoices" || f.DisplayName != "Invoices" || f.Key == "" {
		t.Fatalf("folder = %+v", f)
	}
	again, err := c.Folder(ctx, tok, "Finance/Invoices")
	if err != nil || again != f {
		t.Fatalf("second resolve = %+v, %v", again, err)
	}
	if got := e.sim.Counters().Get("folders"); got != 1 {
		t.Fatalf("folders calls = %d, want 1 (second resolve must come from the cache)", got)
	}

	_, err = c.Folder(ctx, tok, "Nope")
	ae := asAPIError(t, err)
	if ae.Status != 404 || ae.Code != "1100" || ae.Op != "folders" ||
		ae.Message != "folder 'Nope' not found; known folders: Finance/Invoices, Shared" {
		t.Fatalf("got %+v", ae)
	}
	if got := e.sim.Counters().Get("folders"); got != 3 {
		t.Fatalf("folders calls = %d, want 3 (lookup + listing)", got)
	}
}

func TestFolderHintListsAtMost20(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) {
		o.Folders = nil
		for i := range 30 {
			o.Folders = append(o.Folders, orchsim.Folder{ID: int64(i + 1), Path: "F" + string(rune('A'+i%26)) + string(rune('a'+i/26))})
		}
	})
	c, tok := e.login(t, nil)
	_, err := c.Folder(ctx, tok, "Missing")
	msg := asAPIError(t, err).Message
	names := strings.Split(strings.TrimPrefix(msg, "folder 'Missing' not found; known folders: "), ", ")
	if len(names) != 20 {
		t.Fatalf("hint lists %d folders, want 20: %s", len(names), msg)
	}
}

func TestFolderPathHeader(t *testing.T) {
	if n, v := orchestrator.FolderPathHeader("Finance/Invoices"); n != "X-UIPATH-FolderPath" || v != "Finance/Invoices" {
		t.Fatalf("ASCII path: %s: %s", n, v)
	}
	// "é" is U+00E9: UTF-16LE e9 00, Base64 "6QA=".
	if n, v := orchestrator.FolderPathHeader("é"); n != "X-UIPATH-FolderPath-Encoded" || v != "6QA=" {
		t.Fatalf("non-ASCII path: %s: %s", n, v)
	}
	// A character outside the BMP becomes a surrogate pair.
	if _, v := orchestrator.FolderPathHeader("😀"); v != "PdgA3g==" {
		t.Fatalf("surrogate pair: %s", v)
	}
}

func TestNonASCIIFolderPathReachesSimulator(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) {
		o.Folders = append(o.Folders, orchsim.Folder{ID: 7, Path: "Finanças/Faturas", Releases: []orchsim.Release{{Name: "Relatório"}}})
	})
	c, tok := e.login(t, nil)
	// A folder known only by path travels in the encoded header.
	r, err := c.Release(ctx, tok, orchestrator.Folder{FullyQualifiedName: "Finanças/Faturas"}, "Relatório")
	if err != nil || r.Name != "Relatório" || r.Key == "" {
		t.Fatalf("release = %+v, %v", r, err)
	}
	// The plain ASCII path header works too.
	if _, err := c.Release(ctx, tok, orchestrator.Folder{FullyQualifiedName: "Shared"}, "Invoices"); err != nil {
		t.Fatal(err)
	}
	// Resolving by $filter works with the same path.
	if f, err := c.Folder(ctx, tok, "Finanças/Faturas"); err != nil || f.ID != 7 {
		t.Fatalf("folder = %+v, %v", f, err)
	}
}

func TestReleaseNotFoundHint(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, err := c.Folder(ctx, tok, "Shared")
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Release(ctx, tok, f, "invoices") // names match without case, as OData on SQL does
	if err != nil || r.Name != "Invoices" || r.ProcessKey != "Invoices" || r.ID == 0 {
		t.Fatalf("release = %+v, %v", r, err)
	}
	_, err = c.Release(ctx, tok, f, "Payroll")
	ae := asAPIError(t, err)
	if ae.Status != 404 || ae.Code != "1002" || ae.Message != "process 'Payroll' not found in folder 'Shared'; known processes: Broken, Invoices, LongRunning, Stubborn" {
		t.Fatalf("got %+v", ae)
	}
	// A folder without processes says so.
	f2, _ := c.Folder(ctx, tok, "Finance/Invoices")
	_, err = c.Release(ctx, tok, f2, "Invoices")
	if msg := asAPIError(t, err).Message; msg != "process 'Invoices' not found in folder 'Finance/Invoices'; known processes: none" {
		t.Fatalf("message = %q", msg)
	}
}

func TestFolderHeaderErrors(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	auth := "Bearer " + tok

	r := e.raw(t, "GET", "/rpaflow/DefaultTenant/orchestrator_/odata/Releases", map[string]string{"Authorization": auth}, "")
	if r.status != 400 || !strings.HasPrefix(r.body, `{"message":"A folder is required for this action.","errorCode":1101,`) {
		t.Fatalf("missing folder: %d %s", r.status, r.body)
	}
	code, msg, _ := orchestrator.ParseError([]byte(r.body))
	if code != "1101" || msg != "A folder is required for this action." {
		t.Fatalf("parsed %q %q", code, msg)
	}

	_, err := c.Release(ctx, tok, orchestrator.Folder{ID: 99}, "Invoices")
	ae := asAPIError(t, err)
	if ae.Status != 400 || ae.Code != "1100" {
		t.Fatalf("unknown folder id: %+v", ae)
	}
	_, err = c.Job(ctx, tok, orchestrator.Folder{Key: "00000000-0000-4000-8000-000000000000"}, 1)
	if ae := asAPIError(t, err); ae.Code != "1100" {
		t.Fatalf("unknown folder key: %+v", ae)
	}
	// The client refuses a folder it cannot name, before sending.
	_, err = c.Release(ctx, tok, orchestrator.Folder{}, "Invoices")
	if asInvalid(t, err).Field != "folder" {
		t.Fatal(err)
	}
}

func TestStartJobLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, _ := c.Folder(ctx, tok, "Shared")
	r, err := c.Release(ctx, tok, f, "Invoices")
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: r.Key,
		InputArguments: map[string]any{"count": 3, "vendor": "ACME"}, Priority: "high", Reference: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == 0 || j.Key == "" || j.State != "Pending" || j.ReleaseName != "Invoices" || j.InputArguments["vendor"] != "ACME" {
		t.Fatalf("started job = %+v", j)
	}
	if e.sim.Jobs() != 1 || e.sim.Counters().Get("startJobs") != 1 {
		t.Fatalf("jobs = %d, startJobs = %d", e.sim.Jobs(), e.sim.Counters().Get("startJobs"))
	}
	poll := func() orchestrator.Job {
		t.Helper()
		got, err := c.Job(ctx, tok, f, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := poll(); got.State != "Pending" || !got.Start.IsZero() || orchestrator.IsTerminalJobState(got.State) {
		t.Fatalf("at start: %+v", got)
	}
	e.clock.Advance(600 * time.Millisecond)
	running := poll()
	if running.State != "Running" || running.Start.IsZero() || !running.End.IsZero() || running.OutputArguments != nil {
		t.Fatalf("running: %+v", running)
	}
	e.clock.Advance(2 * time.Second)
	done := poll()
	if done.State != "Successful" || !orchestrator.IsTerminalJobState(done.State) || done.End.Sub(done.Start) != 2*time.Second {
		t.Fatalf("done: %+v", done)
	}
	if done.OutputArguments["status"] != "processed" || done.OutputArguments["count"] != float64(3) {
		t.Fatalf("output = %v", done.OutputArguments)
	}
	if e.sim.Counters().Get("job.get") != 3 {
		t.Fatalf("job.get = %d", e.sim.Counters().Get("job.get"))
	}
}

func TestFaultedJobInfo(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, _ := c.Folder(ctx, tok, "Shared")
	r, _ := c.Release(ctx, tok, f, "Broken")
	j, err := c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: r.Key})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	got, err := c.Job(ctx, tok, f, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "Faulted" || got.Info != "Invoice file missing" || got.OutputArguments != nil || got.InputArguments != nil {
		t.Fatalf("faulted job = %+v", got)
	}
}

func TestJobNotFound(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	shared, _ := c.Folder(ctx, tok, "Shared")
	_, err := c.Job(ctx, tok, shared, 999)
	if ae := asAPIError(t, err); ae.Status != 404 || ae.Code != "1002" || ae.Op != "job" {
		t.Fatalf("got %+v", ae)
	}
	// A job is only visible in its own folder.
	r, _ := c.Release(ctx, tok, shared, "Invoices")
	j, _ := c.StartJob(ctx, tok, shared, orchestrator.StartJobRequest{ReleaseKey: r.Key})
	other, _ := c.Folder(ctx, tok, "Finance/Invoices")
	if _, err := c.Job(ctx, tok, other, j.ID); asAPIError(t, err).Code != "1002" {
		t.Fatal(err)
	}
	// StartJobs with a key from another folder: process not found.
	_, err = c.StartJob(ctx, tok, other, orchestrator.StartJobRequest{ReleaseKey: r.Key})
	if ae := asAPIError(t, err); ae.Status != 404 || ae.Code != "1002" {
		t.Fatalf("got %+v", ae)
	}
}

func TestInputArgumentsLimit(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f := orchestrator.Folder{ID: 1}
	_, err := c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: "k",
		InputArguments: map[string]any{"blob": strings.Repeat("x", 10000)}})
	if asInvalid(t, err).Field != "inputArguments" {
		t.Fatal(err)
	}
	_, err = c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: "k", Priority: "Urgent"})
	if asInvalid(t, err).Field != "priority" {
		t.Fatal(err)
	}
	if got := e.sim.Counters().Get("startJobs"); got != 0 {
		t.Fatalf("startJobs = %d: invalid input was sent", got)
	}
}

func TestStartJobsWire(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.login(t, nil)
	h := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "X-UIPATH-OrganizationUnitId": "1"}
	path := "/rpaflow/DefaultTenant/orchestrator_/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs"
	// camelCase keys, ReleaseName fallback, no Strategy.
	r := e.raw(t, "POST", path, h, `{"startInfo":{"releaseName":"Invoices","inputArguments":"{\"count\":2}"}}`)
	if r.status != 201 || !strings.Contains(r.body, `"State":"Pending"`) || !strings.Contains(r.body, `"InputArguments":"{\"count\":2}"`) ||
		!strings.Contains(r.body, `"@odata.context":"`+e.srv.URL+`/rpaflow/DefaultTenant/orchestrator_/odata/$metadata#Jobs"`) {
		t.Fatalf("camelCase start: %d %s", r.status, r.body)
	}
	long := `{"startInfo":{"ReleaseName":"Invoices","InputArguments":"{\"a\":\"` + strings.Repeat("x", 10000) + `\"}"}}`
	if r = e.raw(t, "POST", path, h, long); r.status != 400 || !strings.Contains(r.body, "10000") {
		t.Fatalf("oversized input: %d %s", r.status, r.body)
	}
	if r = e.raw(t, "POST", path, h, `{"startInfo":{"ReleaseName":"Invoices","InputArguments":{"a":1}}}`); r.status != 400 {
		t.Fatalf("object input: %d %s", r.status, r.body)
	}
	if e.sim.Jobs() != 1 {
		t.Fatalf("jobs = %d", e.sim.Jobs())
	}
}

func TestAddQueueItemAndDuplicateReference(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, _ := c.Folder(ctx, tok, "Shared")
	due := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	req := orchestrator.QueueItemRequest{Queue: "orders", Reference: "PO-1", Priority: "High", DueDate: &due,
		SpecificContent: map[string]any{"InvoiceId": "INV-1", "Amount": 12.5, "Urgent": false, "Note": nil}}
	item, err := c.AddQueueItem(ctx, tok, f, req)
	if err != nil {
		t.Fatal(err)
	}
	if item.ID == 0 || item.Key == "" || item.Status != "New" || item.Reference != "PO-1" {
		t.Fatalf("item = %+v", item)
	}
	_, err = c.AddQueueItem(ctx, tok, f, req)
	if !orchestrator.IsDuplicateReference(err) {
		t.Fatalf("want duplicate reference, got %v", err)
	}
	if ae := asAPIError(t, err); ae.Status != 409 || ae.Code != "1016" || ae.Message != "Error creating Transaction. Duplicate Reference." {
		t.Fatalf("got %+v", ae)
	}
	if e.sim.Counters().Get("addQueueItem.duplicate") != 1 || e.sim.Counters().Get("addQueueItem") != 2 {
		t.Fatalf("counters = %v", e.sim.Counters().Snapshot())
	}
	req.Queue = "Returns"
	_, err = c.AddQueueItem(ctx, tok, f, req)
	if ae := asAPIError(t, err); ae.Status != 404 || ae.Code != "1002" || orchestrator.IsDuplicateReference(err) {
		t.Fatalf("unknown queue: %+v", ae)
	}
}

func TestSpecificContentValidation(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f := orchestrator.Folder{ID: 1}
	for _, tc := range []struct {
		content map[string]any
		field   string
	}{
		{map[string]any{"ok": 1, "address": map[string]any{"city": "Lisbon"}}, "specificContent.address"},
		{map[string]any{"lines": []any{1, 2}}, "specificContent.lines"},
		{map[string]any{"a.b": "x"}, "specificContent.a.b"},
		{map[string]any{"who@": "x"}, "specificContent.who@"},
		{map[string]any{`say"`: "x"}, `specificContent.say"`},
	} {
		_, err := c.AddQueueItem(ctx, tok, f, orchestrator.QueueItemRequest{Queue: "Orders", Reference: "R", SpecificContent: tc.content})
		if got := asInvalid(t, err).Field; got != tc.field {
			t.Errorf("field = %q, want %q", got, tc.field)
		}
	}
	if got := e.sim.Counters().Get("addQueueItem"); got != 0 {
		t.Fatalf("addQueueItem = %d: invalid input was sent", got)
	}
	// The simulator enforces the same rule for other callers.
	r := e.raw(t, "POST", "/odata/Queues/UiPathODataSvc.AddQueueItem",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "X-UIPATH-FolderPath": "Shared"},
		`{"itemData":{"Name":"Orders","Reference":"N-1","SpecificContent":{"a":{"b":1},"Name@odata.type":"#String"}}}`)
	if r.status != 400 || !strings.Contains(r.body, "Property values must be simple") {
		t.Fatalf("nested content: %d %s", r.status, r.body)
	}
	r = e.raw(t, "POST", "/odata/Queues/UiPathODataSvc.AddQueueItem",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "X-UIPATH-FolderPath": "Shared"},
		`{"itemData":{"name":"Orders","reference":"N-2","specificContent":{"Name":"x","Name@odata.type":"#String"}}}`)
	if r.status != 201 || !strings.Contains(r.body, `"SpecificContent":{"Name":"x"}`) {
		t.Fatalf("annotated content: %d %s", r.status, r.body)
	}
}

func TestJobListRateLimit(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) { o.JobListPerMinute = 2 })
	_, tok := e.login(t, nil)
	h := map[string]string{"Authorization": "Bearer " + tok, "X-UIPATH-OrganizationUnitId": "1"}
	path := "/rpaflow/DefaultTenant/orchestrator_/odata/Jobs?$filter=State%20eq%20'Pending'"
	for i := range 2 {
		if r := e.raw(t, "GET", path, h, ""); r.status != 200 || !strings.Contains(r.body, `"value":[]`) {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
		e.clock.Advance(10 * time.Second)
	}
	r := e.raw(t, "GET", path, h, "")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "40" {
		t.Fatalf("third call: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if code, msg, _ := orchestrator.ParseError([]byte(r.body)); code != "" || !strings.Contains(msg, "Too many requests") {
		t.Fatalf("429 body: %s", r.body)
	}
	e.clock.Advance(41 * time.Second)
	if r := e.raw(t, "GET", path, h, ""); r.status != 200 {
		t.Fatalf("after the window: %d %s", r.status, r.body)
	}
}

func TestScopeForbidden(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) {
		o.Apps = append(o.Apps, orchsim.App{ClientID: "reader", ClientSecret: "reader-secret", Scopes: []string{"OR.Folders.Read"}})
	})
	c, tok := e.login(t, func(o *orchestrator.Options) { o.ClientID, o.ClientSecret, o.Scopes = "reader", "reader-secret", nil })
	f, err := c.Folder(ctx, tok, "Shared")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Release(ctx, tok, f, "Invoices")
	if ae := asAPIError(t, err); ae.Status != 403 || ae.Message != "You are not authorized!" {
		t.Fatalf("got %+v", ae)
	}
	if e.sim.Counters().Get("http.403") != 1 || e.sim.Counters().Get("releases") != 0 {
		t.Fatalf("counters = %v", e.sim.Counters().Snapshot())
	}
}

func TestExpiredToken(t *testing.T) {
	e := newEnv(t, func(o *orchsim.Options) { o.TokenLifetime = time.Minute })
	c, tok := e.login(t, nil)
	e.clock.Advance(61 * time.Second)
	_, err := c.Folder(ctx, tok, "Shared")
	if ae := asAPIError(t, err); ae.Status != 401 || ae.Message != "You are not authenticated!" {
		t.Fatalf("got %+v", ae)
	}
	noSecrets(t, e.sim, err)
	r := e.raw(t, "GET", "/odata/Folders", map[string]string{"Authorization": "Bearer " + tok}, "")
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("expired: %d %v", r.status, r.header)
	}
	if r = e.raw(t, "GET", "/odata/Folders", nil, ""); r.status != 401 || r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("missing token: %d %v", r.status, r.header)
	}
	if got := e.sim.Counters().Get("http.401"); got != 3 {
		t.Fatalf("http.401 = %d", got)
	}
	if _, err := c.Folder(ctx, "", "Shared"); asInvalid(t, err).Field != "token" {
		t.Fatal(err)
	}
}

func TestFoldersFilterSyntax(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.login(t, nil)
	h := map[string]string{"Authorization": "Bearer " + tok}
	for filter, want := range map[string]int{
		"Id eq 2":                                      1,
		"DisplayName eq 'Invoices' or Id eq 1":         2,
		"(FullyQualifiedName eq 'Shared') and Id eq 2": 0,
		"FullyQualifiedName eq 'finance/invoices'":     1,
		"FullyQualifiedName eq 'O''Brien' or Id eq 1":  1,
	} {
		r := e.raw(t, "GET", "/odata/Folders?$filter="+strings.ReplaceAll(filter, " ", "%20"), h, "")
		if r.status != 200 || !strings.Contains(r.body, `"@odata.count":`+string(rune('0'+want))) {
			t.Errorf("%s: %d %s", filter, r.status, r.body)
		}
	}
	for _, filter := range []string{"startswith(DisplayName,'S')", "Id gt 1", "Name eq 'x'", "Id eq 'x'"} {
		r := e.raw(t, "GET", "/odata/Folders?$filter="+strings.ReplaceAll(filter, " ", "%20"), h, "")
		if r.status != 400 || !strings.Contains(r.body, `"errorCode":1000`) {
			t.Errorf("%s: %d %s", filter, r.status, r.body)
		}
	}
}

func TestInjectedThrottleCarriesRetryAfter(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	e.sim.Faults().Throttle(1, 3*time.Second)
	_, err := c.Folder(ctx, tok, "Shared")
	if ae := asAPIError(t, err); ae.Status != 429 || ae.RetryAfter != 3*time.Second {
		t.Fatalf("got %+v", ae)
	}
}

func TestConcurrentCalls(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.login(t, nil)
	f, _ := c.Folder(ctx, tok, "Shared")
	r, _ := c.Release(ctx, tok, f, "Invoices")
	const n = 20
	ids := make(chan int64, n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			j, err := c.StartJob(ctx, tok, f, orchestrator.StartJobRequest{ReleaseKey: r.Key})
			errs <- err
			ids <- j.ID
		}()
		go func() {
			defer wg.Done()
			_, err := c.AddQueueItem(ctx, tok, f, orchestrator.QueueItemRequest{Queue: "Orders", Reference: fmt.Sprint("PO-", i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("job id %d issued twice", id)
		}
		seen[id] = true
	}
	if e.sim.Jobs() != n || e.sim.Counters().Get("addQueueItem") != n {
		t.Fatalf("jobs = %d, counters = %v", e.sim.Jobs(), e.sim.Counters().Snapshot())
	}
}

func TestSimulatorRouting(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.login(t, nil)
	h := map[string]string{"Authorization": "Bearer " + tok}
	if r := e.raw(t, "GET", "/otherorg/DefaultTenant/orchestrator_/odata/Folders", h, ""); r.status != 404 {
		t.Fatalf("unknown org: %d", r.status)
	}
	if r := e.raw(t, "POST", "/odata/Folders", h, ""); r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Fatalf("wrong method: %d %v", r.status, r.header)
	}
	if r := e.raw(t, "GET", "/odata/Machines", h, ""); r.status != 404 {
		t.Fatalf("unknown endpoint: %d", r.status)
	}
}
