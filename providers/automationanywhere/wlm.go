package automationanywhere

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// WorkQueue is a Workload Management queue.
type WorkQueue struct {
	ID   string
	Name string
}

// WorkItem is a Workload Management work item.
type WorkItem struct {
	ID      string
	QueueID string
	Status  string
	Result  string
	Error   string
	Data    map[string]any
}

// flexID reads an id that the Control Room writes as a number or a string.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id %s is neither a number nor a string", b)
	}
	*f = flexID(n.String())
	return nil
}

type workQueueDTO struct {
	ID   flexID `json:"id"`
	Name string `json:"name"`
}

type workItemDTO struct {
	ID      flexID         `json:"id"`
	QueueID flexID         `json:"queueId"`
	Status  string         `json:"status"`
	Result  string         `json:"result"`
	Error   string         `json:"error"`
	JSON    map[string]any `json:"json"`
}

func (d workItemDTO) item() WorkItem {
	return WorkItem{ID: string(d.ID), QueueID: string(d.QueueID), Status: d.Status, Result: d.Result, Error: d.Error, Data: d.JSON}
}

// WorkQueues lists the queues whose name contains name (the Control Room's
// substring filter); exact matching is the caller's.
func (c *Client) WorkQueues(ctx context.Context, token, name string) ([]WorkQueue, error) {
	req := map[string]any{
		"filter": map[string]string{"operator": "substring", "field": "name", "value": name},
		"page":   map[string]int{"offset": 0, "length": 200},
	}
	var out struct {
		List []workQueueDTO `json:"list"`
	}
	if err := c.call(ctx, "wlmQueues", http.MethodPost, c.base+"/v3/wlm/queues/list", token, req, &out); err != nil {
		return nil, err
	}
	qs := make([]WorkQueue, 0, len(out.List))
	for _, q := range out.List {
		qs = append(qs, WorkQueue{ID: string(q.ID), Name: q.Name})
	}
	return qs, nil
}

// AddWorkItem adds one work item with data (the queue's columns) to queue
// queueID. It is not idempotent: WLM has no reference to deduplicate on.
func (c *Client) AddWorkItem(ctx context.Context, token, queueID string, data map[string]any) (WorkItem, error) {
	if err := checkQueueID(queueID); err != nil {
		return WorkItem{}, err
	}
	if data == nil {
		data = map[string]any{}
	}
	body := map[string]any{"workItems": []any{map[string]any{"json": data}}}
	var out struct {
		List []workItemDTO `json:"list"`
	}
	u := c.base + "/v3/wlm/queues/" + url.PathEscape(queueID) + "/workitems"
	if err := c.call(ctx, "wlmAddWorkItem", http.MethodPost, u, token, body, &out); err != nil {
		return WorkItem{}, err
	}
	if len(out.List) == 0 || out.List[0].ID == "" {
		return WorkItem{}, &apierror.Error{Platform: Platform, Op: "wlmAddWorkItem", Status: http.StatusOK,
			Message: "answer lists no work item with an id"}
	}
	it := out.List[0].item()
	if it.QueueID == "" {
		it.QueueID = queueID
	}
	return it, nil
}

// WorkItem reads work item id of queue queueID, or (nil, nil) when the
// queue does not list it.
func (c *Client) WorkItem(ctx context.Context, token, queueID, id string) (*WorkItem, error) {
	if err := checkQueueID(queueID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(id) == "" {
		return nil, apierror.Invalid("workItemId", "is empty; give the id AddWorkItem returned")
	}
	req := map[string]any{"filter": map[string]any{"field": "id", "value": id, "operator": "eq"}}
	var out struct {
		List []workItemDTO `json:"list"`
	}
	u := c.base + "/v3/wlm/queues/" + url.PathEscape(queueID) + "/workitems/list"
	if err := c.call(ctx, "wlmWorkItems", http.MethodPost, u, token, req, &out); err != nil {
		return nil, err
	}
	for _, d := range out.List {
		if string(d.ID) == id {
			it := d.item()
			if it.QueueID == "" {
				it.QueueID = queueID
			}
			return &it, nil
		}
	}
	return nil, nil
}

func checkQueueID(id string) error {
	if strings.TrimSpace(id) == "" {
		return apierror.Invalid("queueId", "is empty; resolve the queue name with WorkQueues")
	}
	return nil
}

// NormalizeWorkItemStatus writes a status the way the wire does
// (COMPLETED), whatever spelling the Control Room version used
// ("Completed", "completed", "Data error").
func NormalizeWorkItemStatus(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", "_"))
}

// Work item outcomes. Only NEW, READY_TO_RUN and ON_HOLD are documented on
// the wire; the terminal spellings follow the UI labels.
const (
	WorkItemCompleted = "COMPLETED"
	WorkItemFailed    = "FAILED"
	WorkItemDataError = "DATA_ERROR"
)

// IsTerminalWorkItem reports whether a work item will not change again.
func IsTerminalWorkItem(status string) bool {
	switch NormalizeWorkItemStatus(status) {
	case WorkItemCompleted, "SUCCESSFUL", "SUCCESS", WorkItemFailed, WorkItemDataError:
		return true
	}
	return false
}

// IsWorkItemSuccess reports whether a terminal work item succeeded.
func IsWorkItemSuccess(status string) bool {
	switch NormalizeWorkItemStatus(status) {
	case WorkItemCompleted, "SUCCESSFUL", "SUCCESS":
		return true
	}
	return false
}
