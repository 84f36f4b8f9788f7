package orchestrator

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// QueueItemRequest adds one item to a queue.
type QueueItemRequest struct {
	Queue           string
	Reference       string
	Priority        string // Low, Normal or High; empty means Normal
	SpecificContent map[string]any
	DeferDate       *time.Time
	DueDate         *time.Time
}

// QueueItem is the item Orchestrator created.
type QueueItem struct {
	ID        int64
	Key       string
	Status    string
	Reference string
}

// AddQueueItem adds an item to queue r.Queue in folder f. A repeated
// Reference on a unique-reference queue fails with an error for which
// IsDuplicateReference is true.
func (c *Client) AddQueueItem(ctx context.Context, token string, f Folder, r QueueItemRequest) (QueueItem, error) {
	if strings.TrimSpace(r.Queue) == "" {
		return QueueItem{}, apierror.Invalid("queue", "is empty; give the queue name")
	}
	priority, err := checkPriority(r.Priority)
	if err != nil {
		return QueueItem{}, err
	}
	if len(r.Reference) > maxReference {
		return QueueItem{}, apierror.Invalid("reference", "is %d characters; Orchestrator allows at most %d", len(r.Reference), maxReference)
	}
	if err := checkSpecificContent(r.SpecificContent); err != nil {
		return QueueItem{}, err
	}
	item := map[string]any{"Name": r.Queue}
	if priority != "" {
		item["Priority"] = priority
	}
	if r.SpecificContent != nil {
		item["SpecificContent"] = r.SpecificContent
	}
	if r.Reference != "" {
		item["Reference"] = r.Reference
	}
	if r.DeferDate != nil {
		item["DeferDate"] = r.DeferDate.UTC().Format(time.RFC3339Nano)
	}
	if r.DueDate != nil {
		item["DueDate"] = r.DueDate.UTC().Format(time.RFC3339Nano)
	}
	h, err := bearer(token)
	if err != nil {
		return QueueItem{}, err
	}
	if err := folderHeader(h, f); err != nil {
		return QueueItem{}, err
	}
	var d struct {
		ID        int64   `json:"Id"`
		Key       string  `json:"Key"`
		Status    string  `json:"Status"`
		Reference *string `json:"Reference"`
	}
	if _, err := c.caller.JSON(ctx, "addQueueItem", http.MethodPost,
		c.orchURL+"/odata/Queues/UiPathODataSvc.AddQueueItem", h, map[string]any{"itemData": item}, &d); err != nil {
		return QueueItem{}, err
	}
	q := QueueItem{ID: d.ID, Key: d.Key, Status: d.Status}
	if d.Reference != nil {
		q.Reference = *d.Reference
	}
	return q, nil
}

// checkSpecificContent enforces Orchestrator's rule that queue item values
// are simple and names avoid : . , @ "
func checkSpecificContent(m map[string]any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "specificContent." + k
		if strings.TrimSpace(k) == "" {
			return apierror.Invalid("specificContent", "has an empty name; give every value a name")
		}
		if strings.ContainsAny(k, ":.,@\"") {
			return apierror.Invalid(field, "the name contains one of : . , @ \" which Orchestrator does not allow; rename it")
		}
		switch v := m[k].(type) {
		case nil, string, bool, json.Number, time.Time,
			int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		default:
			return apierror.Invalid(field, "is a %T; queue item values must be simple (string, number, bool or null), so encode nested data as a JSON string", v)
		}
	}
	return nil
}
