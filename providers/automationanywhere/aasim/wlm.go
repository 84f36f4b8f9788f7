package aasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WorkQueue is a Workload Management queue. Its work items go NEW →
// ACTIVE (after a second) → the Outcome's status once Process has passed.
type WorkQueue struct {
	ID      int
	Name    string
	Process time.Duration // 0: items stay NEW (no device picks them up)
	// Outcome decides a processed item's status (COMPLETED or FAILED), its
	// result and its error text; nil completes every item with result "ok".
	Outcome func(data map[string]any) (status, result, errText string)
}

type workItem struct {
	id      int
	queue   *WorkQueue
	data    map[string]any
	created time.Time
}

func (it *workItem) dto(now time.Time) map[string]any {
	q := it.queue
	status, result, errText := "NEW", "", ""
	age := now.Sub(it.created)
	switch {
	case q.Process > 0 && age >= q.Process:
		status, result = "COMPLETED", "ok"
		if q.Outcome != nil {
			status, result, errText = q.Outcome(it.data)
		}
	case q.Process > 0 && age >= time.Second:
		status = "ACTIVE"
	}
	// Ids are strings on some Control Room versions: write odd ids as
	// strings so clients meet both forms.
	var id any = it.id
	if it.id%2 == 1 {
		id = strconv.Itoa(it.id)
	}
	return map[string]any{"id": id, "queueId": q.ID, "status": status, "result": result, "error": errText,
		"json": it.data, "createdOn": it.created.UTC().Format(time.RFC3339Nano), "version": 1, "comment": ""}
}

func (s *Server) queueByPath(w http.ResponseWriter, r *http.Request) *WorkQueue {
	id, err := strconv.Atoi(r.PathValue("queueId"))
	if err == nil {
		for i := range s.opts.WorkQueues {
			if s.opts.WorkQueues[i].ID == id {
				return &s.opts.WorkQueues[i]
			}
		}
	}
	s.writeErr(w, http.StatusNotFound, "wlm.queue.not.found", "No queue found with id "+r.PathValue("queueId"))
	return nil
}

// wlmQueues is POST /v3/wlm/queues/list with the usual filter grammar.
func (s *Server) wlmQueues(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("wlm.queues")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	var req struct {
		Filter *filter `json:"filter"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	list := []map[string]any{}
	for _, q := range s.opts.WorkQueues {
		item := map[string]any{"id": q.ID, "name": q.Name}
		if req.Filter.match(item) {
			list = append(list, item)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"page": map[string]int{"offset": 0, "total": len(s.opts.WorkQueues), "totalFilter": len(list)}, "list": list})
}

// wlmAdd is POST /v3/wlm/queues/{queueId}/workitems.
func (s *Server) wlmAdd(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("wlm.add")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	q := s.queueByPath(w, r)
	if q == nil {
		return
	}
	var req struct {
		WorkItems []struct {
			JSON map[string]any `json:"json"`
		} `json:"workItems"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	if len(req.WorkItems) == 0 {
		s.writeErr(w, http.StatusBadRequest, "request.invalid", "workItems is required")
		return
	}
	now := s.now()
	out := []map[string]any{}
	s.mu.Lock()
	for _, wi := range req.WorkItems {
		s.nextItem++
		it := &workItem{id: s.nextItem, queue: q, data: wi.JSON, created: now}
		if it.data == nil {
			it.data = map[string]any{}
		}
		s.workItems[q.ID] = append(s.workItems[q.ID], it)
		out = append(out, it.dto(now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"list": out})
}

// wlmList is POST /v3/wlm/queues/{queueId}/workitems/list.
func (s *Server) wlmList(w http.ResponseWriter, r *http.Request) {
	s.counters.Inc("wlm.list")
	if _, ok := s.authorize(w, r); !ok {
		return
	}
	q := s.queueByPath(w, r)
	if q == nil {
		return
	}
	var req struct {
		Filter *struct {
			Field    string          `json:"field"`
			Operator string          `json:"operator"`
			Value    json.RawMessage `json:"value"`
		} `json:"filter"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	want := ""
	if f := req.Filter; f != nil && f.Field == "id" && strings.EqualFold(f.Operator, "eq") {
		want = strings.Trim(string(f.Value), `"`)
	}
	now := s.now()
	list := []map[string]any{}
	s.mu.Lock()
	for _, it := range s.workItems[q.ID] {
		if want == "" || fmt.Sprint(it.id) == want {
			list = append(list, it.dto(now))
		}
	}
	total := len(s.workItems[q.ID])
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"page": map[string]int{"offset": 0, "total": total, "totalFilter": len(list)}, "list": list})
}

// WorkItemValues counts the work items added, in every queue, by their
// value in column (as text): how a test sees an item added twice.
func (s *Server) WorkItemValues(column string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, items := range s.workItems {
		for _, it := range items {
			if v, ok := it.data[column]; ok {
				out[fmt.Sprint(v)]++
			}
		}
	}
	return out
}
