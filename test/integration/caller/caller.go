// Package caller is another team's Temporal application as the tests play
// it: workflows that make rpaflow deployments steps of their own, through
// rpaflow's Nexus endpoint or as child workflows. It imports rpaflow's
// public contract and the Temporal SDK, nothing else (TestImports).
package caller

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// Outcome is how a step ended, as the caller's workflow sees it.
type Outcome struct {
	APITask   *contract.DeployAPITaskResult `json:"apiTask,omitempty"`
	Job       *contract.StartJobResult      `json:"job,omitempty"`
	Bot       *contract.DeployBotResult     `json:"bot,omitempty"`
	QueueItem *contract.AddQueueItemResult  `json:"queueItem,omitempty"`
	WorkItem  *contract.AddWorkItemResult   `json:"workItem,omitempty"`
	Session   *contract.SessionStatus       `json:"session,omitempty"`
	Pool      *contract.PoolStatus          `json:"pool,omitempty"`
	ErrorType contract.ErrorType            `json:"errorType,omitempty"`
	Field     string                        `json:"field,omitempty"`
	Message   string                        `json:"message,omitempty"`
	// FailedJob is the job's final state carried by a RunFailed error.
	FailedJob *contract.StartJobResult `json:"failedJob,omitempty"`
}

// Step is one rpaflow operation to run; exactly one input is set.
type Step struct {
	Endpoint  string                       `json:"endpoint"`
	APITask   *contract.DeployAPITaskInput `json:"apiTask,omitempty"`
	Job       *contract.StartJobInput      `json:"job,omitempty"`
	Bot       *contract.DeployBotInput     `json:"bot,omitempty"`
	QueueItem *contract.AddQueueItemInput  `json:"queueItem,omitempty"`
	WorkItem  *contract.AddWorkItemInput   `json:"workItem,omitempty"`
	Session   *contract.SessionStatusInput `json:"session,omitempty"`
	Pool      *contract.PoolStatusInput    `json:"pool,omitempty"`
}

// NexusStep runs step through the Nexus endpoint and reports the outcome;
// rpaflow's failures become an Outcome with their error type, so the test
// can check what a caller can branch on.
func NexusStep(ctx workflow.Context, step Step) (Outcome, error) {
	c := workflow.NewNexusClient(step.Endpoint, contract.NexusService)
	opts := workflow.NexusOperationOptions{ScheduleToCloseTimeout: 10 * time.Minute}
	var out Outcome
	var err error
	switch {
	case step.APITask != nil:
		out.APITask = new(contract.DeployAPITaskResult)
		err = c.ExecuteOperation(ctx, contract.DeployAPITaskOperation, *step.APITask, opts).Get(ctx, out.APITask)
	case step.Job != nil:
		out.Job = new(contract.StartJobResult)
		err = c.ExecuteOperation(ctx, contract.StartJobOperation, *step.Job, opts).Get(ctx, out.Job)
	case step.Bot != nil:
		out.Bot = new(contract.DeployBotResult)
		err = c.ExecuteOperation(ctx, contract.DeployBotOperation, *step.Bot, opts).Get(ctx, out.Bot)
	case step.QueueItem != nil:
		out.QueueItem = new(contract.AddQueueItemResult)
		err = c.ExecuteOperation(ctx, contract.AddQueueItemOperation, *step.QueueItem, opts).Get(ctx, out.QueueItem)
	case step.WorkItem != nil:
		out.WorkItem = new(contract.AddWorkItemResult)
		err = c.ExecuteOperation(ctx, contract.AddWorkItemOperation, *step.WorkItem, opts).Get(ctx, out.WorkItem)
	case step.Session != nil:
		out.Session = new(contract.SessionStatus)
		err = c.ExecuteOperation(ctx, contract.SessionStatusOperation, *step.Session, opts).Get(ctx, out.Session)
	case step.Pool != nil:
		out.Pool = new(contract.PoolStatus)
		err = c.ExecuteOperation(ctx, contract.PoolStatusOperation, *step.Pool, opts).Get(ctx, out.Pool)
	}
	return describe(out, err)
}

// ChildSteps runs an API Task and then a job as child workflows of the
// caller, by the workflow type names rpaflow registered (prefix included).
func ChildSteps(ctx workflow.Context, prefix string, task contract.DeployAPITaskInput, job contract.StartJobInput) ([]Outcome, error) {
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowExecutionTimeout: 10 * time.Minute})
	var first Outcome
	first.APITask = new(contract.DeployAPITaskResult)
	err := workflow.ExecuteChildWorkflow(ctx, prefix+contract.DeployAPITaskWorkflow, task).Get(ctx, first.APITask)
	if first, err = describe(first, err); err != nil {
		return nil, err
	}
	var second Outcome
	second.Job = new(contract.StartJobResult)
	err = workflow.ExecuteChildWorkflow(ctx, prefix+contract.StartJobWorkflow, job).Get(ctx, second.Job)
	if second, err = describe(second, err); err != nil {
		return nil, err
	}
	return []Outcome{first, second}, nil
}

// StartJob is the host's own workflow called StartJob: with a name prefix
// rpaflow's StartJob does not collide with it.
func StartJob(ctx workflow.Context, name string) (string, error) {
	return "host job " + name, nil
}

// describe turns a typed rpaflow failure into an outcome; anything else
// stays an error.
func describe(out Outcome, err error) (Outcome, error) {
	if err == nil {
		return out, nil
	}
	t := contract.TypeOf(err)
	if t == "" {
		return out, err
	}
	res := Outcome{ErrorType: t, Message: err.Error()}
	if info, ok := contract.InfoOf(err); ok {
		res.Field = info.Field
	}
	for e := err; e != nil && t == contract.ErrRunFailed; e = errors.Unwrap(e) {
		var job contract.StartJobResult
		if a, ok := e.(*temporal.ApplicationError); ok && a.Type() == string(t) && a.Details(&job) == nil && job.ID != 0 {
			res.FailedJob = &job
		}
	}
	return res, nil
}

// ChildAPITask runs one API Task as a child workflow: the child-workflow
// twin of NexusStep for the benchmark.
func ChildAPITask(ctx workflow.Context, prefix string, task contract.DeployAPITaskInput) (contract.DeployAPITaskResult, error) {
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowExecutionTimeout: 10 * time.Minute})
	var out contract.DeployAPITaskResult
	err := workflow.ExecuteChildWorkflow(ctx, prefix+contract.DeployAPITaskWorkflow, task).Get(ctx, &out)
	return out, err
}
