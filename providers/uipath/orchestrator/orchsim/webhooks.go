package orchsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/simkit"
)

// Webhook is a tenant webhook (WebhookDto).
type Webhook struct {
	ID                   int64    `json:"Id"`
	Key                  string   `json:"Key"`
	Name                 string   `json:"Name"`
	Description          string   `json:"Description,omitempty"`
	URL                  string   `json:"Url"`
	Enabled              bool     `json:"Enabled"`
	Secret               string   `json:"Secret,omitempty"`
	SubscribeToAllEvents bool     `json:"SubscribeToAllEvents"`
	AllowInsecureSsl     bool     `json:"AllowInsecureSsl"`
	Events               []string `json:"-"`
}

type webhookEvent struct {
	EventType string `json:"EventType"`
}

// webhookDTO is the wire form, with Events as [{"EventType":…}].
type webhookDTO struct {
	Webhook
	Events []webhookEvent `json:"Events"`
}

func (w *Webhook) dto() webhookDTO {
	d := webhookDTO{Webhook: *w, Events: []webhookEvent{}}
	d.Secret = "" // Orchestrator does not give the secret back
	for _, e := range w.Events {
		d.Events = append(d.Events, webhookEvent{EventType: e})
	}
	return d
}

func (w *Webhook) wants(eventType string) bool {
	if !w.Enabled {
		return false
	}
	if w.SubscribeToAllEvents {
		return true
	}
	for _, e := range w.Events {
		if strings.EqualFold(e, eventType) {
			return true
		}
	}
	return false
}

// Deliveries is the webhook sender: its faults (drop, duplicate, delay,
// reorder, a receiver outage), its one-hour circuit breaker after a failed
// delivery, and its counters.
func (s *Server) Deliveries() *simkit.Deliverer { return s.deliver }

// Webhooks returns the tenant's webhooks as configured (secrets included).
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, len(s.webhooks))
	for i, w := range s.webhooks {
		out[i] = *w
	}
	return out
}

// event posts one event of type typ with payload fields to every webhook
// that wants it, signed with its secret (X-UiPath-Signature, base64
// HMAC-SHA256 of the body). Called with s.mu held.
func (s *Server) event(now time.Time, typ string, fields map[string]any) []simkit.Delivery {
	var out []simkit.Delivery
	for _, w := range s.webhooks {
		if !w.wants(typ) {
			continue
		}
		s.nextEvent++
		body := map[string]any{"Type": typ, "EventId": strconv.FormatInt(300000000+s.nextEvent, 10),
			"Timestamp": now.UTC().Format(time.RFC3339Nano), "TenantId": 1}
		for k, v := range fields {
			body[k] = v
		}
		b, _ := json.Marshal(body)
		h := map[string]string{"User-Agent": "UiPath-WebhookService/Webhooks"}
		if w.Secret != "" {
			mac := hmac.New(sha256.New, []byte(w.Secret))
			mac.Write(b)
			h["X-UiPath-Signature"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		}
		out = append(out, simkit.Delivery{URL: w.URL, Headers: h, Body: b})
	}
	return out
}

// watchJob schedules a look at j when it may next end (its script's end or
// its stop); the look posts the end event once.
func (s *Server) watchJob(j *jobState) {
	s.mu.Lock()
	has := len(s.webhooks) > 0
	due := j.nextChange(s.clock.Now())
	s.mu.Unlock()
	if !has {
		return
	}
	s.deliver.At(due, func(now time.Time) []simkit.Delivery {
		s.mu.Lock()
		state, _, end := j.at(now)
		if !isFinal(state) {
			s.mu.Unlock()
			s.watchJob(j)
			return nil
		}
		defer s.mu.Unlock()
		if j.notified {
			return nil
		}
		j.notified = true
		d := j.dto(now)
		job := map[string]any{"Id": j.id, "Key": j.key, "State": state, "EndTime": end.UTC().Format(time.RFC3339Nano),
			"StartTime": d.StartTime, "Type": "Unattended", "Info": d.Info, "OutputArguments": json.RawMessage("null"),
			"Release": map[string]any{"Id": j.release.id, "Key": j.release.Key, "ProcessKey": j.release.Name, "Name": j.release.Name}}
		if d.OutputArguments != nil && json.Valid([]byte(*d.OutputArguments)) {
			job["OutputArguments"] = json.RawMessage(*d.OutputArguments) // an object here, a string in GET /odata/Jobs
		}
		fields := map[string]any{"Job": job, "OrganizationUnitId": j.folder.id, "OrganizationUnitKey": j.folder.key}
		typ := map[string]string{"Successful": "job.completed", "Faulted": "job.faulted", "Stopped": "job.stopped"}[state]
		if typ == "job.stopped" {
			fields = map[string]any{"Jobs": []any{job}, "OrganizationUnitId": j.folder.id, "OrganizationUnitKey": j.folder.key}
		}
		return s.event(now, typ, fields)
	})
}

// itemEndEvents are the events of a transaction's end, by the item's
// status. A Retried item's transaction failed (its retry is a new item).
var itemEndEvents = map[string]string{"Successful": "queueItem.transactionCompleted", "Failed": "queueItem.transactionFailed",
	"Retried": "queueItem.transactionFailed", "Abandoned": "queueItem.transactionAbandoned"}

// watchItem schedules the event of the end of it's transaction, when a
// robot works its queue; a retry it makes is watched in turn.
func (s *Server) watchItem(it *itemState) {
	s.mu.Lock()
	has := len(s.webhooks) > 0
	s.mu.Unlock()
	if !has || it.queue.Process <= 0 {
		return
	}
	s.deliver.At(it.created.Add(it.queue.Process), func(now time.Time) []simkit.Delivery {
		s.mu.Lock()
		d := s.view(it, now)
		retry := s.items[it.retryID]
		item := map[string]any{"Id": d.ID, "Key": d.Key, "Reference": d.Reference, "QueueDefinitionId": d.QueueDefinitionID,
			"Status": d.Status, "StartProcessing": d.StartProcessing, "EndProcessing": d.EndProcessing, "RetryNumber": d.RetryNumber,
			"Output": d.Output, "ProcessingException": d.ProcessingException}
		fields := map[string]any{"QueueItem": item, "Queue": map[string]any{"Id": it.queue.id, "Name": it.queue.Name},
			"OrganizationUnitId": d.OrganizationUnitID}
		typ := itemEndEvents[d.Status]
		if typ == "queueItem.transactionAbandoned" {
			fields["QueueItems"] = []any{item}
			delete(fields, "QueueItem")
		}
		var out []simkit.Delivery
		if typ != "" {
			out = s.event(now, typ, fields)
		}
		s.mu.Unlock()
		if retry != nil {
			s.watchItem(retry)
		}
		return out
	})
}

// nextChange is when j may next change state: its stop or its end, or
// shortly if that has passed (a stop still winding down).
func (j *jobState) nextChange(now time.Time) time.Time {
	started := j.created.Add(j.release.Pending)
	ended := started.Add(j.release.Running)
	at := ended
	if s := j.stopAt(ended); !s.IsZero() && s.Before(at) {
		at = s
	}
	if !j.softStop.IsZero() && !j.release.IgnoreSoftStop {
		if s := j.softStop.Add(j.stopDelay()); s.Before(at) {
			at = s
		}
	}
	if !at.After(now) {
		at = now.Add(200 * time.Millisecond)
	}
	return at
}

func (j *jobState) stopDelay() time.Duration {
	if j.release.StopDelay > 0 {
		return j.release.StopDelay
	}
	return 2 * time.Second
}

// webhooksAPI serves /odata/Webhooks: list, create, get, replace, patch,
// delete and ping.
func (s *Server) webhooksAPI(req *request) {
	id, hasID := int64(0), req.arg != ""
	if hasID {
		var err error
		if id, err = strconv.ParseInt(strings.TrimSpace(req.arg), 10, 64); err != nil {
			writeError(req.w, http.StatusBadRequest, 1000, "The webhook key must be an integer Id.")
			return
		}
	}
	s.mu.Lock()
	var found *Webhook
	for _, w := range s.webhooks {
		if w.ID == id {
			found = w
		}
	}
	s.mu.Unlock()
	if hasID && found == nil {
		writeError(req.w, http.StatusNotFound, 1002, "Webhook does not exist.")
		return
	}
	switch {
	case req.ping:
		s.counters.Inc("webhooks.ping")
		now := s.clock.Now()
		s.mu.Lock()
		saved := s.webhooks
		s.webhooks = []*Webhook{{URL: found.URL, Secret: found.Secret, Enabled: true, SubscribeToAllEvents: true}}
		ds := s.event(now, "ping", map[string]any{"WebhookId": found.ID})
		s.webhooks = saved
		s.mu.Unlock()
		s.deliver.At(now, func(time.Time) []simkit.Delivery { return ds })
		writeJSON(req.w, http.StatusAccepted, map[string]any{"Type": "ping", "EventId": "ping"})
	case req.r.Method == http.MethodGet && !hasID:
		s.counters.Inc("webhooks.list")
		s.mu.Lock()
		out := collection{Context: req.base + "/odata/$metadata#Webhooks", Count: len(s.webhooks), Value: []any{}}
		for _, w := range s.webhooks {
			out.Value = append(out.Value, w.dto())
		}
		s.mu.Unlock()
		writeJSON(req.w, http.StatusOK, out)
	case req.r.Method == http.MethodGet:
		s.mu.Lock()
		d := found.dto()
		s.mu.Unlock()
		writeJSON(req.w, http.StatusOK, d)
	case req.r.Method == http.MethodDelete:
		s.counters.Inc("webhooks.delete")
		s.mu.Lock()
		for i, w := range s.webhooks {
			if w == found {
				s.webhooks = append(s.webhooks[:i], s.webhooks[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		req.w.WriteHeader(http.StatusNoContent)
	case req.r.Method == http.MethodPost && !hasID, req.r.Method == http.MethodPut && hasID, req.r.Method == http.MethodPatch && hasID:
		var in struct {
			Name, Description, URL, Secret                  *string
			Enabled, SubscribeToAllEvents, AllowInsecureSsl *bool
			Events                                          *[]webhookEvent
		}
		if err := json.NewDecoder(http.MaxBytesReader(req.w, req.r.Body, 1<<20)).Decode(&in); err != nil {
			writeError(req.w, http.StatusBadRequest, 1000, "Invalid request! The body must be a WebhookDto.")
			return
		}
		w := &Webhook{}
		if found != nil {
			cp := *found
			w = &cp
		}
		full := req.r.Method != http.MethodPatch
		if full && (in.Name == nil || in.URL == nil || in.Enabled == nil || in.SubscribeToAllEvents == nil || in.AllowInsecureSsl == nil) {
			writeError(req.w, http.StatusBadRequest, 1000, "Name, Url, Enabled, SubscribeToAllEvents and AllowInsecureSsl are required.")
			return
		}
		set(&w.Name, in.Name)
		set(&w.Description, in.Description)
		set(&w.URL, in.URL)
		set(&w.Secret, in.Secret)
		set(&w.Enabled, in.Enabled)
		set(&w.SubscribeToAllEvents, in.SubscribeToAllEvents)
		set(&w.AllowInsecureSsl, in.AllowInsecureSsl)
		if in.Events != nil {
			w.Events = nil
			for _, e := range *in.Events {
				w.Events = append(w.Events, e.EventType)
			}
		}
		if len(w.Secret) > 100 || len(w.Name) > 128 || len(w.URL) > 2000 || w.Name == "" ||
			!(strings.HasPrefix(w.URL, "https://") || strings.HasPrefix(w.URL, "http://")) {
			writeError(req.w, http.StatusBadRequest, 1000, "Name (at most 128), an absolute Url (at most 2000) and a Secret of at most 100 characters are required.")
			return
		}
		s.mu.Lock()
		for _, o := range s.webhooks {
			if o != found && strings.EqualFold(o.Name, w.Name) {
				s.mu.Unlock()
				writeError(req.w, http.StatusConflict, 3201, "A webhook with the same name already exists.")
				return
			}
		}
		status := http.StatusOK
		if found == nil {
			s.nextWebhook++
			w.ID, w.Key, status = s.nextWebhook, newUUID(), http.StatusCreated
			s.webhooks = append(s.webhooks, w)
			s.counters.Inc("webhooks.create")
		} else {
			*found = *w
			s.counters.Inc("webhooks.update")
		}
		d := w.dto()
		s.mu.Unlock()
		s.deliver.ResetBreaker() // a saved webhook is enabled again
		writeJSON(req.w, status, d)
	default:
		method(req.w, req.r, http.MethodGet)
	}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// JobEnd returns when job id ended on the simulator's clock (zero: it has
// not, or there is no such job).
func (s *Server) JobEnd(id int64) time.Time {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return time.Time{}
	}
	state, _, end := j.at(now)
	if !isFinal(state) {
		return time.Time{}
	}
	return end
}
