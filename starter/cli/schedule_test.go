package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// fakeSchedules keeps schedules in memory, as the server would.
type fakeSchedules struct {
	mu        sync.Mutex
	created   []client.ScheduleOptions
	schedules map[string]*fakeSchedule
	calls     []string // "<action> <id>"
	err       error    // returned by every handle action and Create
}

type fakeSchedule struct {
	opts     client.ScheduleOptions
	paused   bool
	note     string
	triggers []enumspb.ScheduleOverlapPolicy
}

func newFakeSchedules() *fakeSchedules {
	return &fakeSchedules{schedules: map[string]*fakeSchedule{}}
}

func (f *fakeSchedules) Create(ctx context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "create "+o.ID)
	if f.err != nil {
		return nil, f.err
	}
	if _, ok := f.schedules[o.ID]; ok {
		return nil, temporal.ErrScheduleAlreadyRunning
	}
	f.created = append(f.created, o)
	f.schedules[o.ID] = &fakeSchedule{opts: o, paused: o.Paused, note: o.Note}
	return &fakeScheduleHandle{f: f, id: o.ID}, nil
}

func (f *fakeSchedules) List(ctx context.Context, o client.ScheduleListOptions) (client.ScheduleListIterator, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var entries []*client.ScheduleListEntry
	for id, s := range f.schedules {
		spec := s.opts.Spec
		entries = append(entries, &client.ScheduleListEntry{ID: id, Spec: &spec, Paused: s.paused, Note: s.note,
			WorkflowType:    workflow.Type{Name: s.opts.Action.(*client.ScheduleWorkflowAction).Workflow.(string)},
			NextActionTimes: []time.Time{time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}})
	}
	return &fakeIter{entries: entries}, nil
}

func (f *fakeSchedules) GetHandle(ctx context.Context, id string) client.ScheduleHandle {
	return &fakeScheduleHandle{f: f, id: id}
}

type fakeIter struct{ entries []*client.ScheduleListEntry }

func (i *fakeIter) HasNext() bool { return len(i.entries) > 0 }
func (i *fakeIter) Next() (*client.ScheduleListEntry, error) {
	e := i.entries[0]
	i.entries = i.entries[1:]
	return e, nil
}

type fakeScheduleHandle struct {
	f  *fakeSchedules
	id string
}

// get returns the schedule or the server's not-found error.
func (h *fakeScheduleHandle) get(action string) (*fakeSchedule, error) {
	h.f.calls = append(h.f.calls, action+" "+h.id)
	if h.f.err != nil {
		return nil, h.f.err
	}
	s, ok := h.f.schedules[h.id]
	if !ok {
		return nil, serviceerror.NewNotFound("schedule not found")
	}
	return s, nil
}

func (h *fakeScheduleHandle) GetID() string { return h.id }

func (h *fakeScheduleHandle) Delete(ctx context.Context) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if _, err := h.get("delete"); err != nil {
		return err
	}
	delete(h.f.schedules, h.id)
	return nil
}

func (h *fakeScheduleHandle) Backfill(ctx context.Context, o client.ScheduleBackfillOptions) error {
	return errors.New("not used")
}

func (h *fakeScheduleHandle) Update(ctx context.Context, o client.ScheduleUpdateOptions) error {
	return errors.New("not used")
}

// Describe answers as the server does: the action's arguments come back as
// payloads, a cron spec comes back as calendars.
func (h *fakeScheduleHandle) Describe(ctx context.Context) (*client.ScheduleDescription, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	s, err := h.get("describe")
	if err != nil {
		return nil, err
	}
	a := *s.opts.Action.(*client.ScheduleWorkflowAction)
	var args []any
	for _, arg := range a.Args {
		p, err := dc.ToPayload(arg)
		if err != nil {
			return nil, err
		}
		args = append(args, p)
	}
	a.Args = args
	spec := s.opts.Spec
	if len(spec.CronExpressions) > 0 {
		spec.CronExpressions = nil
		spec.Calendars = []client.ScheduleCalendarSpec{{Second: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 0}},
			Hour: []client.ScheduleRange{{Start: 2}}, DayOfWeek: []client.ScheduleRange{{Start: 1, End: 5}}}}
	}
	overlap := s.opts.Overlap
	started := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return &client.ScheduleDescription{
		Schedule: client.Schedule{
			Action: &a,
			Spec:   &spec,
			Policy: &client.SchedulePolicies{Overlap: overlap, CatchupWindow: s.opts.CatchupWindow, PauseOnFailure: s.opts.PauseOnFailure},
			State:  &client.ScheduleState{Paused: s.paused, Note: s.note},
		},
		Info: client.ScheduleInfo{
			NumActions:      len(s.triggers),
			NextActionTimes: []time.Time{started.Add(time.Hour)},
			RecentActions: []client.ScheduleActionResult{{ScheduleTime: started, ActualTime: started,
				StartWorkflowResult: &client.ScheduleWorkflowExecution{WorkflowID: a.ID + "-2030-01-01T00:00:00Z", FirstExecutionRunID: "r1"}}},
		},
	}, nil
}

func (h *fakeScheduleHandle) Trigger(ctx context.Context, o client.ScheduleTriggerOptions) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	s, err := h.get("trigger")
	if err != nil {
		return err
	}
	s.triggers = append(s.triggers, o.Overlap)
	return nil
}

func (h *fakeScheduleHandle) Pause(ctx context.Context, o client.SchedulePauseOptions) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	s, err := h.get("pause")
	if err != nil {
		return err
	}
	s.paused, s.note = true, o.Note
	return nil
}

func (h *fakeScheduleHandle) Unpause(ctx context.Context, o client.ScheduleUnpauseOptions) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	s, err := h.get("unpause")
	if err != nil {
		return err
	}
	s.paused, s.note = false, o.Note
	return nil
}

var _ Schedules = (*fakeSchedules)(nil)

const zipInputJSON = `{"botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}`

func scheduleHarness(t *testing.T) (*harness, *fakeSchedules) {
	fs := newFakeSchedules()
	h := newHarness(t, &fakeClient{})
	h.schedules = fs
	h.env["RPAFLOW_TASK_QUEUE"] = "rpa-q"
	return h, fs
}

func TestScheduleCreateInterval(t *testing.T) {
	h, fs := scheduleHarness(t)
	code, stdout, stderr := h.run("schedule", "create", "--id", "zip-95134", "--workflow", "deploy-api-task", "--profile", "cr",
		"--interval", "15m", "--jitter", "30s", "--catchup-window", "10m", "--pause-on-failure", "--note", "team rpa", "--json",
		"--input", zipInputJSON)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	if len(fs.created) != 1 {
		t.Fatalf("created %d schedules", len(fs.created))
	}
	o := fs.created[0]
	a := o.Action.(*client.ScheduleWorkflowAction)
	// The action's workflow ID equals the schedule ID, so Temporal names runs <id>-<time>.
	if o.ID != "zip-95134" || a.ID != "zip-95134" || a.Workflow != contract.DeployAPITaskWorkflow || a.TaskQueue != "rpa-q" {
		t.Errorf("schedule %q action %+v", o.ID, a)
	}
	if len(o.Spec.Intervals) != 1 || o.Spec.Intervals[0].Every != 15*time.Minute || o.Spec.Jitter != 30*time.Second || len(o.Spec.CronExpressions) != 0 {
		t.Errorf("spec = %+v", o.Spec)
	}
	if o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP || o.CatchupWindow != 10*time.Minute || !o.PauseOnFailure || o.Note != "team rpa" || o.Paused {
		t.Errorf("policies = overlap %v catchup %v pauseOnFailure %v note %q paused %v", o.Overlap, o.CatchupWindow, o.PauseOnFailure, o.Note, o.Paused)
	}
	var in contract.DeployAPITaskInput
	if len(a.Args) != 1 || encodeInto(a.Args[0], &in) != nil || in.Profile != "cr" || string(in.BotInput["iStrZipCode"]) != `"95134"` {
		t.Errorf("input = %+v (args %v)", in, a.Args)
	}

	out := decodeOne(t, stdout)
	var view ScheduleView
	if err := json.Unmarshal(out.Result, &view); err != nil {
		t.Fatal(err)
	}
	if out.ScheduleID != "zip-95134" || out.TaskQueue != "rpa-q" || out.WorkflowType != "DeployAPITask" || view.Spec.Intervals[0] != "15m0s" ||
		view.Policy.Overlap != "skip" || !view.Policy.PauseOnFailure || view.Policy.CatchupWindow != "10m0s" || view.Spec.Jitter != "30s" {
		t.Errorf("output %+v view %+v", out, view)
	}
	// The stored input is shown decoded.
	if !strings.Contains(string(view.Input), `"iStrZipCode":"95134"`) || !strings.Contains(string(view.Input), `"profile":"cr"`) {
		t.Errorf("view input = %s", view.Input)
	}
}

func TestScheduleCreateCronAndOverlap(t *testing.T) {
	for _, tc := range []struct {
		name string
		want enumspb.ScheduleOverlapPolicy
	}{
		{"skip", enumspb.SCHEDULE_OVERLAP_POLICY_SKIP},
		{"buffer-one", enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE},
		{"buffer-all", enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL},
		{"cancel-other", enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER},
		{"terminate-other", enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER},
		{"allow-all", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL},
	} {
		h, fs := scheduleHarness(t)
		code, stdout, stderr := h.run("schedule", "create", "--id", "jobs."+tc.name, "--workflow", "start-job", "--profile", "orch",
			"--cron", "0 2 * * MON-FRI", "--time-zone", "Europe/Berlin", "--overlap", tc.name, "--paused",
			"--input", `{"folder":"Shared","process":"Invoices"}`)
		if code != ExitOK || len(fs.created) != 1 {
			t.Fatalf("%s: exit %d, stderr %s", tc.name, code, stderr)
		}
		o := fs.created[0]
		if o.Overlap != tc.want || o.Spec.CronExpressions[0] != "0 2 * * MON-FRI" || o.Spec.TimeZoneName != "Europe/Berlin" || !o.Paused ||
			o.Action.(*client.ScheduleWorkflowAction).Workflow != contract.StartJobWorkflow {
			t.Errorf("%s: options %+v", tc.name, o)
		}
		if !strings.Contains(stdout, "created schedule jobs."+tc.name) || !strings.Contains(stdout, "overlap:   "+tc.name) ||
			!strings.Contains(stdout, "hour=2") || !strings.Contains(stdout, "dow=1-5") || !strings.Contains(stdout, "paused:    yes") {
			t.Errorf("%s: stdout %q", tc.name, stdout)
		}
	}
}

// Every mistake is caught before anything is created or even connected.
func TestScheduleCreateRejects(t *testing.T) {
	base := []string{"schedule", "create", "--id", "ok", "--workflow", "deploy-bot", "--profile", "cr", "--interval", "1h", "--input", `{"botId":87}`}
	with := func(kv ...string) []string {
		args := append([]string(nil), base...)
		for i := 0; i < len(kv); i += 2 {
			replaced := false
			for j := 2; j < len(args); j += 2 {
				if args[j] == kv[i] {
					args[j+1], replaced = kv[i+1], true
				}
			}
			if !replaced {
				args = append(args, kv[i], kv[i+1])
			}
		}
		return args
	}
	for _, tc := range []struct {
		args []string
		has  string
	}{
		{with("--id", ""), "--id is required"},
		{with("--id", "has space"), "not a schedule ID"},
		{with("--id", "-lead"), "not a schedule ID"},
		{with("--id", "a:b"), "not a schedule ID"},
		{with("--id", strings.Repeat("a", 201)), "at most 200"},
		{with("--workflow", ""), "--workflow is required"},
		{with("--workflow", "hub-watch"), "cannot be scheduled"},
		{with("--workflow", "add-queue-item"), "cannot be scheduled"},
		{with("--interval", "0s"), "give --interval"},
		{with("--interval", "500ms"), "at least 1s"},
		{with("--cron", "@daily"), "not both"},
		{with("--time-zone", "Europe/Berlin"), "--cron only"},
		{with("--jitter", "-1s"), "--jitter"},
		{with("--catchup-window", "-1m"), "--catchup-window"},
		{with("--overlap", "queue"), "buffer-one"},
		{with("--input", `{"botId":"87"}`), "field botId"},
		{with("--input", `{"botId":87,"botInputs":{}}`), "botInputs"},
		{with("--input", `{"botId":87} {}`), "after the JSON object"},
		{with("--input", `[]`), "not a JSON object"},
		{with("--profile", ""), "no profile"},
		{with("--profile", "CR"), "not a profile name"},
	} {
		h, fs := scheduleHarness(t)
		code, _, stderr := h.run(tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.has) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 with %q", tc.args, code, trunc(stderr), tc.has)
		}
		if h.cfg != nil || len(fs.calls) != 0 {
			t.Errorf("%q: connected (%v) or called the server %v", tc.args, h.cfg != nil, fs.calls)
		}
	}
}

func TestScheduleCreateExistingAndUnreachable(t *testing.T) {
	h, fs := scheduleHarness(t)
	args := []string{"schedule", "create", "--id", "dup", "--workflow", "deploy-api-task", "--profile", "cr", "--interval", "1m", "--input", zipInputJSON}
	if code, _, stderr := h.run(args...); code != ExitOK {
		t.Fatalf("first create: exit %d %s", code, stderr)
	}
	code, _, stderr := h.run(args...)
	if code != ExitUsage || !strings.Contains(stderr, "schedule dup already exists") || !strings.Contains(stderr, "starter schedule delete --id dup") {
		t.Errorf("second create: exit %d, stderr %q", code, stderr)
	}
	fs.err = serviceerror.NewUnavailable("connection refused")
	if code, _, stderr := h.run("schedule", "describe", "--id", "dup"); code != ExitUnreachable {
		t.Errorf("unavailable: exit %d, stderr %q", code, stderr)
	}
	fs.err = serviceerror.NewInvalidArgument("invalid cron expression")
	code, _, stderr = h.run("schedule", "create", "--id", "c", "--workflow", "deploy-api-task", "--profile", "cr", "--cron", "61 * * * *", "--input", zipInputJSON)
	if code != ExitUsage || !strings.Contains(stderr, "invalid cron") {
		t.Errorf("server-rejected cron: exit %d, stderr %q", code, stderr)
	}
	h.schedules = nil
	if code, _, stderr := h.run("schedule", "list"); code != ExitUnreachable || !strings.Contains(stderr, "no schedule client") {
		t.Errorf("no schedule client: exit %d, stderr %q", code, stderr)
	}
}

func TestScheduleLifecycle(t *testing.T) {
	h, fs := scheduleHarness(t)
	for _, id := range []string{"b-zip", "a-bot"} {
		wf, in := "deploy-api-task", zipInputJSON
		if id == "a-bot" {
			wf, in = "deploy-bot", `{"botId":87,"runAsUserIds":[3]}`
		}
		if code, _, stderr := h.run("schedule", "create", "--id", id, "--workflow", wf, "--profile", "cr", "--interval", "1h", "--input", in); code != ExitOK {
			t.Fatalf("create %s: exit %d %s", id, code, stderr)
		}
	}

	code, stdout, _ := h.run("schedule", "list", "--json")
	var items []scheduleListItem
	if code != ExitOK || json.Unmarshal(decodeOne(t, stdout).Result, &items) != nil || len(items) != 2 ||
		items[0].ID != "a-bot" || items[0].WorkflowType != "DeployBot" || items[1].ID != "b-zip" || items[1].Spec != "every 1h0m0s" || items[1].NextRun == nil {
		t.Errorf("list: exit %d, items %+v", code, items)
	}
	if code, stdout, _ := h.run("schedule", "list"); code != ExitOK || !strings.Contains(stdout, "ID") || !strings.Contains(stdout, "a-bot") || !strings.Contains(stdout, "2030-01-02T03:04:05Z") {
		t.Errorf("human list: exit %d, %q", code, stdout)
	}

	steps := []struct {
		args  []string
		check func() error
	}{
		{[]string{"pause", "--id", "b-zip", "--note", "platform upgrade"}, func() error {
			if s := fs.schedules["b-zip"]; !s.paused || s.note != "platform upgrade" {
				return fmt.Errorf("paused %v note %q", s.paused, s.note)
			}
			return nil
		}},
		{[]string{"unpause", "--id", "b-zip"}, func() error {
			if fs.schedules["b-zip"].paused {
				return errors.New("still paused")
			}
			return nil
		}},
		{[]string{"trigger", "--id", "b-zip", "--overlap", "allow-all"}, func() error {
			if tr := fs.schedules["b-zip"].triggers; len(tr) != 1 || tr[0] != enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL {
				return fmt.Errorf("triggers %v", tr)
			}
			return nil
		}},
		{[]string{"trigger", "--id", "b-zip"}, func() error {
			if tr := fs.schedules["b-zip"].triggers; len(tr) != 2 || tr[1] != enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
				return fmt.Errorf("triggers %v (want the schedule's own policy)", tr)
			}
			return nil
		}},
		{[]string{"delete", "--id", "b-zip"}, func() error {
			if _, ok := fs.schedules["b-zip"]; ok {
				return errors.New("not deleted")
			}
			return nil
		}},
	}
	for _, st := range steps {
		code, stdout, stderr := h.run(append([]string{"schedule"}, st.args...)...)
		if code != ExitOK {
			t.Errorf("%v: exit %d, stderr %q", st.args, code, stderr)
			continue
		}
		if !strings.Contains(stdout, "b-zip") {
			t.Errorf("%v: stdout %q does not name the schedule", st.args, stdout)
		}
		if err := st.check(); err != nil {
			t.Errorf("%v: %v", st.args, err)
		}
	}

	code, stdout, _ = h.run("schedule", "describe", "--id", "a-bot", "--json")
	o := decodeOne(t, stdout)
	var view ScheduleView
	if code != ExitOK || json.Unmarshal(o.Result, &view) != nil {
		t.Fatalf("describe: exit %d %s", code, stdout)
	}
	if o.WorkflowType != "DeployBot" || view.WorkflowID != "a-bot" || view.TaskQueue != "rpa-q" || len(view.Info.RecentActions) != 1 ||
		view.Info.RecentActions[0].WorkflowID != "a-bot-2030-01-01T00:00:00Z" || !strings.Contains(string(view.Input), `"runAsUserIds":[3]`) {
		t.Errorf("describe: output %+v view %+v", o, view)
	}

	for _, action := range []string{"describe", "pause", "unpause", "trigger", "delete"} {
		code, _, stderr := h.run("schedule", action, "--id", "b-zip")
		if code != ExitUsage || !strings.Contains(stderr, "no schedule b-zip") {
			t.Errorf("%s of a deleted schedule: exit %d, stderr %q", action, code, stderr)
		}
	}
}

func TestScheduleUsage(t *testing.T) {
	h, fs := scheduleHarness(t)
	for _, tc := range []struct {
		args      []string
		code      int
		stdoutHas string
		stderrHas string
	}{
		{args: []string{"schedule"}, code: ExitUsage, stderrHas: "missing action"},
		{args: []string{"schedule", "--help"}, code: ExitOK, stdoutHas: "<schedule-id>-<scheduled time>"},
		{args: []string{"schedule", "update"}, code: ExitUsage, stderrHas: "unknown schedule action"},
		{args: []string{"schedule", "create", "--help"}, code: ExitOK, stdoutHas: "--catchup-window"},
		{args: []string{"schedule", "trigger", "--help"}, code: ExitOK, stdoutHas: "--overlap"},
		{args: []string{"schedule", "pause"}, code: ExitUsage, stderrHas: "--id is required"},
		{args: []string{"schedule", "trigger", "--id", "x", "--overlap", "nope"}, code: ExitUsage, stderrHas: "not a policy"},
		{args: []string{"schedule", "list", "--limit", "0"}, code: ExitUsage, stderrHas: "--limit"},
		{args: []string{"--help"}, code: ExitOK, stdoutHas: "schedule ..."},
	} {
		code, stdout, stderr := h.run(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdoutHas) || !strings.Contains(stderr, tc.stderrHas) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, trunc(stdout), trunc(stderr))
		}
	}
	if len(fs.calls) != 0 {
		t.Errorf("usage errors reached the server: %v", fs.calls)
	}
}

// A description whose input cannot be decoded still describes the schedule.
func TestDescribeScheduleUndecodableInput(t *testing.T) {
	d := &client.ScheduleDescription{Schedule: client.Schedule{Action: &client.ScheduleWorkflowAction{ID: "s", Workflow: "DeployBot",
		Args: []any{&commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/encrypted")}, Data: []byte{1, 2}}}}}}
	v := describeSchedule("s", d, Conn{DataConverter: dc})
	if v.Input != nil || v.WorkflowType != "DeployBot" || v.Policy.Overlap != "" {
		t.Errorf("view = %+v", v)
	}
}

// add-work-item can be scheduled; an unknown input field is refused first.
func TestScheduleAddWorkItem(t *testing.T) {
	h, fs := scheduleHarness(t)
	code, _, stderr := h.run("schedule", "create", "--id", "invoices.hourly", "--workflow", "add-work-item", "--profile", "cr",
		"--interval", "1h", "--input", `{"queue":"Invoices","data":{"invoice":"INV-1"},"wait":true,"timeout":"30m"}`)
	if code != ExitOK || len(fs.created) != 1 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	act := fs.created[0].Action.(*client.ScheduleWorkflowAction)
	var in contract.AddWorkItemInput
	if err := encodeInto(act.Args[0], &in); err != nil {
		t.Fatal(err)
	}
	if act.Workflow != contract.AddWorkItemWorkflow || in.Profile != "cr" || in.Queue != "Invoices" || !in.Wait || in.Timeout.D() != 30*time.Minute {
		t.Errorf("action %s, input %+v", act.Workflow, in)
	}
	h, fs = scheduleHarness(t)
	code, _, stderr = h.run("schedule", "create", "--id", "bad", "--workflow", "add-work-item", "--profile", "cr",
		"--interval", "1h", "--input", `{"queue":"Invoices","dat":{"invoice":"INV-1"}}`)
	if code != ExitUsage || len(fs.created) != 0 || !strings.Contains(stderr, "dat") {
		t.Errorf("exit %d, created %d, stderr %s", code, len(fs.created), stderr)
	}
}
