package events

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rpaflow/rpaflow/contract"
)

var secret = []byte("orch-webhook-secret-0123456789")

func mac(body string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(body))
	return m.Sum(nil)
}

func TestVerifyUiPathSignature_EveryDocumentedForm(t *testing.T) {
	body := `{"Type":"job.completed","EventId":"1"}`
	sum := mac(body)
	forms := map[string]string{
		"base64":             base64.StdEncoding.EncodeToString(sum),
		"base64 raw":         base64.RawStdEncoding.EncodeToString(sum),
		"base64 url":         base64.URLEncoding.EncodeToString(sum),
		"hex":                hex.EncodeToString(sum),
		"HEX":                strings.ToUpper(hex.EncodeToString(sum)),
		"sha256= hex":        "sha256=" + hex.EncodeToString(sum),
		"SHA256= base64":     "SHA256=" + base64.StdEncoding.EncodeToString(sum),
		"spaces around":      "  " + base64.StdEncoding.EncodeToString(sum) + " ",
		"SignUiPath(helper)": SignUiPath(secret, []byte(body)),
	}
	for name, h := range forms {
		if !VerifyUiPathSignature(secret, []byte(body), h) {
			t.Errorf("%s: %q refused", name, h)
		}
	}
	wrong := map[string]string{
		"empty":          "",
		"prefix only":    "sha256=",
		"other body":     SignUiPath(secret, []byte(body+" ")),
		"other secret":   SignUiPath([]byte("other"), []byte(body)),
		"truncated":      hex.EncodeToString(sum)[:40],
		"sha1 length":    hex.EncodeToString(sum[:20]),
		"garbage":        "not a signature at all",
		"overlong":       strings.Repeat("a", 200),
		"plain secret":   string(secret),
		"hmac of secret": SignUiPath(secret, secret),
	}
	for name, h := range wrong {
		if VerifyUiPathSignature(secret, []byte(body), h) {
			t.Errorf("%s: %q accepted", name, h)
		}
	}
	if VerifyUiPathSignature(nil, []byte(body), SignUiPath(nil, []byte(body))) {
		t.Error("an empty secret verified a signature")
	}
}

func TestCallbackToken(t *testing.T) {
	key := []byte("aa-callback-key-0123456789")
	id := "0123456789abcdef0123456789abcdef"
	tok := CallbackToken(key, "cr", id)
	if !VerifyCallbackToken(key, "cr", id, tok) || !VerifyCallbackToken(key, "cr", id, strings.ToUpper(tok)) {
		t.Fatal("own token refused")
	}
	for name, ok := range map[string]bool{
		"other profile": VerifyCallbackToken(key, "cr2", id, tok),
		"other id":      VerifyCallbackToken(key, "cr", "f"+id[1:], tok),
		"other key":     VerifyCallbackToken([]byte("k2"), "cr", id, tok),
		"empty":         VerifyCallbackToken(key, "cr", id, ""),
	} {
		if ok {
			t.Errorf("%s accepted", name)
		}
	}
	if strings.Contains(tok, string(key)) || len(tok) != 64 {
		t.Fatalf("token %q", tok)
	}
	for _, bad := range []string{"", "xyz", strings.ToUpper(id), id + "0", "0123456789abcdef0123456789abcdeg"} {
		if ValidCallbackID(bad) {
			t.Errorf("id %q valid", bad)
		}
	}
}

func TestParseUiPath(t *testing.T) {
	ev, err := ParseUiPath([]byte(`{"Type":"job.completed","EventId":"307348658","Timestamp":"2026-12-07T10:00:00.123Z",
		"Job":{"Id":148712,"Key":"d7a7","State":"Successful","EndTime":"2026-12-07T09:59:59Z","OutputArguments":{"sum":150}},"TenantId":1}`))
	if err != nil || len(ev.Runs) != 1 {
		t.Fatalf("%+v %v", ev, err)
	}
	r := ev.Runs[0]
	if r.Subject != contract.SubjectJob || r.ID != "148712" || !r.Event.Terminal || r.Event.State != "Successful" ||
		!r.Event.At.Equal(time.Date(2026, 12, 7, 9, 59, 59, 0, time.UTC)) || r.Event.EventID != "307348658" {
		t.Fatalf("run %+v", r)
	}
	// job.stopped lists its jobs; queue item events carry QueueItem.
	ev, err = ParseUiPath([]byte(`{"Type":"job.stopped","EventId":"a","Timestamp":"2026-12-07T10:00:00Z","Jobs":[{"Id":1,"State":"Stopped"},{"Id":2,"State":"Stopped"}]}`))
	if err != nil || len(ev.Runs) != 2 || ev.Runs[1].ID != "2" {
		t.Fatalf("%+v %v", ev, err)
	}
	ev, err = ParseUiPath([]byte(`{"Type":"queueItem.transactionFailed","EventId":"b","Timestamp":"2026-12-07T10:00:00Z","QueueItem":{"Id":9,"Status":"Failed","ProcessingException":{"Reason":"x"}},"Queue":{"Id":1}}`))
	if err != nil || len(ev.Runs) != 1 || ev.Runs[0].Subject != contract.SubjectQueueItem || !ev.Runs[0].Event.Terminal {
		t.Fatalf("%+v %v", ev, err)
	}
	// Events that end no run are parsed but route nowhere.
	for _, typ := range []string{"ping", "job.started", "queueItem.added", "robot.status"} {
		ev, err = ParseUiPath([]byte(`{"Type":"` + typ + `","EventId":"c","Timestamp":"2026-12-07T10:00:00Z"}`))
		if err != nil || len(ev.Runs) != 0 {
			t.Errorf("%s: %+v %v", typ, ev, err)
		}
	}
	bad := map[string]string{
		"not json":      `job completed`,
		"array":         `[{"Type":"job.completed"}]`,
		"no type":       `{"EventId":"1","Timestamp":"2026-12-07T10:00:00Z"}`,
		"no event id":   `{"Type":"job.completed","Timestamp":"2026-12-07T10:00:00Z","Job":{"Id":1}}`,
		"no timestamp":  `{"Type":"job.completed","EventId":"1","Job":{"Id":1}}`,
		"bad timestamp": `{"Type":"job.completed","EventId":"1","Timestamp":"yesterday","Job":{"Id":1}}`,
		"no job":        `{"Type":"job.completed","EventId":"1","Timestamp":"2026-12-07T10:00:00Z"}`,
		"bad job id":    `{"Type":"job.completed","EventId":"1","Timestamp":"2026-12-07T10:00:00Z","Job":{"Id":"x"}}`,
		"negative id":   `{"Type":"job.completed","EventId":"1","Timestamp":"2026-12-07T10:00:00Z","Job":{"Id":-4}}`,
		"trailing data": `{"Type":"ping","EventId":"1","Timestamp":"2026-12-07T10:00:00Z"} {}`,
	}
	for name, body := range bad {
		if _, err := ParseUiPath([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseAACallback(t *testing.T) {
	for body, want := range map[string]AACallback{
		`{"deploymentId":"d-1","status":"COMPLETED","botOutVariables":{"values":{}}}`: {DeploymentID: "d-1", Status: "COMPLETED", Terminal: true},
		`{"DeploymentID":"d-1","Status":"run_failed"}`:                                {DeploymentID: "d-1", Status: "RUN_FAILED", Terminal: true},
		`{"data":{"deploymentId":"d-2","status":"RUNNING"}}`:                          {DeploymentID: "d-2", Status: "RUNNING"},
		`{}`: {},
	} {
		got, err := ParseAACallback([]byte(body))
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", body, got, err, want)
		}
	}
	for _, body := range []string{``, `"COMPLETED"`, `{"status":`, `{"status":"` + strings.Repeat("x", 200) + `"}`} {
		if _, err := ParseAACallback([]byte(body)); err == nil {
			t.Errorf("%q accepted", body)
		}
	}
}

// sink records deliveries; fail makes the next ones fail.
type sink struct {
	mu   sync.Mutex
	got  []Routed
	fail bool
}

func (s *sink) Deliver(_ context.Context, profile string, r Routed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("temporal unavailable")
	}
	r.ID = profile + "/" + r.Subject + "/" + r.ID
	s.got = append(s.got, r)
	return nil
}

type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) observe(p Platform, profile, outcome, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[string(p)+" "+outcome+" "+reason]++
}

func newReceiver(t *testing.T, now time.Time) (*Receiver, *sink, *counts) {
	t.Helper()
	s, c := &sink{}, &counts{}
	rc := NewReceiver(Options{
		Profiles: []Profile{{Name: "orch", Platform: UiPath, Secret: secret}, {Name: "cr", Platform: AA, Secret: []byte("aa-key-0123456789abcdef")}},
		Sink:     s, Now: func() time.Time { return now }, Observe: c.observe, MaxBody: 4096, Logger: zerolog.Nop(),
	})
	return rc, s, c
}

func post(rc http.Handler, path, body string, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, req)
	return w
}

func TestReceiver_UiPath(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	rc, s, c := newReceiver(t, now)
	body := `{"Type":"job.faulted","EventId":"e1","Timestamp":"2026-12-07T09:59:58Z","Job":{"Id":42,"State":"Faulted"}}`
	signed := map[string]string{SignatureHeader: SignUiPath(secret, []byte(body))}
	if w := post(rc, "/events/uipath/orch", body, signed); w.Code != http.StatusAccepted {
		t.Fatalf("signed event: %d %s", w.Code, w.Body)
	}
	if len(s.got) != 1 || s.got[0].ID != "orch/job/42" || s.got[0].Event.Type != "job.faulted" || !s.got[0].Event.Received.Equal(now) {
		t.Fatalf("delivered %+v", s.got)
	}
	// The same event again (a retry, or a copy per folder) is acknowledged, not delivered.
	if w := post(rc, "/events/uipath/orch", body, signed); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), "duplicate") {
		t.Fatalf("duplicate: %d %s", w.Code, w.Body)
	}
	if len(s.got) != 1 {
		t.Fatalf("duplicate delivered: %+v", s.got)
	}
	old := `{"Type":"job.faulted","EventId":"e2","Timestamp":"2026-12-07T09:00:00Z","Job":{"Id":43}}`
	future := `{"Type":"job.faulted","EventId":"e3","Timestamp":"2026-12-07T10:30:00Z","Job":{"Id":43}}`
	malformed := `{"Type":"job.faulted","EventId":"e4","Timestamp":"2026-12-07T10:00:00Z"}`
	big := `{"Type":"ping","EventId":"e5","Timestamp":"2026-12-07T10:00:00Z","x":"` + strings.Repeat("a", 5000) + `"}`
	cases := []struct {
		name, path, body string
		headers          map[string]string
		status           int
		reason           string
	}{
		{"unsigned", "/events/uipath/orch", body, nil, 401, ReasonUnsigned},
		{"bad signature", "/events/uipath/orch", body, map[string]string{SignatureHeader: SignUiPath([]byte("guess"), []byte(body))}, 401, ReasonBadSignature},
		{"signature of another body", "/events/uipath/orch", strings.Replace(body, "42", "43", 1), signed, 401, ReasonBadSignature},
		{"replayed old", "/events/uipath/orch", old, map[string]string{SignatureHeader: SignUiPath(secret, []byte(old))}, 400, ReasonStale},
		{"from the future", "/events/uipath/orch", future, map[string]string{SignatureHeader: SignUiPath(secret, []byte(future))}, 400, ReasonStale},
		{"malformed", "/events/uipath/orch", malformed, map[string]string{SignatureHeader: SignUiPath(secret, []byte(malformed))}, 400, ReasonMalformed},
		{"too large", "/events/uipath/orch", big, map[string]string{SignatureHeader: SignUiPath(secret, []byte(big))}, 413, ReasonTooLarge},
		{"unknown profile", "/events/uipath/nobody", body, signed, 404, ReasonUnknownProfile},
		{"AA profile on the UiPath path", "/events/uipath/cr", body, signed, 404, ReasonUnknownProfile},
	}
	for _, tc := range cases {
		w := post(rc, tc.path, tc.body, tc.headers)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.status)
		}
		if strings.Contains(w.Body.String(), string(secret)) {
			t.Errorf("%s: the answer holds the secret", tc.name)
		}
		if c.m["uipath refused "+tc.reason] == 0 {
			t.Errorf("%s: refusal %s not counted: %v", tc.name, tc.reason, c.m)
		}
	}
	if w := httptest.NewRecorder(); true {
		rc.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/events/uipath/orch", nil))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", w.Code)
		}
	}
	if len(s.got) != 1 {
		t.Fatalf("refused events delivered: %+v", s.got)
	}
	// A ping is acknowledged and goes nowhere.
	ping := `{"Type":"ping","EventId":"p1","Timestamp":"2026-12-07T10:00:00Z"}`
	if w := post(rc, "/events/uipath/orch", ping, map[string]string{SignatureHeader: "sha256=" + hex.EncodeToString(mac(ping))}); w.Code != 202 || len(s.got) != 1 {
		t.Fatalf("ping: %d, delivered %d", w.Code, len(s.got))
	}
	// When Temporal cannot take the event, the sender is told to try again
	// and the event is not remembered as seen.
	s.fail = true
	body2 := strings.Replace(body, `"e1"`, `"e9"`, 1)
	sig2 := map[string]string{SignatureHeader: SignUiPath(secret, []byte(body2))}
	if w := post(rc, "/events/uipath/orch", body2, sig2); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("sink down: %d", w.Code)
	}
	s.fail = false
	if w := post(rc, "/events/uipath/orch", body2, sig2); w.Code != 202 || len(s.got) != 2 {
		t.Fatalf("after the sink is back: %d, delivered %d", w.Code, len(s.got))
	}
	if c.m["uipath verified "] == 0 || c.m["uipath delivered "] != 2 || c.m["uipath duplicate "] != 1 || c.m["uipath ignored "] != 1 {
		t.Fatalf("counts %v", c.m)
	}
}

func TestReceiver_AA(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	rc, s, c := newReceiver(t, now)
	id := "00112233445566778899aabbccddeeff"
	tok := CallbackToken([]byte("aa-key-0123456789abcdef"), "cr", id)
	h := map[string]string{CallbackIDHeader: id, CallbackTokenHeader: tok}
	body := `{"deploymentId":"dep-1","status":"COMPLETED"}`
	if w := post(rc, "/events/aa/cr", body, h); w.Code != 202 {
		t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
	if len(s.got) != 1 || s.got[0].ID != "cr/deployment/"+id || s.got[0].Event.RunID != "dep-1" || !s.got[0].Event.Terminal {
		t.Fatalf("delivered %+v", s.got)
	}
	if w := post(rc, "/events/aa/cr", body, h); w.Code != 202 || len(s.got) != 1 {
		t.Fatalf("duplicate: %d, delivered %d", w.Code, len(s.got))
	}
	other := "ffeeddccbbaa99887766554433221100"
	for name, hh := range map[string]map[string]string{
		"no headers":           nil,
		"token of another id":  {CallbackIDHeader: other, CallbackTokenHeader: tok},
		"id not ours":          {CallbackIDHeader: "../../x", CallbackTokenHeader: tok},
		"token without an id":  {CallbackTokenHeader: tok},
		"the key as the token": {CallbackIDHeader: id, CallbackTokenHeader: "aa-key-0123456789abcdef"},
	} {
		if w := post(rc, "/events/aa/cr", body, hh); w.Code != 401 {
			t.Errorf("%s: %d", name, w.Code)
		}
	}
	if w := post(rc, "/events/aa/cr", `not json`, h); w.Code != 400 {
		t.Errorf("malformed: %d", w.Code)
	}
	if len(s.got) != 1 || c.m["aa refused "+ReasonBadSignature] != 3 || c.m["aa refused "+ReasonUnsigned] != 2 {
		t.Fatalf("delivered %d, counts %v", len(s.got), c.m)
	}
}

func TestSeenSetBounded(t *testing.T) {
	now := time.Unix(0, 0)
	s := &seenSet{max: 3, ttl: time.Minute}
	for _, k := range []string{"a", "b", "c", "d"} {
		s.add(k, now)
	}
	if s.has("a", now) || !s.has("d", now) || len(s.at) != 3 {
		t.Fatalf("oldest kept or size %d", len(s.at))
	}
	if s.has("d", now.Add(time.Minute)) {
		t.Fatal("expired id still seen")
	}
}
