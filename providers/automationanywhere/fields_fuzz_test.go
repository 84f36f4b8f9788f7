package automationanywhere

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzFlexID: an id written as a number or a string reads to the same
// text; anything else is an error, never a panic.
func FuzzFlexID(f *testing.F) {
	for _, s := range []string{`12`, `"12"`, `1e3`, `-0`, `null`, `"a\"b"`, `{}`, `[1]`, `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var id flexID
		if err := json.Unmarshal(b, &id); err != nil {
			return
		}
		s := string(id)
		if strings.HasPrefix(strings.TrimSpace(string(b)), `"`) {
			return
		}
		quoted, _ := json.Marshal(s)
		var again flexID
		if err := json.Unmarshal(quoted, &again); err != nil || again != id {
			t.Fatalf("%s read as %q, its string form as %q (%v)", b, s, again, err)
		}
	})
}

// FuzzParseTime: any text is a time or the zero time; a time parseTime
// returns formats back to itself.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-22T10:00:00Z", " 2026-11-22T10:00:00.123+05:30 ", "", "yesterday", "2026-13-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := parseTime(s)
		if v.IsZero() || v.Year() < 0 || v.Year() > 9999 {
			return
		}
		if back := parseTime(v.Format(time.RFC3339Nano)); !back.Equal(v) {
			t.Fatalf("%q -> %v -> %v", s, v, back)
		}
	})
}

// FuzzCheckExecutionURL: a URL the check accepts is absolute https (or
// http only when allowed), carries no user information and names a host
// of the allow-list.
func FuzzCheckExecutionURL(f *testing.F) {
	for _, s := range []string{"https://hotbot-1.prod.my.automationanywhere.digital/execute", "https://cr.example.com:8443/x", "http://cr.example.com/x",
		"https://u:p@cr.example.com/", "https://automationanywhere.digital.evil.org/", "https://CR.EXAMPLE.COM./", "//cr.example.com/x"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowHTTP bool) {
		c, err := New(Options{BaseURL: "https://cr.example.com", Username: "u", APIKey: "k", AllowHTTP: allowHTTP})
		if err != nil {
			t.Fatal(err)
		}
		if c.CheckExecutionURL(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.User != nil || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
			t.Fatalf("accepted %q", raw)
		}
		h := strings.ToLower(u.Hostname())
		if h != "cr.example.com" && !strings.HasSuffix(h, ".automationanywhere.digital") {
			t.Fatalf("accepted %q on host %q", raw, h)
		}
	})
}
