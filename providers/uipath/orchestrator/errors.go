package orchestrator

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// ParseError reads the error bodies Orchestrator and UiPath Identity send:
// the modern {message,errorCode,traceId} (any key case, errorCode int or
// string), the legacy ABP envelope {...,"error":{code,message,details}}, and
// identity's {"error":"invalid_scope","error_description":...}. The generic
// code 0 is reported as no code.
func ParseError(body []byte) (code, message, details string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return "", "", ""
	}
	if v, ok := lookup(m, "error"); ok {
		switch e := v.(type) {
		case string: // OAuth / identity
			desc, _ := lookup(m, "error_description")
			return clean(strings.TrimSpace(e)), text(desc), ""
		case map[string]any: // ABP
			code = scalar(first(m, "errorCode"))
			if code == "" {
				code = scalar(first(e, "code"))
			}
			message = text(first(m, "message"))
			if message == "" {
				message = text(first(e, "message"))
			}
			details = text(first(e, "details"))
			if ve := validationErrors(first(e, "validationErrors")); ve != "" {
				details = join(details, ve)
			}
			return clean(code), message, details
		}
	}
	code = scalar(first(m, "errorCode"))
	message = text(first(m, "message"))
	details = text(first(m, "details"))
	if trace := text(first(m, "traceId")); trace != "" {
		details = join(details, "traceId "+trace)
	}
	return clean(code), message, details
}

// IsDuplicateReference reports whether err is Orchestrator refusing a queue
// item whose Reference is already used on a unique-reference queue.
func IsDuplicateReference(err error) bool {
	var e *apierror.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == "1016" || (e.Status == 409 && e.Op == "addQueueItem")
}

func clean(code string) string {
	if code == "0" {
		return ""
	}
	return code
}

// lookup finds key in m ignoring case; an exact match wins, then the
// smallest matching key so the result is deterministic.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	var keys []string
	for k := range m {
		if strings.EqualFold(k, key) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, false
	}
	sort.Strings(keys)
	return m[keys[0]], true
}

func first(m map[string]any, key string) any {
	v, _ := lookup(m, key)
	return v
}

// scalar renders a code given as a number or a string.
func scalar(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case string:
		return strings.TrimSpace(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

// text renders a message-like value; non-string JSON is kept compact.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func validationErrors(v any) string {
	list, ok := v.([]any)
	if !ok {
		return ""
	}
	var parts []string
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			if s := text(first(m, "message")); s != "" {
				parts = append(parts, s)
			}
		}
	}
	return strings.Join(parts, "; ")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}
