package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// observeDeployment counts a deployment workflow's outcome and records its
// duration in workflow time. Use it as
//
//	defer observeDeployment(ctx, contract.X, in.Profile, workflow.Now(ctx))(&err)
//
// workflow.GetMetricsHandler drops metrics while replaying, so each run is
// counted once however often its history is replayed.
func observeDeployment(ctx workflow.Context, workflowType, profile string, start time.Time) func(*error) {
	return func(errp *error) {
		var err error
		if errp != nil {
			err = *errp
		}
		tags := map[string]string{"workflow_type": workflowType, "profile": profile, "outcome": "success"}
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
		case temporal.IsCanceledError(err):
			tags["outcome"] = "canceled"
		default:
			tags["outcome"] = "failure"
			tags["error_type"] = "other"
			if errors.As(err, &appErr) && appErr.Type() != "" {
				tags["error_type"] = appErr.Type()
			}
		}
		h := workflow.GetMetricsHandler(ctx).WithTags(tags)
		h.Counter("rpaflow_deployments").Inc(1)
		h.Timer("rpaflow_deployment_duration").Record(workflow.Now(ctx).Sub(start))
	}
}
