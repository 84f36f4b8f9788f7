package orchsim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

const contentJSON = "application/json; charset=utf-8"

// errorResult is Orchestrator's modern error body, in its wire order.
type errorResult struct {
	Message     string  `json:"message"`
	ErrorCode   int     `json:"errorCode"`
	TraceID     string  `json:"traceId"`
	ResourceIDs []int64 `json:"resourceIds"`
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, errorResult{Message: message, ErrorCode: code, TraceID: traceID()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"encoding failed","errorCode":0,"traceId":null,"resourceIds":null}`)
	}
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// traceID is a W3C trace-parent, the form Orchestrator reports.
func traceID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-00"
}

func timeString(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// readObject decodes a JSON object body, keeping numbers exact.
func readObject(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("the body is not a JSON object")
	}
	return m, nil
}

// field finds key ignoring case, as ASP.NET model binding does.
func field(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	keys := make([]string, 0, len(m))
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

// stringField reads key as a string; ok is false when present but not a string.
func stringField(m map[string]any, key string) (string, bool) {
	v, found := field(m, key)
	if !found || v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}
