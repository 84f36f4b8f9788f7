package activities

import (
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

func TestCachedPathValidUntil(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		lifetime time.Duration
		maxAge   time.Duration
		want     time.Duration
	}{
		{"lifetime unknown: the max age", 0, 5 * time.Minute, 5 * time.Minute},
		{"12 h token: the max age", 12 * time.Hour, 5 * time.Minute, 5 * time.Minute},
		{"30 s token: its expiry less a tenth", 30 * time.Second, 5 * time.Minute, 27 * time.Second},
		{"2 min token: its expiry less 5 s", 2 * time.Minute, 5 * time.Minute, 115 * time.Second},
		{"token just outliving the max age", 5*time.Minute + 2*time.Second, 5 * time.Minute, 4*time.Minute + 57*time.Second},
	} {
		p := CachedPath{URL: "u", FetchedAt: at, Lifetime: contract.Duration(c.lifetime)}
		if got := p.ValidUntil(c.maxAge); !got.Equal(at.Add(c.want)) {
			t.Errorf("%s: ValidUntil = +%s, want +%s", c.name, got.Sub(at), c.want)
		}
		if d := p.Detail(c.maxAge); !d.ValidUntil.Equal(p.ValidUntil(c.maxAge)) {
			t.Errorf("%s: Detail carries validUntil %v, not the rule's", c.name, d.ValidUntil)
		}
	}
	d := CachedPath{URL: "u", FetchedAt: at, Lifetime: contract.Duration(30 * time.Second)}.Detail(5 * time.Minute)
	for _, c := range []struct {
		at   time.Duration
		minV time.Duration
		want bool
	}{
		{0, 0, true}, {27 * time.Second, 0, true}, {27*time.Second + time.Millisecond, 0, false},
		{20 * time.Second, 7 * time.Second, true}, {20 * time.Second, 8 * time.Second, false},
	} {
		if got := d.Serves(at.Add(c.at), c.minV); got != c.want {
			t.Errorf("Serves(+%s, %s) = %v, want %v", c.at, c.minV, got, c.want)
		}
	}
	if (contract.AccessDetail{ValidUntil: at.Add(time.Hour)}).Serves(at, 0) {
		t.Error("details without a URL serve")
	}
}
