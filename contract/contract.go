// Package contract is rpaflow's public API: the workflow, update, query and
// Nexus names users type, the typed inputs and results of every workflow and
// operation, and the error types callers branch on. A Temporal application
// that runs rpaflow deployments as steps of its own workflows imports this
// package alone: it depends on the standard library and the Temporal SDK,
// never on rpaflow's HTTP clients, providers or activities. Workflows,
// activities and the starter use these same types, so nothing is defined
// twice.
package contract

import ()

// DefaultTaskQueue is the task queue when RPAFLOW_TASK_QUEUE is not set.
const DefaultTaskQueue = "rpaflow"

// Workflow types.
const (
	ControlRoomSessionWorkflow      = "ControlRoomSession"
	DeployAPITaskWorkflow           = "DeployAPITask"
	DeployBotWorkflow               = "DeployBot"
	OrchestratorSessionWorkflow     = "OrchestratorSession"
	StartJobWorkflow                = "StartJob"
	AddQueueItemWorkflow            = "AddQueueItem"
	AddWorkItemWorkflow             = "AddWorkItem"
	AutomationHubTokenWatchWorkflow = "AutomationHubTokenWatch"
)

// Session update and query names.
const (
	UpdateToken         = "token"
	UpdateAccessDetails = "accessDetails"
	UpdateInvalidate    = "invalidate"
	UpdateLogout        = "logout"
	QueryStatus         = "status"
	// QueryToken answers with the current token without writing history;
	// readers use it when the token already satisfies them and fall back
	// to the "token" update (which renews) when it does not.
	QueryToken = "token"
)

// AASessionID is the workflow ID of the Control Room session for profile.
func AASessionID(profile string) string { return "aa-session:" + profile }

// OrchestratorSessionID is the workflow ID of the Orchestrator session for profile.
func OrchestratorSessionID(profile string) string { return "uipath-session:" + profile }

// HubWatchID is the workflow ID of the Automation Hub token watch for profile.
func HubWatchID(profile string) string { return "hub-watch:" + profile }
