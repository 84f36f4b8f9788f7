package logging

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRedact: Redact never panics, is deterministic, keeps valid UTF-8
// valid, and a configured secret or a JWT planted anywhere in the input
// never survives.
func FuzzRedact(f *testing.F) {
	const secret = "fuzz-configured-secret-1"
	r := NewRedactor([]string{secret})
	for _, s := range []string{
		`{"accessToken":"a\"b","n":1}`, "Authorization: Bearer x", "{Token:x Profile:cr}", "Cookie: a=b; c=d",
		`{"body":"{\"password\":\"p\\\"q\"}"}`, "map[X-Ah-Openapi-App-Key:[k]]", "token: prose", "",
	} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, at int) {
		out := r.Redact(s)
		if out != r.Redact(s) {
			t.Fatal("not deterministic")
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if at < 0 || at > len(s) {
			at = len(s)
		}
		for _, planted := range []string{secret, jwt} {
			in := s[:at] + " " + planted + " " + s[at:]
			if got := r.Redact(in); strings.Contains(got, planted) {
				t.Fatalf("%q survives in %q", planted, got)
			}
		}
	})
}
