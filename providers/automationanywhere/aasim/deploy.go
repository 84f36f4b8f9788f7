package aasim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
)

type deployment struct {
	id       string
	name     string
	bot      *Bot
	input    map[string]botvalue.Value
	created  time.Time
	after    []*deployment // with ExclusiveRunners: the runs on its runners it waits for
	username string
	stopAt   time.Time // when a stop was asked for
	callback *callbackInfo
	notified bool // its callback went out
}

// deployRequest covers v4 (botId + unattendedRequest/headlessRequest) and v3
// (fileId + runAsUserIds) bodies.
type deployRequest struct {
	BotID             int64                     `json:"botId"`
	FileID            int64                     `json:"fileId"`
	AutomationName    string                    `json:"automationName"`
	Priority          string                    `json:"automationPriority"`
	BotInput          map[string]botvalue.Value `json:"botInput"`
	RunAsUserIDs      []int64                   `json:"runAsUserIds"`
	UnattendedRequest *struct {
		RunAsUserIDs []int64 `json:"runAsUserIds"`
		PoolIDs      []int64 `json:"poolIds"`
	} `json:"unattendedRequest"`
	HeadlessRequest *struct {
		NumberOfExecutions int `json:"numberOfExecutions"`
	} `json:"headlessRequest"`
	CallbackInfo *callbackInfo `json:"callbackInfo"`
}

func (s *Server) deploy(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("deploy")
	user, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var req deployRequest
	if !s.readJSON(w, r, &req) {
		return
	}
	v4 := strings.HasPrefix(r.URL.Path, "/v4/")
	id := req.FileID
	if v4 {
		id = req.BotID
	}
	var bot *Bot
	for i := range s.opts.Bots {
		if int64(s.opts.Bots[i].ID) == id {
			bot = &s.opts.Bots[i]
		}
	}
	if bot == nil {
		s.writeErr(w, http.StatusBadRequest, "bot.not.found", fmt.Sprintf("No bot found with id %d", id))
		return
	}
	switch {
	case !v4 && len(req.RunAsUserIDs) == 0:
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "runAsUserIds is required")
		return
	case v4 && req.UnattendedRequest == nil && req.HeadlessRequest == nil:
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "one of unattendedRequest, attendedRequest or headlessRequest is required")
		return
	case v4 && req.UnattendedRequest != nil && len(req.UnattendedRequest.RunAsUserIDs) == 0:
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "unattendedRequest.runAsUserIds is required")
		return
	}
	if p := req.Priority; p != "" && p != "PRIORITY_LOW" && p != "PRIORITY_MEDIUM" && p != "PRIORITY_HIGH" {
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "automationPriority must be PRIORITY_LOW, PRIORITY_MEDIUM or PRIORITY_HIGH")
		return
	}
	now := s.now()
	d := &deployment{id: newUUID(), name: req.AutomationName, bot: bot, input: req.BotInput, created: now, username: user.username,
		callback: req.CallbackInfo}
	if d.name == "" {
		d.name = fmt.Sprintf("%s.%s.%s", bot.Name, now.UTC().Format("2006.01.02.15.04.05"), user.username)
	}
	runners := req.RunAsUserIDs
	if req.UnattendedRequest != nil {
		runners = req.UnattendedRequest.RunAsUserIDs
	}
	s.mu.Lock()
	if s.opts.ExclusiveRunners {
		for _, u := range runners {
			if last := s.lastOnRunner[u]; last != nil {
				d.after = append(d.after, last)
			}
			s.lastOnRunner[u] = d
		}
		if d.start().After(now.Add(bot.Deployed)) {
			s.counters.Inc("deploy.queued")
		}
	}
	s.deployments = append(s.deployments, d)
	s.mu.Unlock()
	s.watchDeployment(d)
	writeJSON(w, http.StatusOK, map[string]string{"deploymentId": d.id, "automationName": d.name})
}

// filter is the activity list filter: a leaf or an and/or group.
type filter struct {
	Operator string   `json:"operator"`
	Field    string   `json:"field"`
	Value    string   `json:"value"`
	Operands []filter `json:"operands"`
}

func (f *filter) match(item map[string]any) bool {
	if f == nil || f.Operator == "" {
		return true
	}
	switch strings.ToLower(f.Operator) {
	case "and":
		for i := range f.Operands {
			if !f.Operands[i].match(item) {
				return false
			}
		}
		return true
	case "or":
		for i := range f.Operands {
			if f.Operands[i].match(item) {
				return true
			}
		}
		return false
	}
	got := fmt.Sprint(item[f.Field])
	switch strings.ToLower(f.Operator) {
	case "eq":
		return got == f.Value
	case "ne":
		return got != f.Value
	case "substring":
		return strings.Contains(strings.ToLower(got), strings.ToLower(f.Value))
	}
	return false
}

// listFilterFields are the fields the activity list filters on.
var listFilterFields = []string{"automationId", "deviceId", "status", "deploymentId", "fileId"}

// unfilterable returns a field the Control Room cannot filter on, or "".
func (f *filter) unfilterable() string {
	if f == nil || f.Operator == "" {
		return ""
	}
	if op := strings.ToLower(f.Operator); op == "and" || op == "or" {
		for i := range f.Operands {
			if bad := f.Operands[i].unfilterable(); bad != "" {
				return bad
			}
		}
		return ""
	}
	if !slices.Contains(listFilterFields, f.Field) {
		return f.Field
	}
	return ""
}

// AutomationNames counts the deployments by the automation name they were
// given (generated names included).
func (s *Server) AutomationNames() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, d := range s.deployments {
		out[d.name]++
	}
	return out
}

func (s *Server) activityList(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("activity.list")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	var req struct {
		Filter *filter `json:"filter"`
		Sort   []struct {
			Field     string `json:"field"`
			Direction string `json:"direction"`
		} `json:"sort"`
		Page struct {
			Offset int `json:"offset"`
			Length int `json:"length"`
		} `json:"page"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	if f := req.Filter.unfilterable(); f != "" {
		s.writeErr(w, http.StatusBadRequest, "request.invalid", fmt.Sprintf("the activity list cannot be filtered on %q; filter on automationId, deviceId, status or deploymentId", f))
		return
	}
	if req.Page.Length <= 0 {
		req.Page.Length = 100
	}
	now := s.now()
	s.mu.Lock()
	all := make([]map[string]any, 0, len(s.deployments))
	for _, d := range s.deployments {
		if item := d.item(now); item != nil {
			all = append(all, item)
		}
	}
	s.mu.Unlock()
	matched := []map[string]any{}
	for _, it := range all {
		if req.Filter.match(it) {
			matched = append(matched, it)
		}
	}
	for i := len(req.Sort) - 1; i >= 0; i-- { // the first sort key decides first
		o := req.Sort[i]
		desc := strings.EqualFold(o.Direction, "desc")
		sort.SliceStable(matched, func(a, b int) bool {
			x, y := fmt.Sprint(matched[a][o.Field]), fmt.Sprint(matched[b][o.Field])
			if matched[a][o.Field] == nil {
				x = ""
			}
			if matched[b][o.Field] == nil {
				y = ""
			}
			if desc {
				return x > y
			}
			return x < y
		})
	}
	page := []map[string]any{}
	if req.Page.Offset >= 0 && req.Page.Offset < len(matched) {
		page = matched[req.Page.Offset:min(len(matched), req.Page.Offset+req.Page.Length)]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page": map[string]int{"offset": req.Page.Offset, "total": len(all), "totalFilter": len(matched)},
		"list": page,
	})
}

// item is the deployment's activity as of now, or nil before ListDelay.
func (d *deployment) item(now time.Time) map[string]any {
	age := now.Sub(d.created)
	if age < d.bot.ListDelay {
		return nil
	}
	b := d.bot
	status, progress := d.status(now)
	item := map[string]any{
		"id":             d.executionID(),
		"deploymentId":   d.id,
		"automationName": d.name,
		"fileName":       b.Name,
		"filePath":       `Automation Anywhere\Bots\` + b.Name,
		"fileId":         strconv.Itoa(b.ID),
		"type":           "RUN_NOW",
		"userName":       d.username,
		"startDateTime":  d.start().UTC().Format(time.RFC3339Nano),
		"status":         status,
		"progress":       progress,
		"command":        "",
	}
	if status == "DEPLOYED" {
		delete(item, "startDateTime")
	}
	if status == "RUN_ABORTED" {
		item["endDateTime"] = d.stopAt.Add(b.StopDelay).UTC().Format(time.RFC3339Nano)
		item["message"] = "Stopped by user"
	} else if progress == 100 {
		item["endDateTime"] = d.start().Add(b.Running).UTC().Format(time.RFC3339Nano)
		item["message"] = b.Message
		if status == "COMPLETED" {
			out := b.Outputs
			if b.Output != nil {
				out = b.Output(d.input)
			}
			if out == nil {
				out = map[string]botvalue.Value{}
			}
			item["botOutVariables"] = map[string]any{"values": out}
		}
	}
	return item
}

// start is when the run begins: after Deployed, and once the runs on its
// runners before it have ended.
func (d *deployment) start() time.Time {
	t := d.created.Add(d.bot.Deployed)
	for _, a := range d.after {
		if e := a.end(); e.After(t) {
			t = e
		}
	}
	return t
}

// end is when the run ends (or ended), stopped or not.
func (d *deployment) end() time.Time {
	e := d.start().Add(d.bot.Running)
	if !d.stopAt.IsZero() && d.stopAt.Before(e) {
		return d.stopAt.Add(d.bot.StopDelay)
	}
	return e
}
