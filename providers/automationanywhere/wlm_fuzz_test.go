package automationanywhere

import (
	"encoding/json"
	"testing"
)

// FuzzWorkItemJSON: a work item answer decodes without panicking; ids
// written as numbers and as strings read the same, and a decoded id
// survives a round trip.
func FuzzWorkItemJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":77,"queueId":11,"status":"NEW","result":"","error":"","json":{"a":"b"}}`,
		`{"id":"77","queueId":"11","status":"COMPLETED","result":"ok"}`,
		`{"id":1e3}`, `{"id":null}`, `{"id":true}`, `{"id":"x\ud800"}`, `[]`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d workItemDTO
		if json.Unmarshal(b, &d) != nil {
			return
		}
		it := d.item()
		again, err := json.Marshal(map[string]any{"id": it.ID})
		if err != nil {
			t.Fatal(err)
		}
		var d2 workItemDTO
		if err := json.Unmarshal(again, &d2); err != nil || string(d2.ID) != it.ID {
			t.Fatalf("id %q did not survive a round trip: %q %v", it.ID, d2.ID, err)
		}
		_ = IsTerminalWorkItem(it.Status)
		if IsWorkItemSuccess(it.Status) && !IsTerminalWorkItem(it.Status) {
			t.Fatalf("status %q is a success but not terminal", it.Status)
		}
	})
}
