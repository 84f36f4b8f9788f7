// Package workflows holds rpaflow's Temporal workflows: the session
// workflows that keep a platform credential fresh (ControlRoomSession,
// OrchestratorSession), the token watch (AutomationHubTokenWatch), the
// deployments that use them (DeployAPITask, DeployBot, StartJob,
// AddQueueItem, AddWorkItem), what paces the deployments (CapacityPool,
// TenantBudget) and what joins a platform's notice that a run ended with
// the deployment waiting on it (RunEvents, and RunEventsIntake for events
// that come in a burst).
//
// Workflow code is deterministic: no I/O, no time.Now, no goroutines, no
// map iteration order. It imports package contract (inputs, results, error
// types), the Temporal SDK, and package activities only to name activities
// through typed nil pointers and to share their payload types; never a
// provider directly. Callers start these workflows by
// the names in package contract; rpaflow's plugin registers them.
//
// Changes that alter the commands a running workflow issues are gated with
// workflow.GetVersion; testdata holds recorded histories that the replay
// tests run on every change.
package workflows
