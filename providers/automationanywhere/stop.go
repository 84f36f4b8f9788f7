package automationanywhere

import (
	"context"
	"net/http"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// StopExecution asks the Control Room to stop a running execution, named by
// its activity entry's id (Activity.ID, not the deployment id). The answer
// has no documented body, so only the status counts. Stopping is safe to
// repeat; the caller reads the activity again to learn the outcome.
func (c *Client) StopExecution(ctx context.Context, token, executionID string) error {
	if strings.TrimSpace(executionID) == "" {
		return apierror.Invalid("executionId", "is empty; give the activity entry's id (read it with DeploymentActivity)")
	}
	body := map[string]any{"stop_executions": map[string]any{"execution_ids": []string{executionID}}}
	return c.call(ctx, "stopExecution", http.MethodPost, c.base+"/v3/activity/manage", token, body, nil)
}

// IsRunning reports whether a non-terminal deployment is still doing work
// (or about to), i.e. worth stopping.
func IsRunning(status string) bool { return status != "" && !IsTerminal(status) }
