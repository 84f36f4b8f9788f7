package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
)

// watchProgress prints the heartbeat of the workflow's pending activities
// (contract.PollProgress, as status waits record it) to w whenever it
// changes, until ctx ends. Describe errors are ignored: progress is a
// courtesy, the result is what counts.
func watchProgress(ctx context.Context, c Client, dc converter.DataConverter, workflowID, runID string, every time.Duration, w io.Writer) {
	if every <= 0 {
		every = 2 * time.Second
	}
	last := map[string]string{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if desc, err := c.DescribeWorkflowExecution(ctx, workflowID, runID); err == nil {
			for _, line := range progressLines(desc, dc, last) {
				fmt.Fprintln(w, line)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// progressLines returns the lines to print for desc: one per pending
// activity whose decoded progress differs from what last holds (updated).
func progressLines(desc *workflowservice.DescribeWorkflowExecutionResponse, dc converter.DataConverter, last map[string]string) []string {
	var out []string
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetHeartbeatDetails() == nil {
			continue
		}
		var p contract.PollProgress
		if err := dc.FromPayloads(pa.GetHeartbeatDetails(), &p); err != nil || p.Polls == 0 {
			continue // not a status wait's heartbeat, or not readable with this codec
		}
		line := formatProgress(p, pa.GetAttempt())
		if last[pa.GetActivityId()] == line {
			continue
		}
		last[pa.GetActivityId()] = line
		out = append(out, line)
	}
	return out
}

func formatProgress(p contract.PollProgress, attempt int32) string {
	status := p.Status
	if status == "" {
		status = "unknown"
	}
	extra := []string{fmt.Sprintf("poll %d", p.Polls)}
	if p.Failures > 0 {
		extra = append(extra, fmt.Sprintf("%d failed", p.Failures))
	}
	if attempt > 1 {
		extra = append(extra, fmt.Sprintf("attempt %d", attempt))
	}
	return fmt.Sprintf("status: %s (%s)", status, strings.Join(extra, ", "))
}
