package orchestrator

import (
	"context"
	"net/http"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// Stop strategies of StopJobs.
const (
	SoftStop = "SoftStop" // the robot is asked to stop at its next check (job → Stopping)
	Kill     = "Kill"     // the robot process is terminated (job → Terminating)
)

// StopJobs asks Orchestrator to stop jobs ids in folder f. It is answered
// without content; the caller reads the jobs to learn the outcome. Repeating
// it is harmless.
func (c *Client) StopJobs(ctx context.Context, token string, f Folder, strategy string, ids ...int64) error {
	if strategy != SoftStop && strategy != Kill {
		return apierror.Invalid("strategy", "is %q; use SoftStop or Kill", strategy)
	}
	if len(ids) == 0 {
		return apierror.Invalid("jobIds", "is empty; give the Ids of the jobs to stop")
	}
	for _, id := range ids {
		if id <= 0 {
			return apierror.Invalid("jobIds", "holds %d; give the Ids StartJob returned", id)
		}
	}
	h, err := bearer(token)
	if err != nil {
		return err
	}
	if err := folderHeader(h, f); err != nil {
		return err
	}
	_, err = c.caller.JSON(ctx, "stopJobs", http.MethodPost,
		c.orchURL+"/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs", h,
		map[string]any{"strategy": strategy, "jobIds": ids}, nil)
	return err
}

// JobsByReference lists the jobs in folder f started with reference (at
// most 50): how a start whose answer was lost is found.
func (c *Client) JobsByReference(ctx context.Context, token string, f Folder, reference string) ([]Job, error) {
	if strings.TrimSpace(reference) == "" {
		return nil, apierror.Invalid("reference", "is empty; only jobs started with a reference can be looked up")
	}
	return c.listJobs(ctx, "jobsByReference", token, f, "Reference eq "+odataLiteral(reference), MaxJobsPerRead)
}

// IsStoppingState reports whether a job is on its way to Stopped after a
// stop request.
func IsStoppingState(s string) bool { return s == "Stopping" || s == "Terminating" }
