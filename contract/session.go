package contract

import "time"

// SessionInput starts a session workflow (ControlRoomSession, OrchestratorSession).
// Only Profile is required; the rest tunes the refresh policy.
type SessionInput struct {
	Profile string `json:"profile"`
	// RefreshAt is the fraction of a token's lifetime after which it is
	// renewed (default 0.75; a deterministic jitter of up to +0.05 is added).
	RefreshAt float64 `json:"refreshAt,omitempty"`
	// AccessDetailsMaxAge bounds the age of cached API Task access details (AA only; default 5m).
	AccessDetailsMaxAge Duration `json:"accessDetailsMaxAge,omitempty"`
	// KeepWarm: paths used within this window are refreshed ahead of time (AA only; default 15m).
	KeepWarm Duration `json:"keepWarm,omitempty"`
	// MaxAuthFailures consecutive non-retryable login failures put the session
	// in AuthFailed (default 3); it then waits AuthFailedBackoff (default 10m)
	// or a token request before trying again.
	MaxAuthFailures   int      `json:"maxAuthFailures,omitempty"`
	AuthFailedBackoff Duration `json:"authFailedBackoff,omitempty"`
	// CyclesPerRun bounds one run's history: the session continues as new
	// after this many renewals even if the server has not suggested it (default 200).
	CyclesPerRun int `json:"cyclesPerRun,omitempty"`
}

// SafetyMargin is how long before a token's expiry rpaflow stops handing it
// out: 5 s, or a tenth of the lifetime for short tokens (a 10 s token must
// still be usable).
func SafetyMargin(lifetime time.Duration) time.Duration {
	const margin = 5 * time.Second
	if lifetime > 0 && lifetime/10 < margin {
		return lifetime / 10
	}
	return margin
}

// DefaultMinValidity is what a token request with no minValidity asks for.
const DefaultMinValidity = 30 * time.Second

// TokenRequest is the argument of the "token" update.
type TokenRequest struct {
	// MinValidity: the returned token stays valid at least this long (default DefaultMinValidity).
	MinValidity Duration `json:"minValidity,omitempty"`
}

// TokenResult is the answer of the "token" update and query. The query
// answers with an empty Token when the session has none to hand out.
type TokenResult struct {
	Token      string    `json:"token"`
	Expiry     time.Time `json:"expiry"`
	Generation int64     `json:"generation"`
	// UsableUntil: the session stops handing this token out after this
	// moment (a safety margin before Expiry).
	UsableUntil time.Time `json:"usableUntil,omitzero"`
}

// WorkerOnly: a token answer is sealed with the worker-only key, which the
// codec endpoint does not hold.
func (TokenResult) WorkerOnly() bool { return true }

// Serves reports whether t can be handed to a caller needing minValidity at now.
func (t TokenResult) Serves(now time.Time, minValidity time.Duration) bool {
	return t.Token != "" && !now.After(t.UsableUntil) && t.Expiry.Sub(now) >= minValidity
}

// AccessDetailsRequest is the argument of the "accessDetails" update.
type AccessDetailsRequest struct {
	Paths       []string `json:"paths"`
	MinValidity Duration `json:"minValidity,omitempty"`
}

// AccessDetail is the execution URL and headers for one API Task path.
type AccessDetail struct {
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Generation int64             `json:"generation"`
	FetchedAt  time.Time         `json:"fetchedAt"`
	ValidUntil time.Time         `json:"validUntil"`
}

// Serves reports whether d can be handed to a caller needing minValidity
// at now (the rule readers of ValidUntil apply, as TokenResult.Serves).
func (d AccessDetail) Serves(now time.Time, minValidity time.Duration) bool {
	return d.URL != "" && d.ValidUntil.Sub(now) >= max(minValidity, 0)
}

// AccessDetailsResult maps each requested path to its details.
type AccessDetailsResult struct {
	Details map[string]AccessDetail `json:"details"`
}

// WorkerOnly: access details carry the API Task token in their headers.
func (AccessDetailsResult) WorkerOnly() bool { return true }

// InvalidateRequest reports that a consumer saw 401 with the token (or, when
// Path is set, the access details) of Generation.
type InvalidateRequest struct {
	Generation int64  `json:"generation"`
	Path       string `json:"path,omitempty"`
}

// InvalidateResult says which generation is current after the report.
type InvalidateResult struct {
	Generation int64 `json:"generation"`
	Renewed    bool  `json:"renewed"`
}

// SessionStatus is the answer of the "status" query. It never holds a secret.
type SessionStatus struct {
	Profile             string       `json:"profile"`
	State               string       `json:"state"` // starting | active | renewing | backoff | authFailed | closing | closed
	Generation          int64        `json:"generation"`
	IssuedAt            time.Time    `json:"issuedAt,omitzero"`
	Expiry              time.Time    `json:"expiry,omitzero"`
	NextRenewal         time.Time    `json:"nextRenewal,omitzero"`
	LastRefresh         time.Time    `json:"lastRefresh,omitzero"`
	Logins              int64        `json:"logins"`
	Refreshes           int64        `json:"refreshes"`
	ConsecutiveFailures int          `json:"consecutiveFailures"`
	LastError           string       `json:"lastError,omitempty"` // the platform's text; empty in answers to Nexus callers
	LastErrorType       ErrorType    `json:"lastErrorType,omitempty"`
	Paths               []PathStatus `json:"paths,omitempty"`
}

// PathStatus describes one cached access-details entry (no headers).
type PathStatus struct {
	Path       string    `json:"path"`
	FetchedAt  time.Time `json:"fetchedAt"`
	AgeSeconds float64   `json:"ageSeconds"`
	LastUsed   time.Time `json:"lastUsed"`
	Generation int64     `json:"generation"`
	// ValidUntil: the session hands these details out until then (the session's one validity rule for access details).
	ValidUntil time.Time `json:"validUntil,omitzero"`
	// TokenLifetime is the task token's own lifetime, when it states one.
	TokenLifetime Duration `json:"tokenLifetime,omitempty"`
}
