package orchsim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DemoOrderOutcome is how the demo robot works "Orders" items, by their
// specific content "outcome": "business" fails with a BusinessException,
// "crash" with an ApplicationException, "retry" is retried once and then
// succeeds, "abandon" is abandoned; anything else succeeds with output
// {"orderStatus":"processed","order":<content "order">}.
func DemoOrderOutcome(content map[string]any, retry int) ItemOutcome {
	switch content["outcome"] {
	case "business":
		return ItemOutcome{Status: "Failed", Reason: "Order total exceeds the credit limit", ExceptionType: "BusinessException"}
	case "crash":
		return ItemOutcome{Status: "Failed", Reason: "Object reference not set to an instance of an object", ExceptionType: "ApplicationException"}
	case "retry":
		if retry == 0 {
			return ItemOutcome{Status: "Retried", Reason: "Selector not found", ExceptionType: "ApplicationException"}
		}
	case "abandon":
		return ItemOutcome{Status: "Abandoned"}
	}
	return ItemOutcome{Status: "Successful", Output: map[string]any{"orderStatus": "processed", "order": content["order"]}}
}

// itemState is a queue item and the script it follows.
type itemState struct {
	dto     queueItemDTO
	queue   *queueState
	created time.Time
	retryID int64 // the retry item made when this one was Retried
}

// view returns the item as of now; the caller holds s.mu. A Retried item
// creates its retry the first time it is seen after processing.
func (s *Server) view(it *itemState, now time.Time) queueItemDTO {
	d := it.dto
	q := it.queue
	age := now.Sub(it.created)
	switch {
	case q.Process <= 0 || age < time.Second:
		return d
	case age < q.Process:
		d.Status, d.StartProcessing = "InProgress", timeString(it.created.Add(time.Second))
		return d
	}
	out := ItemOutcome{Status: "Successful", Output: map[string]any{"done": true}}
	if q.Outcome != nil {
		out = q.Outcome(d.SpecificContent, d.RetryNumber)
	}
	d.Status = out.Status
	d.StartProcessing, d.EndProcessing = timeString(it.created.Add(time.Second)), timeString(it.created.Add(q.Process))
	if out.Status == "Successful" {
		d.Output = out.Output
	} else if out.Reason != "" {
		d.ProcessingException = &processingException{Reason: out.Reason, Type: out.ExceptionType}
		d.ProcessingExceptionType = &d.ProcessingException.Type
	}
	if out.Status == "Retried" && it.retryID == 0 {
		s.nextItem++
		r := &itemState{dto: it.dto, queue: q, created: it.created.Add(q.Process)}
		r.dto.ID, r.dto.Key, r.dto.RetryNumber = s.nextItem, newUUID(), d.RetryNumber+1
		anc := d.ID
		if d.AncestorID != nil {
			anc = *d.AncestorID
		}
		r.dto.AncestorID = &anc
		s.items[r.dto.ID] = r
		it.retryID = r.dto.ID
	}
	return d
}

// getQueueItem is GET /odata/QueueItems({id}), and its GetItemLastRetry.
func (s *Server) getQueueItem(req *request) {
	f, ok := s.folder(req)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(strings.TrimSpace(req.arg), 10, 64)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "The queue item key must be an integer Id.")
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	it, ok := s.items[id]
	var d queueItemDTO
	if ok && it.dto.OrganizationUnitID == f.id {
		d = s.view(it, now)
		for req.lastRetry && it.retryID != 0 { // bounded by the retries made
			it = s.items[it.retryID]
			d = s.view(it, now)
		}
	}
	s.mu.Unlock()
	if !ok || d.ID == 0 {
		writeError(req.w, http.StatusNotFound, 1002, "Queue item does not exist.")
		return
	}
	d.Context = req.base + "/odata/$metadata#QueueItems/$entity"
	writeJSON(req.w, http.StatusOK, d)
}

var itemSchema = map[string]kind{"Id": kindInt, "Key": kindString, "Status": kindString, "Reference": kindString}

// listQueueItems is GET /odata/QueueItems in the header's folder.
func (s *Server) listQueueItems(req *request) {
	f, ok := s.folder(req)
	if !ok {
		return
	}
	q, err := parseQuery(req.r.URL.Query(), itemSchema)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid OData query options: "+err.Error())
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	var dtos []queueItemDTO
	for id := int64(1); id <= s.nextItem; id++ {
		if it, ok := s.items[id]; ok && it.dto.OrganizationUnitID == f.id {
			dtos = append(dtos, s.view(it, now))
		}
	}
	s.mu.Unlock()
	rows := make([]row, len(dtos))
	for i, d := range dtos {
		rows[i] = row{"Id": d.ID, "Key": d.Key, "Status": d.Status, "Reference": d.Reference}
	}
	out := collection{Context: req.base + "/odata/$metadata#QueueItems", Value: []any{}}
	for _, i := range q.apply(rows) {
		dtos[i].Context = ""
		out.Value = append(out.Value, dtos[i])
	}
	out.Count = len(out.Value)
	writeJSON(req.w, http.StatusOK, out)
}
