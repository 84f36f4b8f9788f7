package automationanywhere

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/providers/apierror"
)

// DeployRequest is a bot deployment (POST /v4/automations/deploy).
type DeployRequest struct {
	BotID          int64
	AutomationName string // optional
	Description    string // optional
	Priority       string // PRIORITY_LOW | PRIORITY_MEDIUM | PRIORITY_HIGH; default PRIORITY_MEDIUM
	BotInput       map[string]botvalue.Value
	RunAsUserIDs   []int64 // unattended run-as users (required unless Headless)
	PoolIDs        []int64 // device pools, when the run-as users have no default device
	Headless       *HeadlessRequest
	// Callback, if set, asks the Control Room to post the deployment's end
	// to URL with Headers. It holds a credential, so it is never serialized
	// with the request.
	Callback *Callback `json:"-"`
}

// Callback is a deploy's callbackInfo.
type Callback struct {
	URL     string
	Headers map[string]string
}

// HeadlessRequest deploys an on-demand API Task instead of an unattended bot.
type HeadlessRequest struct {
	NumberOfExecutions     int // default 1
	QueueOnSlotsExhaustion bool
	SharedRunAsUserID      int64
}

// Deploy starts a bot and returns its deployment id. It is not idempotent.
func (c *Client) Deploy(ctx context.Context, token string, r DeployRequest) (string, error) {
	if r.BotID <= 0 {
		return "", apierror.Invalid("botId", "must be the bot's positive file id (got %d)", r.BotID)
	}
	prio := r.Priority
	switch prio {
	case "":
		prio = "PRIORITY_MEDIUM"
	case "PRIORITY_LOW", "PRIORITY_MEDIUM", "PRIORITY_HIGH":
	default:
		return "", apierror.Invalid("priority", "%q is not a priority; use PRIORITY_LOW, PRIORITY_MEDIUM or PRIORITY_HIGH", prio)
	}
	body := map[string]any{"botId": r.BotID, "automationPriority": prio}
	if r.AutomationName != "" {
		body["automationName"] = r.AutomationName
	}
	if r.Description != "" {
		body["description"] = r.Description
	}
	if len(r.BotInput) > 0 {
		body["botInput"] = r.BotInput
	}
	if h := r.Headless; h != nil {
		n := h.NumberOfExecutions
		if n <= 0 {
			n = 1
		}
		body["executionType"] = "RUN_NOW"
		hr := map[string]any{"numberOfExecutions": n, "queueOnSlotsExhaustion": h.QueueOnSlotsExhaustion}
		if h.SharedRunAsUserID > 0 {
			hr["sharedRunAsUserId"] = h.SharedRunAsUserID
		}
		body["headlessRequest"] = hr
	} else {
		if len(r.RunAsUserIDs) == 0 {
			return "", apierror.Invalid("runAsUserIds", "is empty; give the ids of the unattended Bot Runner users to run as (or a headless request for an API Task)")
		}
		ur := map[string]any{"runAsUserIds": r.RunAsUserIDs}
		if len(r.PoolIDs) > 0 {
			ur["poolIds"] = r.PoolIDs
		} else {
			ur["deviceUsageType"] = "RUN_ONLY_ON_DEFAULT_DEVICE"
		}
		body["unattendedRequest"] = ur
	}
	if cb := r.Callback; cb != nil {
		body["callbackInfo"] = map[string]any{"url": cb.URL, "headers": cb.Headers}
	}
	var out struct {
		DeploymentID string `json:"deploymentId"`
	}
	if err := c.call(ctx, "deploy", http.MethodPost, c.base+"/v4/automations/deploy", token, body, &out); err != nil {
		return "", err
	}
	if out.DeploymentID == "" {
		return "", &apierror.Error{Platform: Platform, Op: "deploy", Status: http.StatusOK, Message: "answer has no deploymentId"}
	}
	return out.DeploymentID, nil
}

// Activity is one deployment's entry in the activity list.
type Activity struct {
	ID, DeploymentID, AutomationName, Status, Message string
	Progress                                          int
	BotOutput                                         map[string]botvalue.Value
	Start, End                                        time.Time
}

type activityItem struct {
	ID              string      `json:"id"`
	DeploymentID    string      `json:"deploymentId"`
	AutomationName  string      `json:"automationName"`
	Status          string      `json:"status"`
	Message         string      `json:"message"`
	Progress        json.Number `json:"progress"`
	StartDateTime   string      `json:"startDateTime"`
	EndDateTime     string      `json:"endDateTime"`
	BotOutVariables *struct {
		Values map[string]botvalue.Value `json:"values"`
	} `json:"botOutVariables"`
}

// DeploymentActivity returns the deployment's activity, or (nil, nil) while
// the Control Room does not list it yet (a documented race right after deploy).
func (c *Client) DeploymentActivity(ctx context.Context, token, deploymentID string) (*Activity, error) {
	if deploymentID == "" {
		return nil, apierror.Invalid("deploymentId", "is empty; give the id Deploy returned")
	}
	req := map[string]any{
		"filter": map[string]string{"operator": "eq", "field": "deploymentId", "value": deploymentID},
		"page":   map[string]int{"offset": 0, "length": 100},
	}
	var out struct {
		List []activityItem `json:"list"`
	}
	if err := c.call(ctx, "activityList", http.MethodPost, c.base+"/v3/activity/list", token, req, &out); err != nil {
		return nil, err
	}
	for _, it := range out.List {
		if it.DeploymentID != "" && it.DeploymentID != deploymentID {
			continue
		}
		a := it.activity()
		a.DeploymentID = deploymentID
		return a, nil
	}
	return nil, nil
}

func (it activityItem) activity() *Activity {
	a := &Activity{ID: it.ID, DeploymentID: it.DeploymentID, AutomationName: it.AutomationName,
		Status: it.Status, Message: it.Message, Start: parseTime(it.StartDateTime), End: parseTime(it.EndDateTime)}
	if f, err := strconv.ParseFloat(it.Progress.String(), 64); err == nil {
		a.Progress = int(f)
	}
	if it.BotOutVariables != nil {
		a.BotOutput = it.BotOutVariables.Values
	}
	return a
}

// MaxNamePages bounds ActivityNamed's scan: 100 executions a page.
const MaxNamePages = 10

// ActivityNamed finds the execution whose automation name satisfies match,
// or (nil, nil). The activity list filters only on automationId, deviceId,
// status and deploymentId, so it is read newest first, a page at a time,
// for at most MaxNamePages pages: a deployment looked up minutes after it
// was made is on the first.
func (c *Client) ActivityNamed(ctx context.Context, token string, match func(automationName string) bool) (*Activity, error) {
	for page := range MaxNamePages {
		req := map[string]any{
			"sort": []map[string]string{{"field": "startDateTime", "direction": "desc"}},
			"page": map[string]int{"offset": page * 100, "length": 100},
		}
		var out struct {
			Page struct {
				TotalFilter int `json:"totalFilter"`
			} `json:"page"`
			List []activityItem `json:"list"`
		}
		if err := c.call(ctx, "activityList", http.MethodPost, c.base+"/v3/activity/list", token, req, &out); err != nil {
			return nil, err
		}
		for _, it := range out.List {
			if it.DeploymentID != "" && match(it.AutomationName) {
				return it.activity(), nil
			}
		}
		if len(out.List) < 100 || (page+1)*100 >= out.Page.TotalFilter {
			return nil, nil
		}
	}
	return nil, nil
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t
}

// IsTerminal reports whether a deployment status is final.
func IsTerminal(status string) bool {
	switch status {
	case "COMPLETED", "DEPLOY_FAILED", "RUN_FAILED", "RUN_ABORTED", "RUN_TIMED_OUT", "STOPPED":
		return true
	}
	return false
}

// IsSuccess reports whether a deployment status is a success.
func IsSuccess(status string) bool { return status == "COMPLETED" }
