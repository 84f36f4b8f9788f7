package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// StartJobInput starts one job of an Orchestrator process and waits for it.
type StartJobInput struct {
	Profile        string         `json:"profile"`
	Folder         string         `json:"folder"`
	Process        string         `json:"process"`
	InputArguments map[string]any `json:"inputArguments,omitempty"`
	Priority       string         `json:"priority,omitempty"` // Low | Normal | High
	Reference      string         `json:"reference,omitempty"`
	// Idempotent: starting the job twice is harmless, so an unknown outcome is retried.
	Idempotent bool              `json:"idempotent,omitempty"`
	Timeout    contract.Duration `json:"timeout,omitempty"` // wait bound, default 24h
}

// StartJobResult is the job's terminal state.
type StartJobResult = activities.JobResult

var jobPriorities = []string{"Low", "Normal", "High"}

// StartJob resolves folder and release, starts the job (once unless
// idempotent) and waits for Successful, Faulted or Stopped.
func StartJob(ctx workflow.Context, in StartJobInput) (_ StartJobResult, err error) {
	defer observeDeployment(ctx, contract.StartJobWorkflow, in.Profile, workflow.Now(ctx))(&err)
	if err := checkFolderInput(in.Profile, in.Folder); err != nil {
		return StartJobResult{}, err
	}
	if strings.TrimSpace(in.Process) == "" {
		return StartJobResult{}, invalidInput("process", "is empty; give the process (release) name as shown in Orchestrator")
	}
	if in.Priority != "" && !contains(jobPriorities, in.Priority) {
		return StartJobResult{}, invalidInput("priority", "%q is not one of %s", in.Priority, strings.Join(jobPriorities, ", "))
	}
	startCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retryPolicy(in.Idempotent, 8),
	})
	var ref activities.JobRef
	err = workflow.ExecuteActivity(startCtx, orch.OrchStartJob, activities.StartJobInput{Profile: in.Profile, Folder: in.Folder,
		Process: in.Process, InputArguments: in.InputArguments, Priority: in.Priority, Reference: in.Reference,
		Idempotent: in.Idempotent}).Get(ctx, &ref)
	if err != nil {
		return StartJobResult{}, err
	}
	workflow.GetLogger(ctx).Info("job started", "jobId", ref.ID, "jobKey", ref.Key)
	var res activities.JobResult
	if err := workflow.ExecuteActivity(waitOptions(ctx, in.Timeout.D()), orch.OrchWaitJob,
		activities.WaitJobInput{Profile: in.Profile, Job: ref}).Get(ctx, &res); err != nil {
		return StartJobResult{ID: ref.ID, Key: ref.Key}, err
	}
	if res.State != "Successful" {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("job %d ended %s: %s", res.ID, res.State, res.Info), contract.ErrRunFailed, nil, res)
	}
	return res, nil
}

// AddQueueItemInput adds one item to an Orchestrator queue. It is what the
// activity takes: the workflow only validates it first.
type AddQueueItemInput = activities.QueueItemInput

// AddQueueItemResult is the added item, or the one already holding the reference.
type AddQueueItemResult = activities.QueueItemResult

// AddQueueItem adds a queue item. With a reference, retries are safe (a
// repeat is answered 409 and reported as duplicate); without one, an unknown
// outcome is not retried.
func AddQueueItem(ctx workflow.Context, in AddQueueItemInput) (AddQueueItemResult, error) {
	if err := checkFolderInput(in.Profile, in.Folder); err != nil {
		return AddQueueItemResult{}, err
	}
	if strings.TrimSpace(in.Queue) == "" {
		return AddQueueItemResult{}, invalidInput("queue", "is empty; give the queue name")
	}
	if in.Priority != "" && !contains(jobPriorities, in.Priority) {
		return AddQueueItemResult{}, invalidInput("priority", "%q is not one of %s", in.Priority, strings.Join(jobPriorities, ", "))
	}
	for _, k := range sortedKeys(in.SpecificContent) {
		switch in.SpecificContent[k].(type) {
		case string, float64, bool, nil:
		default:
			return AddQueueItemResult{}, invalidInput("specificContent."+k,
				"must be a string, number, boolean or null; Orchestrator rejects nested objects and lists (serialize them to a JSON string)")
		}
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retryPolicy(in.Reference != "", 8),
	})
	var res activities.QueueItemResult
	err := workflow.ExecuteActivity(ctx, orch.OrchAddQueueItem, in).Get(ctx, &res)
	return res, err
}

func checkFolderInput(profile, folder string) error {
	if err := contract.CheckProfileName(profile); err != nil {
		return invalidInput("profile", "%s", strings.TrimPrefix(err.Error(), "profile "))
	}
	if strings.TrimSpace(folder) == "" {
		return invalidInput("folder", "is empty; give the folder's fully qualified name such as \"Shared\" or \"Finance/Invoices\"")
	}
	return nil
}
