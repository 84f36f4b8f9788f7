package contract

import "github.com/nexus-rpc/sdk-go/nexus"

// NexusService is the name of rpaflow's Nexus service. Callers in any
// namespace reach it through a Nexus endpoint that targets rpaflow's
// namespace and task queue.
const NexusService = "rpaflow"

// Nexus operation names.
const (
	OpDeployAPITask = "deployApiTask"
	OpDeployBot     = "deployBot"
	OpStartJob      = "startJob"
	OpAddQueueItem  = "addQueueItem"
	OpAddWorkItem   = "addWorkItem"
	OpSessionStatus = "sessionStatus"
	OpPoolStatus    = "poolStatus"
)

// Typed operation references for workflow.NewNexusClient(endpoint,
// NexusService).ExecuteOperation. The deployment operations run the
// workflow of the same name and end with its result or its failure (the
// error types of this package); cancelling the operation cancels the
// deployment. sessionStatus answers at once and never holds a token;
// poolStatus answers with a capacity pool's status query, listing the
// waiting counts of the caller's own fairness keys only.
var (
	DeployAPITaskOperation = nexus.NewOperationReference[DeployAPITaskInput, DeployAPITaskResult](OpDeployAPITask)
	DeployBotOperation     = nexus.NewOperationReference[DeployBotInput, DeployBotResult](OpDeployBot)
	StartJobOperation      = nexus.NewOperationReference[StartJobInput, StartJobResult](OpStartJob)
	AddQueueItemOperation  = nexus.NewOperationReference[AddQueueItemInput, AddQueueItemResult](OpAddQueueItem)
	AddWorkItemOperation   = nexus.NewOperationReference[AddWorkItemInput, AddWorkItemResult](OpAddWorkItem)
	SessionStatusOperation = nexus.NewOperationReference[SessionStatusInput, SessionStatus](OpSessionStatus)
	PoolStatusOperation    = nexus.NewOperationReference[PoolStatusInput, PoolStatus](OpPoolStatus)
)

// SessionStatusInput names the profile whose session status is asked for
// (a Control Room or Orchestrator profile).
type SessionStatusInput struct {
	Profile string `json:"profile"`
}

// Validate checks the input.
func (in SessionStatusInput) Validate() error { return ValidateProfile(in.Profile) }

// NexusWorkflowIDPrefix starts the ID of every workflow a Nexus operation
// starts: nexus:<task queue>:<operation>:<request id>. The task queue is
// the one the caller's endpoint targets, so a retried start request finds
// the deployment it already started, and callers of different endpoints
// never attach to each other's runs. A host that gives rpaflow an ID
// prefix puts it in front.
const NexusWorkflowIDPrefix = "nexus:"

// NexusWorkflowID is the workflow ID of operation's request requestID
// arriving on taskQueue.
func NexusWorkflowID(taskQueue, operation, requestID string) string {
	return NexusWorkflowIDPrefix + taskQueue + ":" + operation + ":" + requestID
}

// NexusQueueMemo starts the memo key in which a workflow started by a
// Nexus operation finds the task queue of the endpoint its caller came
// through: rpaflowNexusQueue:<task queue>. The queue is in the key because
// keys are never encoded: a workflow reads it without the payload codec
// (whose key may be the Nexus boundary key). rpaflow's handler sets it;
// operation inputs cannot.
const NexusQueueMemo = "rpaflowNexusQueue:"
