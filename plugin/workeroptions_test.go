package plugin

import (
	"reflect"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
)

// WorkerOptions sets the workflow poller floor and keeps the host's options.
func TestWorkerOptionsKeepsTheHostsOptions(t *testing.T) {
	o := WorkerOptions(worker.Options{WorkerStopTimeout: 7 * time.Second})
	if o.WorkerStopTimeout != 7*time.Second {
		t.Errorf("WorkerStopTimeout = %s, want the host's 7s", o.WorkerStopTimeout)
	}
	want := worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{
		InitialNumberOfPollers: MinWorkflowPollers, MinimumNumberOfPollers: MinWorkflowPollers})
	if !reflect.DeepEqual(o.WorkflowTaskPollerBehavior, want) {
		t.Errorf("workflow pollers %#v, want autoscaling from %d", o.WorkflowTaskPollerBehavior, MinWorkflowPollers)
	}
}
