package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/logging"
	"github.com/rpaflow/rpaflow/session"
)

// Client is the part of client.Client the starter uses; a client.Client
// satisfies it, and tests use a fake.
type Client interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	GetWorkflow(ctx context.Context, workflowID, runID string) client.WorkflowRun
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	NewWithStartWorkflowOperation(options client.StartWorkflowOptions, workflow any, args ...any) client.WithStartWorkflowOperation
	UpdateWithStartWorkflow(ctx context.Context, options client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

var _ Client = client.Client(nil)

// Conn is an open connection to Temporal.
type Conn struct {
	Client Client
	// DataConverter is the client's data converter (with the payload codec),
	// used to decode heartbeat details; nil means the SDK default.
	DataConverter converter.DataConverter
	// Schedules manages Temporal Schedules; nil means the Client's own
	// ScheduleClient(), when it has one.
	Schedules Schedules
	Close     func()
}

// ConnectFunc opens the connection described by cfg. main wires it to
// internal/temporalclient so the starter and the worker agree on the codec.
type ConnectFunc func(ctx context.Context, cfg *config.Config, logger zerolog.Logger) (Conn, error)

// Runner runs one starter command.
type Runner struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Env is the environment the configuration is read from.
	Env     map[string]string
	Connect ConnectFunc
	// ProgressEvery is how often a wait describes the workflow (default 2s).
	ProgressEvery time.Duration
	// NewID makes default workflow IDs (default DefaultID).
	NewID func(workflowType string) string
}

// Output is what a command reports; with --json it is printed as one JSON object.
type Output struct {
	ScheduleID   string          `json:"scheduleId,omitempty"`
	WorkflowID   string          `json:"workflowId,omitempty"`
	RunID        string          `json:"runId,omitempty"`
	WorkflowType string          `json:"workflowType,omitempty"`
	TaskQueue    string          `json:"taskQueue,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
	Error        *ErrorInfo      `json:"error,omitempty"`
	ExitCode     int             `json:"exitCode"`

	human string // printed on stdout instead of Result in human mode
	hint  string // printed on stderr after an error in human mode
}

// defaultTimeout bounds commands that do not wait for a workflow.
const defaultTimeout = time.Minute

// dialTimeout bounds connecting to Temporal.
const dialTimeout = 10 * time.Second

type startSpec struct {
	command      string
	workflowType string
	summary      string
	newInput     func() any
	fixedID      func(profile string) string
	progress     bool
	example      string
}

var startSpecs = []startSpec{
	{command: "deploy-api-task", workflowType: contract.DeployAPITaskWorkflow,
		summary:  "run an Automation Anywhere API Task and return its output",
		newInput: func() any { return new(contract.DeployAPITaskInput) },
		example:  `starter deploy-api-task --profile cr --wait --input '{"botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}'`},
	{command: "deploy-bot", workflowType: contract.DeployBotWorkflow,
		summary:  "deploy an Automation Anywhere bot and wait for its end",
		newInput: func() any { return new(contract.DeployBotInput) }, progress: true,
		example: `starter deploy-bot --profile cr --wait --input '{"botId":87,"runAsUserIds":[3],"botInput":{"sName":"Ada"}}'`},
	{command: "start-job", workflowType: contract.StartJobWorkflow,
		summary:  "start a UiPath Orchestrator job and wait for its end",
		newInput: func() any { return new(contract.StartJobInput) }, progress: true,
		example: `starter start-job --profile orch --wait --input @job.json`},
	{command: "add-queue-item", workflowType: contract.AddQueueItemWorkflow,
		summary:  "add an item to a UiPath Orchestrator queue",
		newInput: func() any { return new(contract.AddQueueItemInput) },
		example:  `starter add-queue-item --profile orch --json --input '{"folder":"Shared","queue":"Orders","reference":"PO-1","specificContent":{"amount":12}}'`},
	{command: "add-work-item", workflowType: contract.AddWorkItemWorkflow,
		summary:  "add a work item to an Automation Anywhere WLM queue (with \"wait\": its result)",
		newInput: func() any { return new(contract.AddWorkItemInput) },
		example:  `starter add-work-item --profile cr --wait --input '{"queue":"Invoices","data":{"invoice":"INV-1","amount":120},"wait":true,"timeout":"1h"}'`},
	{command: "hub-watch", workflowType: contract.AutomationHubTokenWatchWorkflow,
		summary:  "watch an Automation Hub token (workflow ID hub-watch:<profile>; starting it again is a no-op)",
		newInput: func() any { return new(contract.HubWatchInput) }, fixedID: contract.HubWatchID,
		example: `starter hub-watch --profile hub`},
}

func findStart(command string) (startSpec, bool) {
	for _, s := range startSpecs {
		if s.command == command {
			return s, true
		}
	}
	return startSpec{}, false
}

const exitCodesHelp = `Exit codes:
  0  success
  1  the workflow, update or query failed (message and error type on stderr)
  2  bad usage or input (unknown flag, malformed or unknown input field, missing
     profile, workflow ID already running or not found, schedule ID taken or
     not found)
  3  cannot reach Temporal, or configuration error
  4  timeout: --timeout elapsed or the command was interrupted before the answer
     (a started workflow keeps running), or the workflow itself timed out
`

const environmentHelp = `Environment (the worker's): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_* (or TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE), RPAFLOW_TASK_QUEUE (default
rpaflow), RPAFLOW_CODEC_KEY, or RPAFLOW_CODEC_ENDPOINT (the worker's codec endpoint, with
RPAFLOW_CODEC_AUTH_TOKEN if it asks for one; no key needed, but session token then refuses:
tokens are sealed with the worker-only key), or RPAFLOW_INSECURE_PLAINTEXT=true;
RPAFLOW_LOG_LEVEL.
Platform profiles (RPAFLOW_PROFILES, RPAFLOW_<NAME>_*) are not needed here.
`

func mainUsage() string {
	var b strings.Builder
	b.WriteString("starter starts, queries and updates rpaflow workflows.\n\nUsage:\n  starter <command> [flags]\n\nCommands:\n")
	for _, s := range startSpecs {
		fmt.Fprintf(&b, "  %-16s %s (%s)\n", s.command, s.summary, s.workflowType)
	}
	b.WriteString("  session status   query a session's status (no secrets)\n")
	b.WriteString("  session token    get a token valid for --min-validity (starts the session if needed)\n")
	b.WriteString("  session logout   end a session cleanly\n")
	b.WriteString("  pool status      query a capacity pool's status: limit, in use, waiting per key\n")
	b.WriteString("  webhook ensure   create or update the Orchestrator webhook of the events receiver (a worker does it)\n")
	b.WriteString("  result           wait for a workflow (--id) and print its result\n")
	b.WriteString("  schedule ...     periodic runs with Temporal Schedules: create, list, describe, pause,\n")
	b.WriteString("                   unpause, trigger, delete (deploy-api-task, deploy-bot, start-job, add-work-item)\n")
	b.WriteString("\nStart flags (all start commands):\n")
	b.WriteString("  --profile NAME   platform profile, used when the input has no \"profile\"\n")
	b.WriteString("  --input JSON     workflow input: inline JSON, @file.json, or - for stdin\n")
	b.WriteString("  --id ID          workflow ID (default <type-kebab>-<random>, hub-watch:<profile> for hub-watch)\n")
	b.WriteString("  --wait           wait for the result and print it\n")
	b.WriteString("  --json           machine output: exactly one JSON object on stdout\n")
	b.WriteString("  --timeout D      give up after D (default: none with --wait, 1m otherwise)\n")
	b.WriteString("\nRun 'starter <command> --help' for a command's flags and an example.\n\n")
	b.WriteString(environmentHelp)
	b.WriteString("\n")
	b.WriteString(exitCodesHelp)
	return b.String()
}

// Run executes the command in args (without the program name) and returns
// the exit code.
func (r *Runner) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(r.Stderr, mainUsage())
		return ExitUsage
	}
	cmd := args[0]
	if g, ok := r.groups()[cmd]; ok {
		return r.dispatch(ctx, cmd, g, args[1:])
	}
	switch {
	case isHelp(cmd):
		fmt.Fprint(r.Stdout, mainUsage())
		return ExitOK
	case cmd == "result":
		return r.result(ctx, args[1:])
	}
	if spec, ok := findStart(cmd); ok {
		return r.start(ctx, spec, args[1:])
	}
	fmt.Fprintf(r.Stderr, "error: unknown command %q\n\n%s", cmd, mainUsage())
	return ExitUsage
}

// group is a command whose first argument is an action.
type group struct {
	usage   func() string
	actions []string // as the usage error lists them
	run     func(ctx context.Context, action string, args []string) int
}

// groups are the commands with actions: starter session status, ...
func (r *Runner) groups() map[string]group {
	return map[string]group{
		"session":  {usage: sessionUsage, actions: []string{"status", "token", "logout"}, run: r.session},
		"pool":     {usage: poolUsage, actions: []string{"status"}, run: r.pool},
		"webhook":  {usage: webhookUsage, actions: []string{"ensure"}, run: r.webhook},
		"schedule": {usage: scheduleUsage, actions: []string{"create", "list", "describe", "pause", "unpause", "trigger", "delete"}, run: r.schedule},
	}
}

// dispatch runs the action args name, or prints the group's usage.
func (r *Runner) dispatch(ctx context.Context, name string, g group, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(r.Stderr, "error: missing action\n\n%s", g.usage())
		return ExitUsage
	}
	switch action := args[0]; {
	case isHelp(action):
		fmt.Fprint(r.Stdout, g.usage())
		return ExitOK
	case slices.Contains(g.actions, action):
		return g.run(ctx, action, args[1:])
	}
	use := strings.Join(g.actions, ", ")
	if n := len(g.actions); n > 1 {
		use = strings.Join(g.actions[:n-1], ", ") + " or " + g.actions[n-1]
	}
	r.finish(&Output{}, usageErrorf("unknown %s action %q; use %s", name, args[0], use), wantsJSON(args))
	return ExitUsage
}

func isHelp(arg string) bool { return slices.Contains([]string{"-h", "-help", "--help", "help"}, arg) }

// commonFlags are shared by every command.
type commonFlags struct {
	json    bool
	timeout time.Duration
}

func (c *commonFlags) register(fs *flag.FlagSet, timeoutHelp string) {
	fs.BoolVar(&c.json, "json", false, "machine output: exactly one JSON object on stdout")
	fs.DurationVar(&c.timeout, "timeout", 0, timeoutHelp)
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// commandUsage renders a command's help.
func commandUsage(usage, summary string, fs *flag.FlagSet, example string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\n%s\n\nFlags:\n", usage, summary)
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n      %s", help)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	if example != "" {
		fmt.Fprintf(&b, "\nExample:\n  %s\n", example)
	}
	b.WriteString("\n")
	b.WriteString(environmentHelp)
	b.WriteString("\n")
	b.WriteString(exitCodesHelp)
	return b.String()
}

// parseFlags parses args; it returns done=true with the exit code when the
// command must stop (help or bad usage).
func (r *Runner) parseFlags(fs *flag.FlagSet, args []string, usage func() string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(r.Stdout, usage())
		return ExitOK, true
	case err == nil && fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q (flags only; quote JSON given to --input)", fs.Arg(0))
	}
	if err != nil {
		r.finish(&Output{}, usageErrorf("%v", err), wantsJSON(args))
		fmt.Fprintf(r.Stderr, "run '%s --help' for usage\n", fs.Name())
		return ExitUsage, true
	}
	return 0, false
}

// wantsJSON reports whether args ask for --json, for errors met before the
// flags could be parsed.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// withTimeout applies --timeout, or def when it is not set (0: no bound).
func withTimeout(ctx context.Context, timeout, def time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = def
	}
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// connect loads the configuration and opens the Temporal connection; its
// errors carry exit code 3.
func (r *Runner) connect(ctx context.Context) (Conn, *config.Config, error) {
	cfg, err := LoadConfig(r.Env)
	if err != nil {
		return Conn{}, nil, withCode(ExitUnreachable, err)
	}
	level, format := "warn", "console"
	if _, ok := r.Env["RPAFLOW_LOG_LEVEL"]; ok {
		level = cfg.LogLevel
	}
	if _, ok := r.Env["RPAFLOW_LOG_FORMAT"]; ok {
		format = cfg.LogFormat
	}
	logger := logging.New(r.Stderr, level, format, cfg.Secrets())
	if r.Connect == nil {
		return Conn{}, nil, withCode(ExitUnreachable, errors.New("no Temporal connector configured"))
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := r.Connect(dctx, cfg, logger)
	if err != nil {
		where := "the configured Temporal server"
		if addr, ok := cfg.LookupEnv("TEMPORAL_ADDRESS"); ok && addr != "" {
			where = "TEMPORAL_ADDRESS=" + addr
		}
		return Conn{}, nil, withCode(ExitUnreachable, fmt.Errorf("cannot connect to Temporal (%s): %w", where, err))
	}
	if conn.DataConverter == nil {
		conn.DataConverter = converter.GetDefaultDataConverter()
	}
	if conn.Close == nil {
		conn.Close = func() {}
	}
	if sc, ok := conn.Client.(interface{ ScheduleClient() client.ScheduleClient }); ok && conn.Schedules == nil {
		conn.Schedules = sc.ScheduleClient()
	}
	return conn, cfg, nil
}

// finish prints o (and err) and returns the exit code.
func (r *Runner) finish(o *Output, err error, jsonMode bool) int {
	code := ExitCode(err)
	o.ExitCode = code
	if err != nil {
		info := describeError(err)
		o.Error = &info
		o.Result = nil
		msg := info.Message
		if o.WorkflowID != "" && code == ExitFailed && !strings.Contains(msg, o.WorkflowID) {
			msg = o.WorkflowID + ": " + msg
		}
		fmt.Fprintf(r.Stderr, "error: %s\n", msg)
		if info.Type != "" {
			fmt.Fprintf(r.Stderr, "type: %s\n", info.Type)
		}
		if o.hint != "" {
			fmt.Fprintf(r.Stderr, "%s\n", o.hint)
		} else if code == ExitTimeout && o.WorkflowID != "" && o.RunID != "" {
			fmt.Fprintf(r.Stderr, "stopped waiting; the workflow keeps running: starter result --id %s\n", o.WorkflowID)
		}
	}
	if jsonMode {
		b, mErr := json.Marshal(o)
		if mErr != nil { // a result that is not valid JSON cannot happen: it came from json.RawMessage
			b, _ = json.Marshal(Output{WorkflowID: o.WorkflowID, Error: &ErrorInfo{Message: mErr.Error()}, ExitCode: ExitFailed})
			code = ExitFailed
		}
		fmt.Fprintf(r.Stdout, "%s\n", b)
		return code
	}
	if err != nil {
		return code
	}
	switch {
	case o.human != "":
		fmt.Fprint(r.Stdout, o.human)
	case o.Result != nil:
		var buf bytes.Buffer
		if json.Indent(&buf, o.Result, "", "  ") != nil {
			buf.Reset()
			buf.Write(o.Result)
		}
		buf.WriteByte('\n')
		_, _ = r.Stdout.Write(buf.Bytes())
	}
	return code
}

func (r *Runner) start(ctx context.Context, spec startSpec, args []string) int {
	fs := newFlagSet("starter " + spec.command)
	var (
		c                  commonFlags
		profile, input, id string
		wait               bool
	)
	fs.StringVar(&profile, "profile", "", "platform profile `NAME`, used when the input has no \"profile\"")
	fs.StringVar(&input, "input", "", "workflow input: inline `JSON`, @file.json, or - for stdin")
	idHelp := "workflow `ID` (default " + kebab(spec.workflowType) + "-<random>)"
	if spec.fixedID != nil {
		idHelp = "workflow `ID` (default " + spec.fixedID("<profile>") + ")"
	}
	fs.StringVar(&id, "id", "", idHelp)
	fs.BoolVar(&wait, "wait", false, "wait for the workflow's result and print it")
	c.register(fs, "give up after this `DURATION` (exit 4; default: none with --wait, 1m otherwise)")
	usage := func() string {
		return commandUsage("starter "+spec.command+" [flags]", spec.summary+" ("+spec.workflowType+").", fs, spec.example)
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}

	out := &Output{WorkflowType: spec.workflowType}
	raw, err := readInput(input, r.Stdin)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	obj, profile, warning, err := mergeInput(raw, profile)
	if err == nil {
		err = checkFields(obj, spec.newInput())
	}
	if err != nil {
		return r.finish(out, err, c.json)
	}
	if warning != "" {
		fmt.Fprintf(r.Stderr, "warning: %s\n", warning)
	}
	switch {
	case id != "":
	case spec.fixedID != nil:
		id = spec.fixedID(profile)
	case r.NewID != nil:
		id = r.NewID(spec.workflowType)
	default:
		id = DefaultID(spec.workflowType)
	}
	out.WorkflowID = id

	def := defaultTimeout
	if wait {
		def = 0
	}
	ctx, cancel := withTimeout(ctx, c.timeout, def)
	defer cancel()
	conn, cfg, err := r.connect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	out.TaskQueue = cfg.TaskQueue

	opts := client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true,
		Priority: contract.StartPriority(obj)}
	if spec.fixedID != nil {
		// One watch per profile: starting it again finds the running one.
		opts.WorkflowExecutionErrorWhenAlreadyStarted = false
		opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	}
	run, err := conn.Client.ExecuteWorkflow(ctx, opts, spec.workflowType, obj)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			err = usageErrorf("workflow ID %s is already running (run %s); wait for it with: starter result --id %s, or choose another --id", id, started.RunId, id)
		}
		return r.finish(out, err, c.json)
	}
	out.RunID = run.GetRunID()
	if !wait {
		out.human = fmt.Sprintf("started %s\n  workflow id: %s\n  run id:      %s\n  task queue:  %s\n  result:      starter result --id %s\n",
			spec.workflowType, id, out.RunID, cfg.TaskQueue, id)
		return r.finish(out, nil, c.json)
	}
	if !c.json {
		fmt.Fprintf(r.Stderr, "started %s %s (run %s); waiting for the result (Ctrl-C stops waiting, not the workflow)\n",
			spec.workflowType, id, out.RunID)
	}
	out.Result, err = r.await(ctx, conn, run, id, out.RunID, spec.progress && !c.json)
	return r.finish(out, err, c.json)
}

// await waits for run's result, printing progress to stderr when asked.
func (r *Runner) await(ctx context.Context, conn Conn, run client.WorkflowRun, id, runID string, progress bool) (json.RawMessage, error) {
	if progress {
		pctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { watchProgress(pctx, conn.Client, conn.DataConverter, id, runID, r.ProgressEvery, r.Stderr) })
		defer func() {
			stop()
			wg.Wait()
		}()
	}
	var raw json.RawMessage
	if err := run.Get(ctx, &raw); err != nil {
		if isWaitTimeout(ctx, err) {
			return nil, stoppedWaiting(ctx, err)
		}
		return nil, err
	}
	if raw == nil {
		raw = json.RawMessage("null")
	}
	return raw, nil
}

func (r *Runner) result(ctx context.Context, args []string) int {
	fs := newFlagSet("starter result")
	var (
		c         commonFlags
		id, runID string
	)
	fs.StringVar(&id, "id", "", "workflow `ID` to wait for (required)")
	fs.StringVar(&runID, "run-id", "", "run `ID` (default: the latest run, following continue-as-new)")
	c.register(fs, "give up after this `DURATION` (exit 4; default: none)")
	usage := func() string {
		return commandUsage("starter result --id ID [flags]", "Wait for a workflow and print its result.", fs, "starter result --id deploy-bot-k3x9q2m7b4ha")
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{WorkflowID: id, RunID: runID}
	if id == "" {
		return r.finish(out, usageErrorf("--id is required"), c.json)
	}
	ctx, cancel := withTimeout(ctx, c.timeout, 0)
	defer cancel()
	conn, _, err := r.connect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	run := conn.Client.GetWorkflow(ctx, id, runID)
	out.RunID = run.GetRunID()
	out.Result, err = r.await(ctx, conn, run, id, runID, !c.json)
	if isNotFound(err) {
		err = withCode(ExitUsage, fmt.Errorf("no workflow with ID %s: %w", id, err))
	}
	return r.finish(out, err, c.json)
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// isNoRecentPoller reports the server's answer to a query for a task queue
// that no worker has polled recently.
func isNoRecentPoller(err error) bool {
	var fp *serviceerror.FailedPrecondition
	return errors.As(err, &fp) && strings.Contains(fp.Message, "no poller seen")
}

// sessionKinds maps --kind to the session workflow type.
var sessionKinds = map[string]string{
	"aa":     contract.ControlRoomSessionWorkflow,
	"uipath": contract.OrchestratorSessionWorkflow,
}

func sessionUsage() string {
	return "Usage: starter session status|token|logout --profile NAME [--kind aa|uipath] [flags]\n\n" +
		"  status   query the session's status (no secrets)\n" +
		"  token    get a token valid for at least --min-validity; starts the session if none runs\n" +
		"           (Update-With-Start, as the activities do). The token is a secret: handle with care.\n" +
		"           Needs RPAFLOW_CODEC_KEY: the codec endpoint never opens sealed tokens.\n" +
		"  logout   end the session cleanly\n\n" +
		"Run 'starter session <action> --help' for the flags.\n\n" + exitCodesHelp
}

func (r *Runner) session(ctx context.Context, action string, args []string) int {
	fs := newFlagSet("starter session " + action)
	var (
		c                 commonFlags
		profile, kindName string
		minValidity       time.Duration
	)
	fs.StringVar(&profile, "profile", "", "platform profile `NAME` of the session (required)")
	fs.StringVar(&kindName, "kind", "aa", "session `KIND`: aa (ControlRoomSession) or uipath (OrchestratorSession)")
	if action == "token" {
		fs.DurationVar(&minValidity, "min-validity", 30*time.Second, "the token stays valid at least this `DURATION`")
	}
	c.register(fs, "give up after this `DURATION` (exit 4)")
	summaries := map[string]string{
		"status": "Query a session's status (expiry, generation, last refresh, failures; no secrets).",
		"token":  "Get a token valid for at least --min-validity, starting the session if none runs.\nThe token is printed on stdout: it is a secret.",
		"logout": "End a session cleanly (logs out of the platform).",
	}
	usage := func() string {
		return commandUsage("starter session "+action+" --profile NAME [flags]", summaries[action], fs,
			"starter session "+action+" --profile cr --kind aa")
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{}
	wfType, ok := sessionKinds[kindName]
	if !ok {
		return r.finish(out, usageErrorf("--kind %q: use aa (Automation Anywhere Control Room) or uipath (UiPath Orchestrator)", kindName), c.json)
	}
	out.WorkflowType = wfType
	if profile == "" {
		return r.finish(out, usageErrorf("--profile is required"), c.json)
	}
	if err := contract.ValidateProfile(profile); err != nil {
		return r.finish(out, withCode(ExitUsage, err), c.json)
	}
	if action == "token" && minValidity < 0 {
		return r.finish(out, usageErrorf("--min-validity must not be negative"), c.json)
	}
	out.WorkflowID = session.Ref{WorkflowType: wfType, Profile: profile}.ID()

	ctx, cancel := withTimeout(ctx, c.timeout, defaultTimeout)
	defer cancel()
	conn, cfg, err := r.connect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	out.TaskQueue = cfg.TaskQueue

	switch action {
	case "status":
		err = r.sessionStatus(ctx, conn, out)
	case "token":
		if cfg.Codec.Endpoint != "" {
			// Asking would start or renew a session only to receive a sealed answer.
			err = withCode(ExitUsage, errors.New("starter session token needs the worker-only key: platform tokens are sealed, and the codec endpoint (RPAFLOW_CODEC_ENDPOINT) never opens them; run it where the worker's RPAFLOW_CODEC_KEY (and RPAFLOW_SEAL_KEY, if the worker sets one) is set"))
			break
		}
		err = r.sessionToken(ctx, conn, out, profile, minValidity)
	case "logout":
		err = r.sessionLogout(ctx, conn, out)
	}
	if isWaitTimeout(ctx, err) {
		err = stoppedWaiting(ctx, err)
		out.hint = fmt.Sprintf("no answer from %s; is a worker polling task queue %q?", out.WorkflowID, cfg.TaskQueue)
	}
	return r.finish(out, err, c.json)
}

// noPollerRetry is how often a status query is sent again while the task
// queue has no live poller.
var noPollerRetry = time.Second

func (r *Runner) sessionStatus(ctx context.Context, conn Conn, out *Output) error {
	return r.queryStatus(ctx, conn, out, "no session %s (sessions start on first use, e.g. starter session token): %w")
}

// queryStatus runs the status query of out.WorkflowID into out.Result;
// notFound formats the error (with the ID and the cause) when there is no
// such workflow.
func (r *Runner) queryStatus(ctx context.Context, conn Conn, out *Output, notFound string) error {
	val, err := conn.Client.QueryWorkflow(ctx, out.WorkflowID, "", contract.QueryStatus)
	for isNoRecentPoller(err) {
		// Right after a worker dies the query goes to a queue no live worker
		// has polled yet; it clears when one does, so wait (up to --timeout).
		t := time.NewTimer(noPollerRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		val, err = conn.Client.QueryWorkflow(ctx, out.WorkflowID, "", contract.QueryStatus)
	}
	if isNotFound(err) {
		return withCode(ExitUsage, fmt.Errorf(notFound, out.WorkflowID, err))
	}
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := val.Get(&raw); err != nil {
		return err
	}
	out.Result = raw
	return nil
}

func (r *Runner) sessionToken(ctx context.Context, conn Conn, out *Output, profile string, minValidity time.Duration) error {
	if tok, ok := session.QueryToken(ctx, conn.Client, out.WorkflowID, minValidity); ok {
		raw, err := json.Marshal(tok) // the current token serves: read without writing history
		out.Result = raw
		return err
	}
	sessions := &session.Temporal{Client: conn.Client, TaskQueue: out.TaskQueue}
	handle, err := sessions.Update(ctx, session.Ref{WorkflowType: out.WorkflowType, Profile: profile},
		contract.UpdateToken, contract.TokenRequest{MinValidity: contract.Duration(minValidity)})
	if err != nil {
		return err
	}
	out.RunID = handle.RunID()
	var raw json.RawMessage
	if err := handle.Get(ctx, &raw); err != nil {
		return err
	}
	out.Result = raw
	return nil
}

func (r *Runner) sessionLogout(ctx context.Context, conn Conn, out *Output) error {
	handle, err := conn.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   out.WorkflowID,
		UpdateName:   contract.UpdateLogout,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if isNotFound(err) {
		return withCode(ExitUsage, fmt.Errorf("no running session %s: %w", out.WorkflowID, err))
	}
	if err != nil {
		return err
	}
	out.RunID = handle.RunID()
	if err := handle.Get(ctx, nil); err != nil {
		return err
	}
	out.Result = json.RawMessage("null")
	out.human = fmt.Sprintf("session %s logged out\n", out.WorkflowID)
	return nil
}

func poolUsage() string {
	return "Usage: starter pool status --profile NAME [--pool NAME] [flags]\n\n" +
		"  status   query a capacity pool's status: limit, effective limit, in use, waiting per\n" +
		"           priority and fairness key, oldest wait, counts (docs/capacity.md)\n\n" +
		"Run 'starter pool status --help' for the flags.\n\n" + exitCodesHelp
}

// pool runs starter pool status, the only action.
func (r *Runner) pool(ctx context.Context, _ string, args []string) int {
	fs := newFlagSet("starter pool status")
	var (
		c             commonFlags
		profile, pool string
	)
	fs.StringVar(&profile, "profile", "", "platform profile `NAME` the pool belongs to (required)")
	fs.StringVar(&pool, "pool", contract.PoolAPITask, "pool `NAME` as in RPAFLOW_<PROFILE>_POOLS")
	c.register(fs, "give up after this `DURATION` (exit 4)")
	usage := func() string {
		return commandUsage("starter pool status --profile NAME [--pool NAME] [flags]",
			"Query a capacity pool's status (no secrets).", fs, "starter pool status --profile cr --pool apitask")
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{WorkflowType: contract.PoolWorkflow}
	if err := (contract.PoolStatusInput{Profile: profile, Pool: pool}).Validate(); err != nil {
		return r.finish(out, withCode(ExitUsage, err), c.json)
	}
	out.WorkflowID = contract.PoolID(profile, pool)
	ctx, cancel := withTimeout(ctx, c.timeout, defaultTimeout)
	defer cancel()
	conn, cfg, err := r.connect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	out.TaskQueue = cfg.TaskQueue
	err = r.queryStatus(ctx, conn, out, "no pool %s (a pool starts with the first deployment that draws from it): %w")
	if isWaitTimeout(ctx, err) {
		err = stoppedWaiting(ctx, err)
		out.hint = fmt.Sprintf("no answer from %s; is a worker polling task queue %q?", out.WorkflowID, cfg.TaskQueue)
	}
	return r.finish(out, err, c.json)
}
