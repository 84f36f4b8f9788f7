package contract

import (
	"testing"
	"time"
)

func TestTokenResultServes(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tok := TokenResult{Token: "t", Expiry: now.Add(20 * time.Second), UsableUntil: now.Add(18 * time.Second), Generation: 3}
	for _, c := range []struct {
		name string
		tok  TokenResult
		at   time.Time
		minV time.Duration
		want bool
	}{
		{"fresh", tok, now, 3 * time.Second, true},
		{"exactly minValidity left", tok, now.Add(17 * time.Second), 3 * time.Second, true},
		{"less than minValidity left", tok, now.Add(17*time.Second + time.Millisecond), 3 * time.Second, false},
		{"inside the safety margin", tok, now.Add(18*time.Second + time.Millisecond), 0, false},
		{"expired", tok, now.Add(21 * time.Second), 0, false},
		{"no token", TokenResult{Expiry: tok.Expiry, UsableUntil: tok.UsableUntil}, now, 0, false},
		{"asks more than the lifetime", tok, now, time.Minute, false},
	} {
		if got := c.tok.Serves(c.at, c.minV); got != c.want {
			t.Errorf("%s: Serves = %v, want %v", c.name, got, c.want)
		}
	}
}
