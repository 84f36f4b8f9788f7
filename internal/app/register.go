package app

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/workflows"
)

// Deps are what the activities need.
type Deps struct {
	Registry *activities.Registry
	Sessions activities.Sessions
	Budget   *activities.Budget
}

// Register registers every rpaflow workflow (under its contract name) and activity on w.
func Register(w worker.Registry, d Deps) {
	for name, fn := range map[string]any{
		contract.ControlRoomSessionWorkflow:      workflows.ControlRoomSession,
		contract.DeployAPITaskWorkflow:           workflows.DeployAPITask,
		contract.DeployBotWorkflow:               workflows.DeployBot,
		contract.OrchestratorSessionWorkflow:     workflows.OrchestratorSession,
		contract.StartJobWorkflow:                workflows.StartJob,
		contract.AddQueueItemWorkflow:            workflows.AddQueueItem,
		contract.AddWorkItemWorkflow:             workflows.AddWorkItem,
		contract.AutomationHubTokenWatchWorkflow: workflows.AutomationHubTokenWatch,
	} {
		w.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
	w.RegisterActivityWithOptions(&activities.ControlRoom{Registry: d.Registry, Sessions: d.Sessions, Budget: d.Budget}, activity.RegisterOptions{})
	w.RegisterActivityWithOptions(&activities.Orchestrator{Registry: d.Registry, Sessions: d.Sessions, Budget: d.Budget}, activity.RegisterOptions{})
	w.RegisterActivityWithOptions(&activities.AutomationHub{Registry: d.Registry}, activity.RegisterOptions{})
}
