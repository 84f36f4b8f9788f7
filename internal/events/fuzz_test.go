package events

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseUiPath(f *testing.F) {
	f.Add([]byte(`{"Type":"job.completed","EventId":"1","Timestamp":"2026-12-07T10:00:00Z","Job":{"Id":1,"State":"Successful"}}`))
	f.Add([]byte(`{"Type":"job.stopped","EventId":"1","Timestamp":"2026-12-07T10:00:00Z","Jobs":[{"Id":1},{"Id":2}]}`))
	f.Add([]byte(`{"Type":"queueItem.transactionFailed","EventId":"x","Timestamp":"2026-12-07T10:00:00.1234567","QueueItem":{"Id":3,"Status":"Failed"}}`))
	f.Add([]byte(`{"Type":"ping","EventId":"p","Timestamp":"2026-12-07T10:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseUiPath(body)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.Valid(body) {
				t.Fatalf("error message not UTF-8: %q", err)
			}
			return
		}
		if ev.Type == "" || ev.EventID == "" || ev.Timestamp.IsZero() || len(ev.Runs) > maxRunsPerEvent {
			t.Fatalf("accepted an incomplete event: %+v", ev)
		}
		for _, r := range ev.Runs {
			if r.ID == "" || r.ID[0] == '-' || r.ID[0] == '0' || r.Event.EventID != ev.EventID {
				t.Fatalf("run %+v", r)
			}
		}
	})
}

func FuzzParseAACallback(f *testing.F) {
	f.Add([]byte(`{"deploymentId":"d","status":"COMPLETED","botOutVariables":{"values":{}}}`))
	f.Add([]byte(`{"data":{"DeploymentId":1,"Status":"run_failed"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := ParseAACallback(body)
		if err != nil {
			return
		}
		if len(cb.DeploymentID) > 100 || len(cb.Status) > 200 {
			t.Fatalf("unbounded fields: %+v", cb)
		}
	})
}

func FuzzVerifyUiPathSignature(f *testing.F) {
	f.Add([]byte(`{"Type":"ping"}`), "")
	f.Add([]byte(`{}`), "sha256=00")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		good := SignUiPath(secret, body)
		if !VerifyUiPathSignature(secret, body, good) {
			t.Fatal("own signature refused")
		}
		if header != good && VerifyUiPathSignature(secret, body, header) {
			// Another form of the same MAC is fine; anything else is a forgery.
			if !sameMAC(header, body) {
				t.Fatalf("forged header %q accepted", header)
			}
		}
	})
}

// sameMAC reports whether header decodes, in one of the accepted forms, to
// body's MAC: the only headers that may verify.
func sameMAC(header string, body []byte) bool {
	want := mac(string(body))
	h := strings.TrimSpace(header)
	if len(h) >= 7 && strings.EqualFold(h[:7], "sha256=") {
		h = h[7:]
	}
	for _, dec := range signatureForms {
		if got, err := dec(h); err == nil && bytes.Equal(got, want) {
			return true
		}
	}
	return false
}
