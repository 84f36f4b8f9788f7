package workflows

import (
	"time"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// sessionInput is what a session workflow runs with: the caller's
// contract.SessionInput and, from a run that continued as new, the state it
// carries. On the wire it is SessionInput's object plus "state", so runs
// started or continued by earlier versions read the same.
type sessionInput struct {
	contract.SessionInput
	State *sessionState `json:"state,omitempty"`
}

// sessionState is what a session carries into its next run.
type sessionState struct {
	Token       string                            `json:"token,omitempty"`
	IssuedAt    time.Time                         `json:"issuedAt"`
	Expiry      time.Time                         `json:"expiry"`
	Generation  int64                             `json:"generation"`
	PathSeq     int64                             `json:"pathSeq"`
	LastRefresh time.Time                         `json:"lastRefresh"`
	Logins      int64                             `json:"logins"`
	Refreshes   int64                             `json:"refreshes"`
	Paths       map[string]*activities.CachedPath `json:"paths,omitempty"`
	// Failure state, so a run that continues as new while backing off (or
	// in AuthFailed) keeps its backoff instead of hammering the platform.
	Failures      int                `json:"failures,omitempty"`
	AuthFailed    bool               `json:"authFailed,omitempty"`
	BackoffUntil  time.Time          `json:"backoffUntil,omitzero"`
	LastError     string             `json:"lastError,omitempty"`
	LastErrorType contract.ErrorType `json:"lastErrorType,omitempty"`
}

// WorkerOnly: a continued run's input carries the token, so rpaflow's data
// converter seals it with the worker-only key.
func (in sessionInput) WorkerOnly() bool { return in.State != nil }
