package activities

import (
	"testing"
	"time"
)

// PaceMarks sets how markSent asks again for the rest of t.
func PaceMarks(t *testing.T, wait, patience time.Duration) {
	oldWait, oldPatience := markRetryWait, markPatience
	markRetryWait, markPatience = wait, patience
	t.Cleanup(func() { markRetryWait, markPatience = oldWait, oldPatience })
}
