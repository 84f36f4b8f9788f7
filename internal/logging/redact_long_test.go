package logging

import (
	"strings"
	"testing"
	"time"
)

// A long line of unclosed quoted values is redacted in linear time: a
// platform's error text must not stall the logger.
func TestRedactUnclosedValuesLinear(t *testing.T) {
	line := strings.Repeat(`"token":"x `, 20000)
	start := time.Now()
	NewRedactor(nil).Redact(line)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("redacting %d bytes of unclosed values took %v", len(line), d)
	}
}
