package activities

import (
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// CachedPath is one cached set of API Task access details.
type CachedPath struct {
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	FetchedAt  time.Time         `json:"fetchedAt"`
	LastUsed   time.Time         `json:"lastUsed"`
	Generation int64             `json:"generation"`
	// Lifetime is the task token's own lifetime when the token states it
	// (a JWT's exp − iat), counted from FetchedAt; 0 when unknown.
	Lifetime contract.Duration `json:"lifetime,omitempty"`
}

// ValidUntil is the one validity rule for access details: maxAge after
// they were fetched or, when the task token's lifetime is known, its
// expiry less the safety margin, whichever comes first.
func (p CachedPath) ValidUntil(maxAge time.Duration) time.Time {
	until := p.FetchedAt.Add(maxAge)
	if life := p.Lifetime.D(); life > 0 {
		if exp := p.FetchedAt.Add(life - contract.SafetyMargin(life)); exp.Before(until) {
			until = exp
		}
	}
	return until
}

// Detail is what a consumer is handed for p under maxAge.
func (p CachedPath) Detail(maxAge time.Duration) contract.AccessDetail {
	return contract.AccessDetail{URL: p.URL, Headers: p.Headers, Generation: p.Generation,
		FetchedAt: p.FetchedAt, ValidUntil: p.ValidUntil(maxAge)}
}
