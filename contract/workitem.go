package contract

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// AddWorkItemInput adds one work item to a WLM queue.
type AddWorkItemInput struct {
	Profile string `json:"profile"`
	// Queue is the queue's name (exact, case-sensitive) or its numeric id.
	Queue string `json:"queue"`
	// Data is the item's values by queue column.
	Data map[string]any `json:"data"`
	// Wait for the item to be processed (COMPLETED or FAILED).
	Wait    bool     `json:"wait,omitempty"`
	Timeout Duration `json:"timeout,omitempty"` // wait bound, default 24h
	// Idempotent: adding the item twice is harmless, so an add whose
	// outcome is unknown is retried (WLM has no reference to deduplicate on).
	Idempotent bool `json:"idempotent,omitempty"`
}

// AddWorkItemResult is the added work item and, with Wait, how it ended.
type AddWorkItemResult struct {
	ID      string         `json:"id"`
	QueueID string         `json:"queueId"`
	Status  string         `json:"status"`           // NEW when not waited for; COMPLETED, FAILED, … after a wait
	Result  string         `json:"result,omitempty"` // what the bot wrote on success
	Error   string         `json:"error,omitempty"`  // what the bot wrote on failure
	Data    map[string]any `json:"data,omitempty"`
}

// MaxWorkItemColumns bounds Data; WLM queues hold far fewer columns.
const MaxWorkItemColumns = 200

// Validate checks the input.
func (in AddWorkItemInput) Validate() error {
	if err := ValidateProfile(in.Profile); err != nil {
		return err
	}
	if _, err := ParseWorkQueue(in.Queue); err != nil {
		return err
	}
	if len(in.Data) == 0 {
		return InvalidInputError("data", "is empty; give the work item's values by queue column, e.g. {\"invoice\":\"INV-1\"}")
	}
	if len(in.Data) > MaxWorkItemColumns {
		return InvalidInputError("data", "has %d columns; a work item holds at most %d", len(in.Data), MaxWorkItemColumns)
	}
	keys := make([]string, 0, len(in.Data))
	for k := range in.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return InvalidInputError("data", "has an empty column name; name every value after its queue column")
		}
		switch in.Data[k].(type) {
		case nil, string, bool, float64, float32, int, int64, int32:
		default:
			return InvalidInputError("data."+k, "must be a string, number, boolean or null; WLM columns hold simple values (serialize nested data to a string)")
		}
	}
	if in.Timeout < 0 {
		return InvalidInputError("timeout", "is negative; give a duration such as \"1h\" (default 24h)")
	}
	if in.Timeout > 0 && !in.Wait {
		return InvalidInputError("timeout", "is set without \"wait\": true; add \"wait\": true or drop the timeout")
	}
	return nil
}

// WorkQueueRef is a queue given by id or by name.
type WorkQueueRef struct {
	ID   string // set when the queue was given as a number
	Name string
}

// ParseWorkQueue reads a queue given as a name or a numeric id.
func ParseWorkQueue(s string) (WorkQueueRef, error) {
	if strings.TrimSpace(s) == "" {
		return WorkQueueRef{}, InvalidInputError("queue", "is empty; give the WLM queue's name (as the Control Room shows it) or its numeric id")
	}
	if len(s) > 255 {
		return WorkQueueRef{}, InvalidInputError("queue", "is %d characters; queue names are at most 255", len(s))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return WorkQueueRef{}, InvalidInputError("queue", "%d is not a queue id; ids are positive numbers", n)
		}
		return WorkQueueRef{ID: strconv.FormatInt(n, 10)}, nil
	}
	return WorkQueueRef{Name: s}, nil
}

// QueueItemFailure is the details of the RunFailed error of an
// AddQueueItem that waited for a Failed item: Type tells a business rule
// (BusinessException) from a crash (ApplicationException).
type QueueItemFailure struct {
	AddQueueItemResult
	Reason string `json:"reason,omitempty"`
	Type   string `json:"type,omitempty"`
}

// defaultWait is the wait bound when an input's timeout is not set.
const defaultWait = 24 * time.Hour

// WaitBound is d, or the 24-hour default when d is not set.
func WaitBound(d Duration) time.Duration {
	if d <= 0 {
		return defaultWait
	}
	return d.D()
}

// QueueItemSuccessful is the status of a queue item whose transaction
// succeeded; AddQueueItem with wait fails with RunFailed on any other end
// (Failed, Abandoned, Deleted).
const QueueItemSuccessful = "Successful"

// WorkItemCompleted is the status of a work item processed successfully;
// AddWorkItem with wait fails with RunFailed on any other end.
const WorkItemCompleted = "COMPLETED"
