package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/apierror"
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
	// Released: the attempt gave its pool slot back (GiveBackSlot).
	Released bool `json:"released,omitempty"`
}

// earlierDetails returns the mark an earlier attempt of this activity
// stored, or the zero mark.
func earlierDetails(ctx context.Context) sentMark {
	var m sentMark
	if activity.GetInfo(ctx).Attempt <= 1 || !activity.HasHeartbeatDetails(ctx) || activity.GetHeartbeatDetails(ctx, &m) != nil {
		return sentMark{}
	}
	return m
}

// earlierMark returns the "sent" mark an earlier attempt left, if any.
func earlierMark(ctx context.Context) (sentMark, bool) {
	m := earlierDetails(ctx)
	return m, m.Sent
}

// storeMark replaces the attempt's mark with m and returns once the server
// has it. The SDK's own heartbeat carries m too, so a heartbeat it holds
// back cannot restore the older mark later.
func storeMark(ctx context.Context, marks Marks, m sentMark) error {
	if marks == nil {
		marks = ServerMarks{}
	}
	activity.RecordHeartbeat(ctx, m)
	return marks.Mark(ctx, m)
}

// Pacing of markSent: the first wait before asking again, and how long an
// attempt keeps asking.
var (
	markRetryWait = time.Second
	markPatience  = time.Minute
)

// markSent stores the "sent" mark and returns it once the Temporal server
// has acknowledged it. A mark whose acknowledgement is lost (a deadline or
// a cut connection while the server is struggling) may still have been
// stored, and a retry that found it would end Ambiguous although nothing
// was sent: so the attempt asks again, while it lives and for at most
// markPatience, until one is acknowledged. If none is, or the attempt
// ends, it overwrites the mark with a cleared one and returns a retryable
// error; nothing may be sent then.
func markSent(ctx context.Context, marks Marks) (sentMark, error) {
	if marks == nil {
		marks = ServerMarks{}
	}
	giveUp := time.Now().Add(markPatience)
	wait := markRetryWait
	for {
		m := sentMark{Sent: true, At: time.Now().UTC().Truncate(time.Millisecond)}
		err := marks.Mark(ctx, m)
		if err == nil && ctx.Err() == nil {
			return m, nil
		}
		if err == nil {
			err = context.Cause(ctx)
		}
		if ctx.Err() != nil || attemptOver(err) || time.Now().Add(wait).After(giveUp) {
			clearMark(ctx, marks)
			return m, unavailable("the Temporal server did not confirm the attempt's \"sent\" mark (" + err.Error() +
				"), so the request was not sent; the activity is retried")
		}
		activity.GetLogger(ctx).Warn("the Temporal server did not confirm the attempt's \"sent\" mark; asking again before sending",
			"error", err, "retryIn", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 8*time.Second)
	}
}

// attemptOver reports whether a heartbeat's error means this attempt is no
// longer to run: the server no longer knows it (timed out, a newer attempt
// runs), or asks it to stop.
func attemptOver(err error) bool {
	var nf *serviceerror.NotFound
	var ce *temporal.CanceledError
	return errors.As(err, &nf) || errors.As(err, &ce) ||
		errors.Is(err, activity.ErrActivityPaused) || errors.Is(err, activity.ErrActivityReset)
}

// clearMark records that the request provably did not run (the platform
// refused it, or it never left), so a retry may send it. It runs even
// when the attempt's context has ended: that is when a mark stored but
// never acted on is most likely.
func clearMark(ctx context.Context, marks Marks) {
	ctx = context.WithoutCancel(ctx)
	if err := storeMark(ctx, marks, sentMark{}); err != nil {
		activity.GetLogger(ctx).Warn("could not clear the attempt's \"sent\" mark; a retry that finds it ends Ambiguous", "error", err)
	}
}

// startKey is this activity's key on the platform.
func startKey(ctx context.Context) contract.StartKey {
	info := activity.GetInfo(ctx)
	return contract.StartKey{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, ActivityID: info.ActivityID}
}

// adopted tells the log and the rpaflow_starts_adopted counter that this
// attempt found what an earlier one started, or (own) what its own
// request started when the answer was lost.
func adopted(ctx context.Context, start, profile, what string, own bool, keyvals ...any) {
	attempt := activity.GetInfo(ctx).Attempt
	by := "an earlier attempt"
	if own {
		by = "its own request"
	}
	activity.GetLogger(ctx).Info(fmt.Sprintf("attempt %d found the %s %s started (its answer was lost); adopting it, not starting another", attempt, what, by),
		append([]any{"start", start, "profile", profile, "attempt", attempt}, keyvals...)...)
	activity.GetMetricsHandler(ctx).WithTags(map[string]string{"start": start, "profile": profile}).Counter("rpaflow_starts_adopted").Inc(1)
}

// ambiguousRetry is the error of an attempt that finds an earlier
// attempt's "sent" mark where the platform has nothing to look the start
// up by: only a person can tell whether it happened.
func ambiguousRetry(ctx context.Context, m sentMark, platform, op, what, check string) error {
	return unknownOutcome(ctx, m, contract.ErrorInfo{Platform: platform, Op: op},
		func(when string) string {
			return "an earlier attempt was about to send the " + what + " request " + when +
				" (the Temporal server had stored its \"sent\" mark) and its outcome is unknown: the request may have reached the platform and its answer been lost, " +
				"or that attempt may have ended before the request left"
		},
		"not sending it again because the input is not idempotent", check,
		"If it is there, it ran once; if not, start the workflow again. Set \"idempotent\": true if running it twice is harmless.")
}

// unknownOutcome is an Ambiguous error saying what was sent and when,
// why rpaflow does not send it again, how a person checks, and what to do
// then.
func unknownOutcome(ctx context.Context, m sentMark, ei contract.ErrorInfo, sent func(when string) string, why, check, then string) error {
	info := activity.GetInfo(ctx)
	when := "at an unknown time"
	if at := m.At; !at.IsZero() {
		when, ei.SentAt = "at "+at.Format(time.RFC3339), &at
	}
	msg := fmt.Sprintf("attempt %d: %s; %s. To check by hand: %s, around that time, for workflow %s (run %s). %s",
		info.Attempt, sent(when), why, check, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, then)
	return contract.NewError(contract.ErrAmbiguous, msg, ei, 0)
}

// Lookups paces the look-ups of a start whose answer was lost. The zero
// value is the production pace.
type Lookups struct {
	// Backoff is the wait before an attempt's first look-up after its own
	// request's answer was lost, doubled before each next; 0 is a second.
	Backoff time.Duration
	// ListGrace is how long after a deploy the Control Room's activity
	// list may still not show it; 0 is a minute.
	ListGrace time.Duration
}

// ownReads is how many times an attempt whose own answer was lost looks
// its start up before deciding.
const ownReads = 3

func (l Lookups) listGrace() time.Duration { return cmp.Or(l.ListGrace, time.Minute) }

// lookup is one look-up of a start: whether it was found.
type lookup func() (found bool, err error)

// own looks the attempt's own start up, up to ownReads times with a
// doubling backoff, until found. answered says whether at least one read
// got an answer; err is the last read's error.
func (l Lookups) own(ctx context.Context, look lookup) (reads int, found, answered bool, err error) {
	wait := cmp.Or(l.Backoff, time.Second)
	for reads < ownReads {
		select {
		case <-ctx.Done():
			return reads, false, answered, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
		reads++
		var lerr error
		if found, lerr = look(); found {
			return reads, true, true, nil
		}
		if lerr != nil {
			err = lerr
		} else {
			answered = true
		}
	}
	return reads, false, answered, err
}

// lostAnswer reports whether a start's failure leaves its outcome
// unknown: the request was written and no answer came back (a timeout or
// a reset), or the answer was a 408 or a 5xx, which a gateway may give
// after the platform acted.
func lostAnswer(err error) bool {
	var te *apierror.TransportError
	if errors.As(err, &te) {
		return te.Sent
	}
	s := apierror.StatusOf(err)
	return s == http.StatusRequestTimeout || s >= 500
}
