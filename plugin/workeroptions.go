package plugin

import "go.temporal.io/sdk/worker"

// MinWorkflowPollers is the floor WorkerOptions gives the workflow pollers'
// autoscaling. Session renewals arrive in bursts on each worker's sticky
// queue: pollers scaled down between bursts leave renewals waiting in
// matching, while an idle long poll costs the server almost nothing.
const MinWorkflowPollers = 10

// WorkerOptions returns o with what rpaflow's workflows need from the
// worker they run on: workflow pollers that autoscale from a floor of
// MinWorkflowPollers. Pass the options of every worker the plugin serves:
//
//	w := worker.New(c, "orders", plugin.WorkerOptions(worker.Options{}))
func WorkerOptions(o worker.Options) worker.Options {
	o.WorkflowTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{
		InitialNumberOfPollers: MinWorkflowPollers, MinimumNumberOfPollers: MinWorkflowPollers})
	return o
}
