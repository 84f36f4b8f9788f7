package logging

import (
	"strconv"
	"strings"
	"testing"
)

// A value the line ends inside, as in a truncated platform body, is redacted
// to the line's end rather than logged.
func TestRedactUnclosedValues(t *testing.T) {
	for _, line := range []string{
		`{"token":"abc123secret`,
		`error body: {"accessToken":"abc123secret` + "\nnext line",
		strings.Repeat(`"token":"abc123secret `, 2000),
	} {
		got := NewRedactor(nil).Redact(line)
		if strings.Contains(got, "abc123secret") {
			t.Errorf("Redact(%.60q…) = %.120q…: an unclosed value is left in clear", line, got)
		}
		if strings.Contains(line, "next line") && !strings.Contains(got, "next line") {
			t.Errorf("Redact(%q) = %q: redaction ran past the line's end", line, got)
		}
	}
}

// Redaction must stay linear on long lines of unclosed values, so a
// platform's error text cannot stall the logger; compare ns/op between the two sizes (4x the input should cost about 4x).
func BenchmarkRedactUnclosedValues(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		line := strings.Repeat(`"token":"x `, n)
		b.Run("values="+strconv.Itoa(n), func(b *testing.B) {
			r := NewRedactor(nil)
			for b.Loop() {
				r.Redact(line)
			}
		})
	}
}
