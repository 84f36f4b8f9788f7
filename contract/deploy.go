package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// DeployAPITaskInput runs one Automation Anywhere real-time API Task.
type DeployAPITaskInput struct {
	Profile           string `json:"profile"`
	BotRepositoryPath string `json:"botRepositoryPath"`
	// BotInput takes plain JSON values or AA typed values ({"type":"DATETIME","string":"..."}).
	BotInput map[string]json.RawMessage `json:"botInput,omitempty"`
	// Idempotent: the task may safely run twice, so a failure after the
	// request was sent (outcome unknown) is retried.
	Idempotent bool `json:"idempotent,omitempty"`
	// Admission orders the wait for a slot of the profile's apitask pool.
	Admission *Admission `json:"admission,omitempty"`
}

// DeployAPITaskResult is the task's output in plain and typed form.
type DeployAPITaskResult struct {
	BotOutput    map[string]any            `json:"botOutput"`
	RawBotOutput map[string]botvalue.Value `json:"rawBotOutput"`
}

// Validate checks the input and returns the typed bot input.
func (in DeployAPITaskInput) Validate() (map[string]botvalue.Value, error) {
	if err := ValidateProfile(in.Profile); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.BotRepositoryPath) == "" {
		return nil, InvalidInputError("botRepositoryPath", "is empty; give the API Task's repository path such as \"Automation Anywhere\\\\Bots\\\\Zip Code API Task\"")
	}
	if err := in.Admission.Validate(); err != nil {
		return nil, err
	}
	return parseBotInput(in.BotInput)
}

// DeployBotInput deploys an unattended bot, or an on-demand API Task when
// Headless is set, and waits for it.
type DeployBotInput struct {
	Profile        string                     `json:"profile"`
	BotID          int64                      `json:"botId"`
	RunAsUserIDs   []int64                    `json:"runAsUserIds,omitempty"`
	PoolIDs        []int64                    `json:"poolIds,omitempty"`
	BotInput       map[string]json.RawMessage `json:"botInput,omitempty"`
	Priority       string                     `json:"priority,omitempty"` // PRIORITY_LOW | PRIORITY_MEDIUM (default) | PRIORITY_HIGH
	AutomationName string                     `json:"automationName,omitempty"`
	Description    string                     `json:"description,omitempty"`
	Headless       *HeadlessInput             `json:"headless,omitempty"`
	// Timeout bounds the wait for a terminal status (default 24h); when it
	// passes, the execution is stopped at the Control Room.
	Timeout Duration `json:"timeout,omitempty"`
	// StopGrace is how long a stopped execution is watched for its final
	// status (default 2m).
	StopGrace Duration `json:"stopGrace,omitempty"`
	// Admission orders the wait for slots of a runner pool (one slot per
	// run-as user, or per headless execution).
	Admission *Admission `json:"admission,omitempty"`
}

// HeadlessInput asks for an on-demand API Task execution.
type HeadlessInput struct {
	NumberOfExecutions     int   `json:"numberOfExecutions,omitempty"` // default 1
	QueueOnSlotsExhaustion bool  `json:"queueOnSlotsExhaustion,omitempty"`
	SharedRunAsUserID      int64 `json:"sharedRunAsUserId,omitempty"`
}

// DeployBotResult is the deployment's terminal state.
type DeployBotResult struct {
	DeploymentID string                    `json:"deploymentId"`
	Status       string                    `json:"status"`
	Message      string                    `json:"message,omitempty"`
	BotOutput    map[string]any            `json:"botOutput"`
	RawBotOutput map[string]botvalue.Value `json:"rawBotOutput"`
	// Adopted: an earlier attempt deployed it and its answer was lost; a
	// retry found it by its automation name instead of deploying again.
	Adopted bool `json:"adopted,omitempty"`
}

// DeploymentCompleted is the Control Room status of a deployment that
// succeeded; DeployBot fails with RunFailed on any other terminal status
// (RUN_FAILED, RUN_ABORTED, RUN_TIMED_OUT, …) and reports it in Status.
const DeploymentCompleted = "COMPLETED"

// BotPriorities are the priorities a bot deployment accepts.
var BotPriorities = []string{"PRIORITY_LOW", "PRIORITY_MEDIUM", "PRIORITY_HIGH"}

// DefaultBotPriority is used when DeployBotInput.Priority is empty.
const DefaultBotPriority = "PRIORITY_MEDIUM"

// Validate checks the input and returns the typed bot input.
func (in DeployBotInput) Validate() (map[string]botvalue.Value, error) {
	if err := ValidateProfile(in.Profile); err != nil {
		return nil, err
	}
	if in.BotID <= 0 {
		return nil, InvalidInputError("botId", "must be the bot's file id in the Control Room repository (a positive number)")
	}
	if in.Headless == nil && len(in.RunAsUserIDs) == 0 {
		return nil, InvalidInputError("runAsUserIds", "is empty; give the ids of the Bot Runner users to run as (or \"headless\" for an on-demand API Task)")
	}
	if err := checkIDs("runAsUserIds", in.RunAsUserIDs); err != nil {
		return nil, err
	}
	if err := checkIDs("poolIds", in.PoolIDs); err != nil {
		return nil, err
	}
	if in.Priority != "" && !slices.Contains(BotPriorities, in.Priority) {
		return nil, InvalidInputError("priority", "%q is not one of %s", in.Priority, strings.Join(BotPriorities, ", "))
	}
	if in.Headless != nil && in.Headless.NumberOfExecutions < 0 {
		return nil, InvalidInputError("headless.numberOfExecutions", "must be 1 or more (default 1)")
	}
	if in.Timeout < 0 {
		return nil, InvalidInputError("timeout", "is negative; give a duration such as \"2h\" (default 24h)")
	}
	if err := checkStopGrace(in.StopGrace); err != nil {
		return nil, err
	}
	if err := in.Admission.Validate(); err != nil {
		return nil, err
	}
	return parseBotInput(in.BotInput)
}

// StartJobInput starts one job of an Orchestrator process and waits for it.
type StartJobInput struct {
	Profile        string         `json:"profile"`
	Folder         string         `json:"folder"`  // fully qualified name, e.g. "Shared" or "Finance/Invoices"
	Process        string         `json:"process"` // the process (release) name as Orchestrator shows it
	InputArguments map[string]any `json:"inputArguments,omitempty"`
	Priority       string         `json:"priority,omitempty"` // Low | Normal | High
	// Reference is the job's reference; without one, rpaflow sets a
	// reference derived from the workflow run and its start, by which a
	// retry finds a job whose start's answer was lost.
	Reference string `json:"reference,omitempty"`
	// Idempotent: starting the job twice is harmless, so an unknown outcome is retried.
	Idempotent bool     `json:"idempotent,omitempty"`
	Timeout    Duration `json:"timeout,omitempty"` // wait bound, default 24h; then the job is stopped
	// StopGrace is how long a SoftStop is given before the job is killed (default 2m).
	StopGrace Duration `json:"stopGrace,omitempty"`
	// Admission orders the wait for a slot of the folder's pool.
	Admission *Admission `json:"admission,omitempty"`
}

// StartJobResult is the job's terminal state.
type StartJobResult struct {
	ID              int64          `json:"jobId"`
	Key             string         `json:"jobKey"`
	State           string         `json:"state"` // Successful | Faulted | Stopped
	Info            string         `json:"info,omitempty"`
	OutputArguments map[string]any `json:"outputArguments,omitempty"`
	// Adopted: an earlier attempt started the job and its answer was lost;
	// a retry found it by its reference instead of starting another.
	Adopted bool `json:"adopted,omitempty"`
}

// JobSuccessful is the state of a job that succeeded; StartJob fails with
// RunFailed on Faulted or Stopped and reports the state in the result.
const JobSuccessful = "Successful"

// JobPriorities are the priorities jobs and queue items accept.
var JobPriorities = []string{"Low", "Normal", "High"}

// Validate checks the input.
func (in StartJobInput) Validate() error {
	if err := checkFolder(in.Profile, in.Folder); err != nil {
		return err
	}
	if strings.TrimSpace(in.Process) == "" {
		return InvalidInputError("process", "is empty; give the process (release) name as shown in Orchestrator")
	}
	if in.Timeout < 0 {
		return InvalidInputError("timeout", "is negative; give a duration such as \"2h\" (default 24h)")
	}
	if err := checkStopGrace(in.StopGrace); err != nil {
		return err
	}
	if err := in.Admission.Validate(); err != nil {
		return err
	}
	return checkJobPriority(in.Priority)
}

// AddQueueItemInput adds one item to an Orchestrator queue.
type AddQueueItemInput struct {
	Profile string `json:"profile"`
	Folder  string `json:"folder"`
	Queue   string `json:"queue"`
	// Reference names the item (a repeat on a unique-reference queue is
	// reported as duplicate); without one, rpaflow derives one from the
	// workflow, by which a retry finds an item whose add's answer was lost.
	Reference string `json:"reference,omitempty"`
	Priority  string `json:"priority,omitempty"` // Low | Normal | High
	// SpecificContent values are strings, numbers, booleans or null.
	SpecificContent map[string]any `json:"specificContent,omitempty"`
	DeferDate       *time.Time     `json:"deferDate,omitempty"`
	DueDate         *time.Time     `json:"dueDate,omitempty"`
	// Wait for the transaction to end: Successful returns its output, Failed
	// is RunFailed with the exception's reason and type (QueueItemFailure).
	Wait    bool     `json:"wait,omitempty"`
	Timeout Duration `json:"timeout,omitempty"` // wait bound, default 24h
}

// AddQueueItemResult is the added item, or the one already holding the reference.
type AddQueueItemResult struct {
	ID        int64  `json:"id,omitempty"`
	Key       string `json:"key,omitempty"`
	Status    string `json:"status"`
	Reference string `json:"reference,omitempty"`
	Duplicate bool   `json:"duplicate"`
	// With wait: the output of a Successful item (of its last retry, when retried).
	Output map[string]any `json:"output,omitempty"`
	// FinalID is the id of the item whose status is reported when the
	// added item was retried (its last retry).
	FinalID int64 `json:"finalId,omitempty"`
	// Adopted: an earlier attempt added the item and its answer was lost;
	// a retry found it by its reference instead of adding another.
	Adopted bool `json:"adopted,omitempty"`
}

// Validate checks the input.
func (in AddQueueItemInput) Validate() error {
	if err := checkFolder(in.Profile, in.Folder); err != nil {
		return err
	}
	if strings.TrimSpace(in.Queue) == "" {
		return InvalidInputError("queue", "is empty; give the queue name")
	}
	if err := checkJobPriority(in.Priority); err != nil {
		return err
	}
	if in.Timeout < 0 {
		return InvalidInputError("timeout", "is negative; give a duration such as \"1h\" (default 24h)")
	}
	if in.Timeout > 0 && !in.Wait {
		return InvalidInputError("timeout", "is set without \"wait\": true; add \"wait\": true or drop the timeout")
	}
	keys := make([]string, 0, len(in.SpecificContent))
	for k := range in.SpecificContent {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad key is reported, the same one every time
	for _, k := range keys {
		if v := in.SpecificContent[k]; v != nil && !scalar(reflect.TypeOf(v).Kind()) {
			return InvalidInputError("specificContent."+k,
				"must be a string, number, boolean or null; Orchestrator rejects nested objects and lists (serialize them to a JSON string)")
		}
	}
	return nil
}

// HubWatchInput tunes AutomationHubTokenWatch.
type HubWatchInput struct {
	Profile      string          `json:"profile"`
	Interval     Duration        `json:"interval,omitempty"` // default 24h
	WarnDays     int             `json:"warnDays,omitempty"` // default 14
	CyclesPerRun int             `json:"cyclesPerRun,omitempty"`
	Last         *HubWatchStatus `json:"last,omitempty"` // carried across continue-as-new
}

// HubWatchStatus is the answer of the watch's "status" query.
type HubWatchStatus struct {
	Profile      string    `json:"profile"`
	State        string    `json:"state"` // ok | expiring | expired | rejected | unavailable | starting
	Expires      time.Time `json:"expires,omitzero"`
	DaysToExpiry *float64  `json:"daysToExpiry,omitempty"`
	LastCheck    time.Time `json:"lastCheck,omitzero"`
	LastOK       time.Time `json:"lastOk,omitzero"`
	Message      string    `json:"message,omitempty"`
	Checks       int64     `json:"checks"`
}

// PollProgress is the heartbeat of a wait (a bot deployment or a job): it
// lets a restarted attempt resume where the last one was, and lets callers
// show status changes.
type PollProgress struct {
	Polls    int           `json:"polls"`
	Status   string        `json:"status"`
	Interval time.Duration `json:"interval"`
	Failures int           `json:"failures"`
	Since    time.Time     `json:"since"` // when Status was first seen
}

func checkStopGrace(d Duration) error {
	if d < 0 {
		return InvalidInputError("stopGrace", "is negative; give a duration such as \"2m\" (the default)")
	}
	if d.D() > 24*time.Hour {
		return InvalidInputError("stopGrace", "is %s; give at most 24h (default 2m)", d.D())
	}
	return nil
}

func checkIDs(field string, ids []int64) error {
	for i, id := range ids {
		if id <= 0 {
			return InvalidInputError(fmt.Sprintf("%s[%d]", field, i), "%d is not an id; ids are positive numbers", id)
		}
	}
	return nil
}

// scalar: Orchestrator stores specific content values as strings, numbers
// and booleans only.
func scalar(k reflect.Kind) bool {
	return k == reflect.String || k == reflect.Bool || k >= reflect.Int && k <= reflect.Float64
}

// ValidateProfile reports whether profile can be a profile's name (the
// rule the configuration applies), so inputs fail before any session is
// created: InvalidInput naming the "profile" field.
func ValidateProfile(profile string) error {
	if profile == "" {
		return InvalidInputError("profile", "is empty; give the name of a profile listed in RPAFLOW_PROFILES")
	}
	for i, r := range profile {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0) {
			return InvalidInputError("profile", "%q is not a profile name (lower-case letters, digits and '-'); use a name listed in RPAFLOW_PROFILES", profile)
		}
	}
	return nil
}

func checkFolder(profile, folder string) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	if strings.TrimSpace(folder) == "" {
		return InvalidInputError("folder", "is empty; give the folder's fully qualified name such as \"Shared\" or \"Finance/Invoices\"")
	}
	return nil
}

func checkJobPriority(p string) error {
	if p != "" && !slices.Contains(JobPriorities, p) {
		return InvalidInputError("priority", "%q is not one of %s", p, strings.Join(JobPriorities, ", "))
	}
	return nil
}

func parseBotInput(raw map[string]json.RawMessage) (map[string]botvalue.Value, error) {
	v, err := botvalue.ParseInput(raw)
	var fe *botvalue.FieldError
	if errors.As(err, &fe) {
		return nil, InvalidInputError(fe.Field, "%s", fe.Message)
	}
	return v, err
}
