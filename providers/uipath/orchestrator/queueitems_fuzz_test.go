package orchestrator

import (
	"encoding/json"
	"testing"
)

// FuzzQueueItemState: a queue item answer decodes without panicking; the
// output is read from Output or from the OutputData string, and a failed
// item's exception type survives.
func FuzzQueueItemState(f *testing.F) {
	for _, s := range []string{
		`{"Id":5,"Status":"Successful","Output":{"a":1}}`,
		`{"Id":5,"Status":"Successful","OutputData":"{\"DynamicProperties\":{\"a\":1}}"}`,
		`{"Id":5,"Status":"Successful","OutputData":"{\"a\":1}"}`,
		`{"Id":5,"Status":"Failed","ProcessingException":{"Reason":"r","Type":"BusinessException"}}`,
		`{"Id":5,"Status":"Failed","ProcessingExceptionType":"ApplicationException"}`,
		`{"OutputData":"not json"}`, `{"Output":[1]}`, `{"AncestorId":null}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d queueItemStateDTO
		if json.Unmarshal(b, &d) != nil {
			return
		}
		q := d.state()
		if q.ID != d.ID || q.Status != d.Status {
			t.Fatalf("id/status changed: %+v from %s", q, b)
		}
		if d.ProcessingException != nil && d.ProcessingException.Type != nil && (q.Exception == nil || q.Exception.Type != *d.ProcessingException.Type) {
			t.Fatalf("exception type lost: %+v from %s", q.Exception, b)
		}
	})
}
