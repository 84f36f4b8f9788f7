package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
)

// A start (job, queue item, deployment, work item, API Task execution) must
// not happen twice when an attempt's completion is lost: the platform did
// the work, Temporal never heard, and the next attempt runs. Where the
// platform stores a key, the start carries contract.StartKey and a retry
// looks it up and adopts what it finds. Where it stores none, the attempt
// records a "sent" mark that the Temporal server has acknowledged before
// it sends, and a retry that finds the mark does not send again.

// Marks stores an attempt's mark where the next attempt of the same
// activity reads it (its heartbeat details) and returns only once the
// Temporal server has it.
type Marks interface {
	Mark(ctx context.Context, details any) error
}

// ServerMarks heartbeats through the worker's client: unlike
// activity.RecordHeartbeat, which may hold the details back to throttle
// and never reports a failure, the call returns when the server has
// stored them, or an error.
type ServerMarks struct{}

// markTimeout bounds one acknowledged mark.
const markTimeout = 15 * time.Second

// Mark implements Marks.
func (ServerMarks) Mark(ctx context.Context, details any) error {
	info := activity.GetInfo(ctx)
	c := activity.GetClient(ctx)
	if c == nil {
		return fmt.Errorf("no Temporal client in the activity's context")
	}
	ctx, cancel := context.WithTimeout(ctx, markTimeout)
	defer cancel()
	o := client.RecordActivityHeartbeatOptions{TaskToken: info.TaskToken, Details: []any{details},
		WorkflowID: info.WorkflowExecution.ID, ActivityType: info.ActivityType.Name, TaskQueue: info.TaskQueue}
	if info.WorkflowType != nil {
		o.WorkflowType = info.WorkflowType.Name
	}
	return c.RecordActivityHeartbeatWithOptions(ctx, o)
}

// sentMark is the heartbeat of an activity that sends one non-idempotent
// request: once Sent is stored, a later attempt knows the request may have
// reached the platform, and when.
type sentMark struct {
	Sent bool      `json:"sent"`
	At   time.Time `json:"at,omitzero"`
}

// earlierMark returns the mark an earlier attempt left, if any.
func earlierMark(ctx context.Context) (sentMark, bool) {
	if activity.GetInfo(ctx).Attempt <= 1 || !activity.HasHeartbeatDetails(ctx) {
		return sentMark{}, false
	}
	var m sentMark
	if activity.GetHeartbeatDetails(ctx, &m) != nil || !m.Sent {
		return sentMark{}, false
	}
	return m, true
}

// markSent stores the "sent" mark and returns it; on an error nothing may
// be sent (the mark is not known to be stored), and the error is retryable.
func markSent(ctx context.Context, marks Marks) (sentMark, error) {
	if marks == nil {
		marks = ServerMarks{}
	}
	m := sentMark{Sent: true, At: time.Now().UTC().Truncate(time.Millisecond)}
	if err := marks.Mark(ctx, m); err != nil {
		return m, unavailable("the Temporal server did not confirm the attempt's \"sent\" mark (" + err.Error() +
			"), so the request was not sent; the activity is retried")
	}
	return m, nil
}

// clearMark records that the request provably did not run (the platform
// refused it), so a retry may send it. The SDK's own heartbeat carries it
// too, so a heartbeat it holds back cannot restore the old mark later.
func clearMark(ctx context.Context, marks Marks) {
	if marks == nil {
		marks = ServerMarks{}
	}
	activity.RecordHeartbeat(ctx, sentMark{})
	if err := marks.Mark(ctx, sentMark{}); err != nil {
		activity.GetLogger(ctx).Warn("could not clear the attempt's \"sent\" mark; a retry will end Ambiguous", "error", err)
	}
}

// startKey is this activity's key on the platform.
func startKey(ctx context.Context) contract.StartKey {
	info := activity.GetInfo(ctx)
	return contract.StartKey{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, ActivityID: info.ActivityID}
}

// adopted tells the log and the rpaflow_starts_adopted counter that this
// attempt found what an earlier one started.
func adopted(ctx context.Context, start, profile, what string, keyvals ...any) {
	attempt := activity.GetInfo(ctx).Attempt
	activity.GetLogger(ctx).Info(fmt.Sprintf("attempt %d found the %s an earlier attempt started (its answer was lost); adopting it, not starting another", attempt, what),
		append([]any{"start", start, "profile", profile, "attempt", attempt}, keyvals...)...)
	activity.GetMetricsHandler(ctx).WithTags(map[string]string{"start": start, "profile": profile}).Counter("rpaflow_starts_adopted").Inc(1)
}

// ambiguousRetry is the error of an attempt that finds an earlier
// attempt's "sent" mark where the platform has nothing to look the start
// up by: only a person can tell whether it happened.
func ambiguousRetry(ctx context.Context, m sentMark, platform, op, what, check string) error {
	info := activity.GetInfo(ctx)
	when, ei := "at an unknown time", contract.ErrorInfo{Platform: platform, Op: op}
	if at := m.At; !at.IsZero() {
		when, ei.SentAt = "at "+at.Format(time.RFC3339), &at
	}
	msg := fmt.Sprintf("attempt %d: an earlier attempt sent the %s request %s and its outcome is unknown (its answer was lost); "+
		"not sending it again because the input is not idempotent. To check by hand: %s, around that time, for workflow %s (run %s). "+
		"If it is there, it ran once; if not, start the workflow again. Set \"idempotent\": true if running it twice is harmless.",
		info.Attempt, what, when, check, info.WorkflowExecution.ID, info.WorkflowExecution.RunID)
	return contract.NewError(contract.ErrAmbiguous, msg, ei, 0)
}
