package workflows

import (
	"testing"

	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// The test environment ignores a start's memo, so the probe writes it
// (the integration suite checks what the Nexus handler writes).
func TestNexusCaller(t *testing.T) {
	probe := func(ctx workflow.Context, memo map[string]any) (string, error) {
		if err := workflow.UpsertMemo(ctx, memo); err != nil {
			return "", err
		}
		return NexusCaller(ctx), nil
	}
	for want, memo := range map[string]map[string]any{
		"rpaflow-orders": {contract.NexusQueueMemo + "rpaflow-orders": true, "other": "x"},
		"":               {"other": "x"},
	} {
		env := newEnv(t)
		env.RegisterWorkflowWithOptions(probe, workflow.RegisterOptions{Name: "probe"})
		env.ExecuteWorkflow("probe", memo)
		var got string
		if err := env.GetWorkflowResult(&got); err != nil || got != want {
			t.Errorf("memo %v: NexusCaller = %q, %v; want %q", memo, got, err, want)
		}
	}
}
