package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// Routed is one event for one run: the run's subject and id within the
// profile, and what to tell its wait.
type Routed = contract.RoutedRunEvent

// UiPathEvent is a parsed Orchestrator webhook.
type UiPathEvent struct {
	Type      string
	EventID   string
	Timestamp time.Time
	// Runs are the runs the event says ended (none for other events).
	Runs []Routed
}

// UiPathSubscriptions are the webhook events a wait can use: the ends of
// jobs and of queue items' transactions.
var UiPathSubscriptions = []string{"job.completed", "job.faulted", "job.stopped",
	"queueItem.transactionCompleted", "queueItem.transactionFailed", "queueItem.transactionAbandoned"}

// UiPath event types that end a run rpaflow waits on. Others (job.started,
// ping, …) are acknowledged and dropped.
var uipathEnds = map[string]string{
	"job.completed":                  contract.SubjectJob,
	"job.faulted":                    contract.SubjectJob,
	"job.stopped":                    contract.SubjectJob,
	"queueitem.transactioncompleted": contract.SubjectQueueItem,
	"queueitem.transactionfailed":    contract.SubjectQueueItem,
	"queueitem.transactionabandoned": contract.SubjectQueueItem,
	"queueitem.deleted":              contract.SubjectQueueItem,
	"queueitem.retried":              contract.SubjectQueueItem,
	"queueitem.reviewstatuschanged":  "",
	"queueitem.transactionstarted":   "",
	"queueitem.added":                "",
	"queueitem.updated":              "",
	"queueitem.deferred":             "",
	"job.created":                    "",
	"job.started":                    "",
	"job.stopping":                   "",
	"job.terminating":                "",
	"job.suspended":                  "",
	"job.resumed":                    "",
	"ping":                           "",
	"custom":                         "",
}

type uipathEnvelope struct {
	Type       string      `json:"Type"`
	EventID    string      `json:"EventId"`
	Timestamp  string      `json:"Timestamp"`
	Job        *uipathRun  `json:"Job"`
	Jobs       []uipathRun `json:"Jobs"`
	QueueItem  *uipathRun  `json:"QueueItem"`
	QueueItems []uipathRun `json:"QueueItems"`
}

type uipathRun struct {
	ID            json.Number `json:"Id"`
	State         string      `json:"State"`
	Status        string      `json:"Status"`
	EndTime       string      `json:"EndTime"`
	EndProcessing string      `json:"EndProcessing"`
}

// maxRunsPerEvent bounds the runs one event may name (job.stopped lists
// the jobs it stopped).
const maxRunsPerEvent = 100

// ParseUiPath parses a webhook body. It needs Type, EventId and Timestamp
// (the envelope every Orchestrator event has) and, for the events that end
// a run, the run's numeric Id.
func ParseUiPath(body []byte) (UiPathEvent, error) {
	var env uipathEnvelope
	if err := decodeObject(body, &env); err != nil {
		return UiPathEvent{}, err
	}
	ev := UiPathEvent{Type: strings.TrimSpace(env.Type), EventID: strings.TrimSpace(env.EventID)}
	switch {
	case ev.Type == "":
		return ev, errors.New("the body has no Type; an Orchestrator event names its type, e.g. job.completed")
	case ev.EventID == "" || len(ev.EventID) > 100:
		return ev, errors.New("the body has no EventId (or one over 100 characters)")
	}
	ts, err := parseTime(env.Timestamp)
	if err != nil {
		return ev, fmt.Errorf("the body's Timestamp %q is not a date-time: %w", short(env.Timestamp), err)
	}
	ev.Timestamp = ts
	subject, known := uipathEnds[strings.ToLower(ev.Type)]
	if !known || subject == "" {
		return ev, nil
	}
	var runs []uipathRun
	if subject == contract.SubjectJob {
		if env.Job != nil {
			runs = append(runs, *env.Job)
		}
		runs = append(runs, env.Jobs...)
	} else {
		if env.QueueItem != nil {
			runs = append(runs, *env.QueueItem)
		}
		runs = append(runs, env.QueueItems...)
	}
	if len(runs) == 0 {
		return ev, fmt.Errorf("a %s event names no %s", ev.Type, map[string]string{contract.SubjectJob: "Job", contract.SubjectQueueItem: "QueueItem"}[subject])
	}
	if len(runs) > maxRunsPerEvent {
		return ev, fmt.Errorf("a %s event names %d runs; at most %d are accepted", ev.Type, len(runs), maxRunsPerEvent)
	}
	for _, r := range runs {
		id, err := strconv.ParseInt(r.ID.String(), 10, 64)
		if err != nil || id <= 0 {
			return ev, fmt.Errorf("a %s event names a run whose Id %q is not a positive integer", ev.Type, short(r.ID.String()))
		}
		state, end, terminal := r.State, r.EndTime, orchestrator.IsTerminalJobState(r.State)
		if subject == contract.SubjectQueueItem {
			state, end, terminal = r.Status, r.EndProcessing, orchestrator.IsTerminalQueueItem(r.Status)
		}
		at, _ := parseTime(end)
		ev.Runs = append(ev.Runs, Routed{Subject: subject, ID: strconv.FormatInt(id, 10), Event: contract.RunEvent{
			EventID: ev.EventID, Type: ev.Type, State: state, RunID: strconv.FormatInt(id, 10), Terminal: terminal, At: at}})
	}
	return ev, nil
}

// AACallback is a parsed Control Room deploy callback.
type AACallback struct {
	DeploymentID string
	Status       string
	Terminal     bool
}

// ParseAACallback reads what a callback body tells. The Control Room does
// not document the body, so any JSON object is accepted; deploymentId and
// status are looked up without regard to case, at the top level or under
// an object "deployment"/"data", and either may be missing (the callback's
// id header says which wait it is for).
func ParseAACallback(body []byte) (AACallback, error) {
	var m map[string]any
	if err := decodeObject(body, &m); err != nil {
		return AACallback{}, err
	}
	var out AACallback
	for _, obj := range []map[string]any{m, objectField(m, "deployment"), objectField(m, "data")} {
		if out.DeploymentID == "" {
			out.DeploymentID = stringField(obj, "deploymentId")
		}
		if out.Status == "" {
			out.Status = stringField(obj, "status")
		}
	}
	if len(out.DeploymentID) > 100 || len(out.Status) > 100 {
		return AACallback{}, errors.New("deploymentId or status is over 100 characters")
	}
	out.Status = strings.ToUpper(out.Status)
	out.Terminal = aa.IsTerminal(out.Status)
	return out, nil
}

func objectField(m map[string]any, name string) map[string]any {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			if o, ok := v.(map[string]any); ok {
				return o
			}
		}
	}
	return nil
}

func stringField(m map[string]any, name string) string {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			switch s := v.(type) {
			case string:
				return strings.TrimSpace(s)
			case json.Number:
				return s.String()
			}
		}
	}
	return ""
}

// decodeObject decodes one JSON object and nothing after it.
func decodeObject(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("the body is not a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("the body is not valid JSON for this event: %s", short(err.Error()))
	}
	if d.More() {
		return errors.New("the body has data after its JSON object")
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("use RFC 3339, e.g. 2026-12-07T10:00:00Z")
}

// short keeps what the body said out of long answers and logs.
func short(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
