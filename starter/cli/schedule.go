package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Schedules is the part of client.ScheduleClient the starter uses; tests use
// a fake.
type Schedules interface {
	Create(ctx context.Context, options client.ScheduleOptions) (client.ScheduleHandle, error)
	List(ctx context.Context, options client.ScheduleListOptions) (client.ScheduleListIterator, error)
	GetHandle(ctx context.Context, scheduleID string) client.ScheduleHandle
}

var _ Schedules = client.ScheduleClient(nil)

// scheduleWorkflows are the workflows a schedule may start: one-shot jobs.
// Sessions and the hub watch run forever and keep their own timers.
var scheduleWorkflows = []string{"deploy-api-task", "deploy-bot", "start-job", "add-work-item"}

// scheduleIDRE keeps schedule IDs readable and safe to type: Temporal names
// each run <schedule-id>-<time>, so the ID is also the runs' prefix.
var scheduleIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxScheduleIDLen leaves room in Temporal's workflow ID limit for the
// appended time.
const maxScheduleIDLen = 200

func checkScheduleID(id string) error {
	switch {
	case id == "":
		return usageErrorf("--id is required: name the schedule, e.g. --id nightly-zip-95134")
	case len(id) > maxScheduleIDLen:
		return usageErrorf("--id is %d characters long; use at most %d", len(id), maxScheduleIDLen)
	case !scheduleIDRE.MatchString(id):
		return usageErrorf("--id %q is not a schedule ID; use letters, digits, '-', '_' and '.', starting with a letter or digit", id)
	}
	return nil
}

// overlapPolicies maps --overlap to Temporal's policy; the order is the help's.
var overlapPolicies = []struct {
	name   string
	policy enumspb.ScheduleOverlapPolicy
}{
	{"skip", enumspb.SCHEDULE_OVERLAP_POLICY_SKIP},
	{"buffer-one", enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE},
	{"buffer-all", enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL},
	{"cancel-other", enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER},
	{"terminate-other", enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER},
	{"allow-all", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL},
}

func overlapNames() string {
	names := make([]string, len(overlapPolicies))
	for i, p := range overlapPolicies {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

func parseOverlap(s string) (enumspb.ScheduleOverlapPolicy, error) {
	for _, p := range overlapPolicies {
		if p.name == s {
			return p.policy, nil
		}
	}
	return 0, usageErrorf("--overlap %q is not a policy; use one of %s", s, overlapNames())
}

func overlapName(p enumspb.ScheduleOverlapPolicy) string {
	for _, o := range overlapPolicies {
		if o.policy == p {
			return o.name
		}
	}
	if p == enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
		return "skip" // the server's default
	}
	return p.String()
}

func scheduleUsage() string {
	return `Usage: starter schedule create|list|describe|pause|unpause|trigger|delete [flags]

Periodic runs of deploy-api-task, deploy-bot, start-job or add-work-item with Temporal Schedules.
Each run's workflow ID is <schedule-id>-<scheduled time>, e.g. nightly-zip-2026-11-02T02:00:00Z.

  create     create a schedule (--id, --workflow, --input, --interval or --cron, ...)
  list       list the namespace's schedules
  describe   show a schedule: spec, policies, state, recent and next runs
  pause      stop starting runs (--note says why)
  unpause    start runs again
  trigger    start one run now
  delete     delete a schedule (runs already started keep running)

Run 'starter schedule <action> --help' for the flags.

` + exitCodesHelp
}

func (r *Runner) schedule(ctx context.Context, action string, args []string) int {
	switch action {
	case "create":
		return r.scheduleCreate(ctx, args)
	case "list":
		return r.scheduleList(ctx, args)
	}
	return r.scheduleHandleAction(ctx, action, args) // describe, pause, unpause, trigger, delete
}

// scheduleConnect connects and finds the schedule client.
func (r *Runner) scheduleConnect(ctx context.Context) (Conn, string, error) {
	conn, cfg, err := r.connect(ctx)
	if err != nil {
		return Conn{}, "", err
	}
	if conn.Schedules == nil {
		conn.Close()
		return Conn{}, "", withCode(ExitUnreachable, errors.New("this connection offers no schedule client"))
	}
	return conn, cfg.TaskQueue, nil
}

type createFlags struct {
	c                       commonFlags
	id, workflow            string
	profile, input          string
	interval, jitter        time.Duration
	catchup                 time.Duration
	cron, timeZone, overlap string
	note                    string
	pauseOnFailure, paused  bool
}

func (r *Runner) scheduleCreate(ctx context.Context, args []string) int {
	fs := newFlagSet("starter schedule create")
	var f createFlags
	fs.StringVar(&f.id, "id", "", "schedule `ID` (required; letters, digits, '-', '_', '.'); runs are named <ID>-<time>")
	fs.StringVar(&f.workflow, "workflow", "", "workflow to run: `NAME` is "+strings.Join(scheduleWorkflows, ", ")+" (required)")
	fs.StringVar(&f.profile, "profile", "", "platform profile `NAME`, used when the input has no \"profile\"")
	fs.StringVar(&f.input, "input", "", "workflow input: inline `JSON`, @file.json, or - for stdin; checked against the workflow's input type")
	fs.DurationVar(&f.interval, "interval", 0, "run every `DURATION` (at least 1s), e.g. 15m")
	fs.StringVar(&f.cron, "cron", "", "run at the times of a cron `EXPRESSION` (5 fields, or 6-7 with year and seconds, or @daily...), e.g. '0 2 * * MON-FRI'")
	fs.StringVar(&f.timeZone, "time-zone", "", "IANA time `ZONE` of --cron, e.g. Europe/Berlin (default UTC)")
	fs.DurationVar(&f.jitter, "jitter", 0, "delay each run by a random amount up to `DURATION`, to spread load")
	fs.StringVar(&f.overlap, "overlap", "skip", "`POLICY` when a run is due while the previous one still runs: "+overlapNames())
	fs.DurationVar(&f.catchup, "catchup-window", 0, "after an outage, start missed runs at most `DURATION` late (default: the server's, one year)")
	fs.BoolVar(&f.pauseOnFailure, "pause-on-failure", false, "pause the schedule when a run fails or times out")
	fs.StringVar(&f.note, "note", "", "a `TEXT` shown with the schedule, e.g. who owns it")
	fs.BoolVar(&f.paused, "paused", false, "create the schedule paused")
	f.c.register(fs, "give up after this `DURATION` (exit 4; default 1m)")
	usage := func() string {
		return commandUsage("starter schedule create --id ID --workflow NAME --input JSON (--interval D | --cron EXPR) [flags]",
			"Create a Temporal Schedule that starts the workflow periodically. The input is checked\nbefore the schedule is created, and stored encrypted with the payload codec.", fs,
			`starter schedule create --id zip-95134 --workflow deploy-api-task --profile cr --interval 15m --input '{"botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}'`)
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{ScheduleID: f.id}
	opts, err := r.scheduleOptions(&f, out)
	if err != nil {
		return r.finish(out, err, f.c.json)
	}

	ctx, cancel := withTimeout(ctx, f.c.timeout, defaultTimeout)
	defer cancel()
	conn, queue, err := r.scheduleConnect(ctx)
	if err != nil {
		return r.finish(out, err, f.c.json)
	}
	defer conn.Close()
	out.TaskQueue = queue
	opts.Action.(*client.ScheduleWorkflowAction).TaskQueue = queue

	h, err := conn.Schedules.Create(ctx, opts)
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		err = usageErrorf("schedule %s already exists; choose another --id, or replace it: starter schedule delete --id %s", f.id, f.id)
	}
	if err != nil {
		return r.finish(out, scheduleErr(f.id, err), f.c.json)
	}
	desc, err := h.Describe(ctx)
	if err != nil {
		// Created, but the description failed: still a success.
		fmt.Fprintf(r.Stderr, "warning: created %s but could not describe it: %v\n", f.id, err)
		out.Result = json.RawMessage("null")
		out.human = fmt.Sprintf("created schedule %s\n", f.id)
		return r.finish(out, nil, f.c.json)
	}
	view := describeSchedule(f.id, desc, conn)
	out.Result = mustJSON(view)
	var b strings.Builder
	fmt.Fprintf(&b, "created schedule %s (%s on task queue %s)\n", f.id, out.WorkflowType, queue)
	fmt.Fprintf(&b, "  runs:      %s\n", view.Spec.summary())
	fmt.Fprintf(&b, "  overlap:   %s\n", view.Policy.Overlap)
	if view.State.Paused {
		fmt.Fprintf(&b, "  paused:    yes (starter schedule unpause --id %s)\n", f.id)
	}
	if view.Policy.PauseOnFailure {
		b.WriteString("  on failure: pause\n")
	}
	if len(view.Info.NextActionTimes) > 0 {
		fmt.Fprintf(&b, "  next run:  %s\n", view.Info.NextActionTimes[0].Format(time.RFC3339))
	}
	// Temporal names runs after the nominal time, before any jitter.
	fmt.Fprintf(&b, "  run IDs:   %s-<scheduled time>, e.g. %s-2026-01-02T03:00:00Z\n", f.id, f.id)
	fmt.Fprintf(&b, "  describe:  starter schedule describe --id %s\n", f.id)
	out.human = b.String()
	return r.finish(out, nil, f.c.json)
}

// scheduleOptions validates the create flags and input and builds the
// schedule (TaskQueue is filled in once the configuration is loaded).
func (r *Runner) scheduleOptions(f *createFlags, out *Output) (client.ScheduleOptions, error) {
	if err := checkScheduleID(f.id); err != nil {
		return client.ScheduleOptions{}, err
	}
	if f.workflow == "" {
		return client.ScheduleOptions{}, usageErrorf("--workflow is required; use one of %s", strings.Join(scheduleWorkflows, ", "))
	}
	spec, ok := findStart(f.workflow)
	if !ok || !slices.Contains(scheduleWorkflows, f.workflow) {
		return client.ScheduleOptions{}, usageErrorf("--workflow %q cannot be scheduled; use one of %s", f.workflow, strings.Join(scheduleWorkflows, ", "))
	}
	out.WorkflowType = spec.workflowType
	out.WorkflowID = f.id

	switch {
	case f.interval == 0 && strings.TrimSpace(f.cron) == "":
		return client.ScheduleOptions{}, usageErrorf("give --interval (e.g. 15m) or --cron (e.g. '0 2 * * *')")
	case f.interval != 0 && strings.TrimSpace(f.cron) != "":
		return client.ScheduleOptions{}, usageErrorf("give either --interval or --cron, not both (create two schedules for two rhythms)")
	case f.interval != 0 && f.interval < time.Second:
		return client.ScheduleOptions{}, usageErrorf("--interval %s is too short; use at least 1s", f.interval)
	case f.timeZone != "" && f.interval != 0:
		return client.ScheduleOptions{}, usageErrorf("--time-zone applies to --cron only; an --interval does not depend on the time zone")
	case f.jitter < 0:
		return client.ScheduleOptions{}, usageErrorf("--jitter must not be negative")
	case f.catchup < 0:
		return client.ScheduleOptions{}, usageErrorf("--catchup-window must not be negative")
	}
	overlap, err := parseOverlap(f.overlap)
	if err != nil {
		return client.ScheduleOptions{}, err
	}

	raw, err := readInput(f.input, r.Stdin)
	if err != nil {
		return client.ScheduleOptions{}, err
	}
	obj, _, warning, err := mergeInput(raw, f.profile)
	if err == nil {
		err = checkFields(obj, spec.newInput())
	}
	if err != nil {
		return client.ScheduleOptions{}, err
	}
	if warning != "" {
		fmt.Fprintf(r.Stderr, "warning: %s\n", warning)
	}

	s := client.ScheduleSpec{Jitter: f.jitter, TimeZoneName: f.timeZone}
	if f.interval != 0 {
		s.Intervals = []client.ScheduleIntervalSpec{{Every: f.interval}}
	} else {
		s.CronExpressions = []string{strings.TrimSpace(f.cron)}
	}
	return client.ScheduleOptions{
		ID:   f.id,
		Spec: s,
		Action: &client.ScheduleWorkflowAction{
			// Temporal appends "-<scheduled time>" because the ID equals the schedule's.
			ID:       f.id,
			Workflow: spec.workflowType,
			Args:     []any{obj},
		},
		Overlap:        overlap,
		CatchupWindow:  f.catchup,
		PauseOnFailure: f.pauseOnFailure,
		Note:           f.note,
		Paused:         f.paused,
	}, nil
}

// scheduleErr names the schedule in not-found errors and keeps the exit code.
func scheduleErr(id string, err error) error {
	if isNotFound(err) {
		return withCode(ExitUsage, fmt.Errorf("no schedule %s (see starter schedule list): %w", id, err))
	}
	return err
}

func (r *Runner) scheduleHandleAction(ctx context.Context, action string, args []string) int {
	fs := newFlagSet("starter schedule " + action)
	var (
		c             commonFlags
		id, note, ovl string
	)
	fs.StringVar(&id, "id", "", "schedule `ID` (required)")
	switch action {
	case "pause", "unpause":
		fs.StringVar(&note, "note", "", "why, shown with the schedule (`TEXT`)")
	case "trigger":
		fs.StringVar(&ovl, "overlap", "", "`POLICY` for this run if one is still running (default: the schedule's): "+overlapNames())
	}
	c.register(fs, "give up after this `DURATION` (exit 4; default 1m)")
	summaries := map[string]string{
		"describe": "Show a schedule: workflow, input, spec, policies, state, recent and next runs.",
		"pause":    "Pause a schedule: no run starts until it is unpaused (running ones continue).",
		"unpause":  "Unpause a schedule.",
		"trigger":  "Start one run now, whatever the spec says.",
		"delete":   "Delete a schedule. Runs it already started keep running.",
	}
	usage := func() string {
		return commandUsage("starter schedule "+action+" --id ID [flags]", summaries[action], fs, "starter schedule "+action+" --id zip-95134")
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{ScheduleID: id}
	if err := checkScheduleID(id); err != nil {
		return r.finish(out, err, c.json)
	}
	var triggerOverlap enumspb.ScheduleOverlapPolicy
	if ovl != "" {
		p, err := parseOverlap(ovl)
		if err != nil {
			return r.finish(out, err, c.json)
		}
		triggerOverlap = p
	}

	ctx, cancel := withTimeout(ctx, c.timeout, defaultTimeout)
	defer cancel()
	conn, queue, err := r.scheduleConnect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	out.TaskQueue = queue
	h := conn.Schedules.GetHandle(ctx, id)
	switch action {
	case "describe":
		var desc *client.ScheduleDescription
		if desc, err = h.Describe(ctx); err == nil {
			view := describeSchedule(id, desc, conn)
			out.WorkflowType, out.WorkflowID, out.TaskQueue = view.WorkflowType, view.WorkflowID, view.TaskQueue
			out.Result = mustJSON(view)
		}
	case "pause":
		err = h.Pause(ctx, client.SchedulePauseOptions{Note: note})
		out.human = fmt.Sprintf("paused schedule %s (running workflows continue; resume with: starter schedule unpause --id %s)\n", id, id)
	case "unpause":
		err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
		out.human = fmt.Sprintf("unpaused schedule %s\n", id)
	case "trigger":
		err = h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: triggerOverlap})
		out.human = fmt.Sprintf("triggered schedule %s; its run is named %s-<time> (starter schedule describe --id %s)\n", id, id, id)
	case "delete":
		err = h.Delete(ctx)
		out.human = fmt.Sprintf("deleted schedule %s (workflows it started keep running)\n", id)
	}
	if err != nil {
		return r.finish(out, scheduleErr(id, err), c.json)
	}
	if out.Result == nil {
		out.Result = json.RawMessage("null")
	}
	return r.finish(out, nil, c.json)
}

// maxListed bounds a listing (Temporal pages through every schedule).
const maxListed = 1000

func (r *Runner) scheduleList(ctx context.Context, args []string) int {
	fs := newFlagSet("starter schedule list")
	var (
		c     commonFlags
		query string
		limit int
	)
	fs.StringVar(&query, "query", "", "visibility `QUERY` to filter schedules (as in temporal schedule list --query)")
	fs.IntVar(&limit, "limit", 100, fmt.Sprintf("list at most `N` schedules (at most %d)", maxListed))
	c.register(fs, "give up after this `DURATION` (exit 4; default 1m)")
	usage := func() string {
		return commandUsage("starter schedule list [flags]", "List the namespace's schedules (eventually consistent: a new schedule may take a moment to appear).", fs, "starter schedule list --json")
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{}
	if limit < 1 || limit > maxListed {
		return r.finish(out, usageErrorf("--limit %d is out of range; use 1 to %d", limit, maxListed), c.json)
	}
	ctx, cancel := withTimeout(ctx, c.timeout, defaultTimeout)
	defer cancel()
	conn, queue, err := r.scheduleConnect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	out.TaskQueue = queue
	it, err := conn.Schedules.List(ctx, client.ScheduleListOptions{PageSize: min(limit, 100), Query: query})
	if err != nil {
		return r.finish(out, err, c.json)
	}
	items := []scheduleListItem{}
	for len(items) < limit && it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return r.finish(out, err, c.json)
		}
		item := scheduleListItem{ID: e.ID, WorkflowType: e.WorkflowType.Name, Paused: e.Paused, Note: e.Note}
		if e.Spec != nil {
			item.Spec = specView(e.Spec).summary()
		}
		if len(e.NextActionTimes) > 0 {
			next := e.NextActionTimes[0]
			item.NextRun = &next
		}
		items = append(items, item)
	}
	slices.SortFunc(items, func(a, b scheduleListItem) int { return strings.Compare(a.ID, b.ID) })
	out.Result = mustJSON(items)
	var b strings.Builder
	if len(items) == 0 {
		b.WriteString("no schedules\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tWORKFLOW\tSPEC\tPAUSED\tNEXT RUN")
		for _, it := range items {
			next := "-"
			if it.NextRun != nil {
				next = it.NextRun.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", it.ID, it.WorkflowType, it.Spec, it.Paused, next)
		}
		_ = tw.Flush()
	}
	out.human = b.String()
	return r.finish(out, nil, c.json)
}

type scheduleListItem struct {
	ID           string     `json:"scheduleId"`
	WorkflowType string     `json:"workflowType"`
	Spec         string     `json:"spec"`
	Paused       bool       `json:"paused"`
	Note         string     `json:"note,omitempty"`
	NextRun      *time.Time `json:"nextRun,omitempty"`
}

// ScheduleView is what describe prints (and create, with --json).
type ScheduleView struct {
	ScheduleID   string `json:"scheduleId"`
	WorkflowType string `json:"workflowType"`
	// WorkflowID is the runs' ID prefix: each run is <workflowId>-<time>.
	WorkflowID string          `json:"workflowId"`
	TaskQueue  string          `json:"taskQueue"`
	Input      json.RawMessage `json:"input,omitempty"`
	Spec       SpecView        `json:"spec"`
	Policy     PolicyView      `json:"policy"`
	State      StateView       `json:"state"`
	Info       InfoView        `json:"info"`
}

// SpecView is a schedule's timing.
type SpecView struct {
	Intervals []string `json:"intervals,omitempty"`
	// Calendars: the server stores --cron as calendar specs.
	Calendars []string `json:"calendars,omitempty"`
	Cron      []string `json:"cron,omitempty"`
	TimeZone  string   `json:"timeZone,omitempty"`
	Jitter    string   `json:"jitter,omitempty"`
}

func (s SpecView) summary() string {
	var parts []string
	for _, i := range s.Intervals {
		parts = append(parts, "every "+i)
	}
	parts = append(parts, s.Cron...)
	parts = append(parts, s.Calendars...)
	if s.TimeZone != "" {
		parts = append(parts, "("+s.TimeZone+")")
	}
	if s.Jitter != "" {
		parts = append(parts, "jitter "+s.Jitter)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// PolicyView is a schedule's policies.
type PolicyView struct {
	Overlap        string `json:"overlap"`
	CatchupWindow  string `json:"catchupWindow,omitempty"`
	PauseOnFailure bool   `json:"pauseOnFailure"`
}

// StateView is whether a schedule runs.
type StateView struct {
	Paused bool   `json:"paused"`
	Note   string `json:"note,omitempty"`
}

// InfoView is what a schedule has done and will do.
type InfoView struct {
	NumActions          int          `json:"numActions"`
	SkippedOverlap      int          `json:"skippedOverlap"`
	MissedCatchupWindow int          `json:"missedCatchupWindow"`
	Running             []string     `json:"running,omitempty"`
	RecentActions       []ActionView `json:"recentActions,omitempty"`
	NextActionTimes     []time.Time  `json:"nextActionTimes,omitempty"`
	CreatedAt           time.Time    `json:"createdAt,omitzero"`
}

// ActionView is one run a schedule started.
type ActionView struct {
	ScheduledAt time.Time `json:"scheduledAt"`
	StartedAt   time.Time `json:"startedAt"`
	WorkflowID  string    `json:"workflowId,omitempty"`
	RunID       string    `json:"runId,omitempty"`
}

func specView(s *client.ScheduleSpec) SpecView {
	v := SpecView{Cron: s.CronExpressions, TimeZone: s.TimeZoneName}
	for _, i := range s.Intervals {
		e := i.Every.String()
		if i.Offset != 0 {
			e += " offset " + i.Offset.String()
		}
		v.Intervals = append(v.Intervals, e)
	}
	for _, c := range s.Calendars {
		v.Calendars = append(v.Calendars, calendarString(c))
	}
	if s.Jitter != 0 {
		v.Jitter = s.Jitter.String()
	}
	return v
}

// calendarString renders a calendar spec in cron field order with names:
// sec=0 min=0 hour=2 dom=* month=* dow=1-5.
func calendarString(c client.ScheduleCalendarSpec) string {
	field := func(name string, rs []client.ScheduleRange) string {
		if len(rs) == 0 {
			return name + "=*"
		}
		var parts []string
		for _, r := range rs {
			p := fmt.Sprint(r.Start)
			if r.End > r.Start {
				p += fmt.Sprintf("-%d", r.End)
			}
			if r.Step > 1 {
				p += fmt.Sprintf("/%d", r.Step)
			}
			parts = append(parts, p)
		}
		return name + "=" + strings.Join(parts, ",")
	}
	s := strings.Join([]string{
		field("sec", c.Second), field("min", c.Minute), field("hour", c.Hour),
		field("dom", c.DayOfMonth), field("month", c.Month), field("dow", c.DayOfWeek),
	}, " ")
	if len(c.Year) > 0 {
		s += " " + field("year", c.Year)
	}
	return s
}

// describeSchedule turns a description into the starter's view; the input
// is decoded with the connection's data converter (it holds no credential:
// inputs name profiles, never secrets).
func describeSchedule(id string, d *client.ScheduleDescription, conn Conn) ScheduleView {
	v := ScheduleView{ScheduleID: id}
	if a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		v.WorkflowID, v.TaskQueue = a.ID, a.TaskQueue
		if name, ok := a.Workflow.(string); ok {
			v.WorkflowType = name
		}
		if len(a.Args) == 1 {
			if p, ok := a.Args[0].(*commonpb.Payload); ok && conn.DataConverter != nil {
				var raw json.RawMessage
				if err := conn.DataConverter.FromPayload(p, &raw); err == nil {
					v.Input = raw
				}
			}
		}
	}
	if d.Schedule.Spec != nil {
		v.Spec = specView(d.Schedule.Spec)
	}
	if p := d.Schedule.Policy; p != nil {
		v.Policy = PolicyView{Overlap: overlapName(p.Overlap), PauseOnFailure: p.PauseOnFailure}
		if p.CatchupWindow != 0 {
			v.Policy.CatchupWindow = p.CatchupWindow.String()
		}
	}
	if s := d.Schedule.State; s != nil {
		v.State = StateView{Paused: s.Paused, Note: s.Note}
	}
	i := d.Info
	v.Info = InfoView{NumActions: i.NumActions, SkippedOverlap: i.NumActionsSkippedOverlap,
		MissedCatchupWindow: i.NumActionsMissedCatchupWindow, NextActionTimes: i.NextActionTimes, CreatedAt: i.CreatedAt}
	for _, w := range i.RunningWorkflows {
		v.Info.Running = append(v.Info.Running, w.WorkflowID)
	}
	for _, a := range i.RecentActions {
		av := ActionView{ScheduledAt: a.ScheduleTime, StartedAt: a.ActualTime}
		if a.StartWorkflowResult != nil {
			av.WorkflowID, av.RunID = a.StartWorkflowResult.WorkflowID, a.StartWorkflowResult.FirstExecutionRunID
		}
		v.Info.RecentActions = append(v.Info.RecentActions, av)
	}
	return v
}

// mustJSON marshals a view made of plain types (cannot fail).
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cli: marshal %T: %v", v, err))
	}
	return b
}
