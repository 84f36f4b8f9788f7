package automationanywhere

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseError: parseError never panics, is deterministic, keeps valid
// UTF-8 valid, and reads back the code and message of any well-formed
// {code,details,message} body.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"code":"auth.token.invalid","details":null,"message":"Authentication token is invalid"}`,
		`{"code":"UM1117","message":"Access token expected in the 'X-Authorization' header"}`,
		`{"code":400,"details":{"field":"botId"},"message":"bad"}`,
		`{"code":null,"details":["a",1,true],"message":""}`,
		`{"errors":{"x":{"code":"hotbot.allocation.not.found"}}}`,
		`not json`, `[]`, `null`, `{"code":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, details := parseError(body)
		c2, m2, d2 := parseError(body)
		if code != c2 || msg != m2 || details != d2 {
			t.Fatalf("not deterministic for %q", body)
		}
		if utf8.Valid(body) && (!utf8.ValidString(code) || !utf8.ValidString(msg) || !utf8.ValidString(details)) {
			t.Fatalf("invalid UTF-8 out of valid input %q", body)
		}
		// Round trip: a body we build from the parsed code and message
		// parses back to the same values.
		if code != "" && !strings.ContainsRune(code, utf8.RuneError) && !strings.ContainsRune(msg, utf8.RuneError) {
			b, err := json.Marshal(map[string]any{"code": code, "message": msg, "details": nil})
			if err != nil {
				t.Fatal(err)
			}
			if c3, m3, d3 := parseError(b); c3 != code || m3 != msg || d3 != "" {
				t.Fatalf("re-parse of %s = %q %q %q, want %q %q \"\"", b, c3, m3, d3, code, msg)
			}
		}
	})
}
