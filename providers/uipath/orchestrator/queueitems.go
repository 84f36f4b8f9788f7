package orchestrator

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// Queue item statuses that end the transaction.
const (
	QueueItemSuccessful = "Successful"
	QueueItemFailed     = "Failed"
	QueueItemRetried    = "Retried" // failed; a new item (its last retry) carries on
	QueueItemAbandoned  = "Abandoned"
	QueueItemDeleted    = "Deleted"
)

// ProcessingException is why a queue item failed.
type ProcessingException struct {
	Reason  string
	Details string
	Type    string // BusinessException or ApplicationException
}

// QueueItemState is a queue item as the robot left it.
type QueueItemState struct {
	ID          int64
	Key         string
	Status      string
	Reference   string
	Output      map[string]any
	Exception   *ProcessingException
	RetryNumber int
	AncestorID  int64
	End         time.Time // when its transaction ended (zero: not yet, or not told)
}

type queueItemStateDTO struct {
	ID                  int64           `json:"Id"`
	Key                 string          `json:"Key"`
	Status              string          `json:"Status"`
	Reference           *string         `json:"Reference"`
	Output              json.RawMessage `json:"Output"`
	OutputData          *string         `json:"OutputData"`
	ProcessingException *struct {
		Reason  *string `json:"Reason"`
		Details *string `json:"Details"`
		Type    *string `json:"Type"`
	} `json:"ProcessingException"`
	ProcessingExceptionType *string         `json:"ProcessingExceptionType"`
	RetryNumber             int             `json:"RetryNumber"`
	AncestorID              *int64          `json:"AncestorId"`
	EndProcessing           json.RawMessage `json:"EndProcessing"`
}

func (d queueItemStateDTO) state() QueueItemState {
	q := QueueItemState{ID: d.ID, Key: d.Key, Status: d.Status, RetryNumber: d.RetryNumber}
	var end odataTime
	if len(d.EndProcessing) > 0 && json.Unmarshal(d.EndProcessing, &end) == nil { // only a metric uses it: no failed read for it
		q.End = time.Time(end)
	}
	if d.Reference != nil {
		q.Reference = *d.Reference
	}
	if d.AncestorID != nil {
		q.AncestorID = *d.AncestorID
	}
	q.Output = outputOf(d.Output, d.OutputData)
	if e := d.ProcessingException; e != nil {
		q.Exception = &ProcessingException{Reason: deref(e.Reason), Details: deref(e.Details), Type: deref(e.Type)}
	}
	if q.Exception == nil && d.ProcessingExceptionType != nil && *d.ProcessingExceptionType != "" {
		q.Exception = &ProcessingException{Type: *d.ProcessingExceptionType}
	}
	return q
}

// outputOf reads Output (an object) or else OutputData (a JSON string that
// may wrap the object as {"DynamicProperties":{…}}).
func outputOf(obj json.RawMessage, data *string) map[string]any {
	var m map[string]any
	if len(obj) > 0 && json.Unmarshal(obj, &m) == nil && m != nil {
		return m
	}
	if data == nil || strings.TrimSpace(*data) == "" {
		return nil
	}
	if json.Unmarshal([]byte(*data), &m) != nil {
		return nil
	}
	if inner, ok := m["DynamicProperties"].(map[string]any); ok {
		return inner
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// QueueItem reads queue item id in folder f.
func (c *Client) QueueItem(ctx context.Context, token string, f Folder, id int64) (QueueItemState, error) {
	return c.queueItem(ctx, "queueItem", "/odata/QueueItems("+strconv.FormatInt(id, 10)+")", token, f, id)
}

// LastRetry reads the last retry of queue item id (the item itself when it
// was never retried).
func (c *Client) LastRetry(ctx context.Context, token string, f Folder, id int64) (QueueItemState, error) {
	return c.queueItem(ctx, "queueItemLastRetry",
		"/odata/QueueItems("+strconv.FormatInt(id, 10)+")/UiPath.Server.Configuration.OData.GetItemLastRetry", token, f, id)
}

func (c *Client) queueItem(ctx context.Context, op, path, token string, f Folder, id int64) (QueueItemState, error) {
	if id <= 0 {
		return QueueItemState{}, apierror.Invalid("queueItemId", "is %d; give the Id AddQueueItem returned", id)
	}
	h, err := bearer(token)
	if err != nil {
		return QueueItemState{}, err
	}
	if err := folderHeader(h, f); err != nil {
		return QueueItemState{}, err
	}
	var d queueItemStateDTO
	if _, err := c.caller.JSON(ctx, op, http.MethodGet, c.orchURL+path, h, nil, &d); err != nil {
		return QueueItemState{}, err
	}
	return d.state(), nil
}

// QueueItemByReference finds the newest item with reference in
// folder f (how a duplicate reference's item is found), or ok false.
func (c *Client) QueueItemByReference(ctx context.Context, token string, f Folder, reference string) (QueueItemState, bool, error) {
	h, err := bearer(token)
	if err != nil {
		return QueueItemState{}, false, err
	}
	if err := folderHeader(h, f); err != nil {
		return QueueItemState{}, false, err
	}
	var page struct{ Value []queueItemStateDTO }
	q := query("$filter", "Reference eq "+odataLiteral(reference))
	if _, err := c.caller.JSON(ctx, "queueItemsByReference", http.MethodGet, c.orchURL+"/odata/QueueItems?"+q, h, nil, &page); err != nil {
		return QueueItemState{}, false, err
	}
	if len(page.Value) == 0 {
		return QueueItemState{}, false, nil
	}
	newest := page.Value[0]
	for _, d := range page.Value[1:] {
		if d.ID > newest.ID {
			newest = d
		}
	}
	return newest.state(), true, nil
}

// IsTerminalQueueItem reports whether the item's transaction has ended
// (Retried is not: its last retry carries on).
func IsTerminalQueueItem(s string) bool {
	switch s {
	case QueueItemSuccessful, QueueItemFailed, QueueItemAbandoned, QueueItemDeleted:
		return true
	}
	return false
}
