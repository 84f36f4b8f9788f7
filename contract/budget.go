package contract

import "time"

// Tenant budgets: status calls of every worker for one profile (one
// tenant) draw from one budget workflow, leased in small batches, so the
// tenant's rate limit holds however many workers poll.
const (
	BudgetWorkflow = "TenantBudget"
	// UpdateBudgetLease asks for call permits; it answers at once.
	UpdateBudgetLease = "lease"
	// UpdateBudgetPause stops every grant for a while (a 429's Retry-After).
	UpdateBudgetPause = "pause"
	// DefaultOrchestratorBudget is UiPath's documented limit on job reads
	// per minute per tenant.
	DefaultOrchestratorBudget = 100
)

// BudgetID is the workflow ID of a profile's tenant budget.
func BudgetID(profile string) string { return "rpaflow-budget:" + profile }

// BudgetInput starts a budget; State carries it across continue-as-new.
type BudgetInput struct {
	Profile   string       `json:"profile"`
	PerMinute int          `json:"perMinute"`
	State     *BudgetState `json:"state,omitempty"`
}

// BudgetState is a budget's token bucket.
type BudgetState struct {
	PerMinute   int       `json:"perMinute"`
	Tokens      float64   `json:"tokens"`
	At          time.Time `json:"at"` // when Tokens was computed
	PausedUntil time.Time `json:"pausedUntil,omitzero"`
	Granted     int64     `json:"granted"`
	Pauses      int64     `json:"pauses"`
}

// BudgetLease asks for up to Want permits; PerMinute is the asking
// worker's configuration (the budget follows the latest).
type BudgetLease struct {
	Want      int `json:"want"`
	PerMinute int `json:"perMinute"`
}

// BudgetGrant answers a lease: Granted permits, to be used within
// ValidFor; with none, ask again after RetryAfter.
type BudgetGrant struct {
	Granted    int      `json:"granted"`
	ValidFor   Duration `json:"validFor,omitempty"`
	RetryAfter Duration `json:"retryAfter,omitempty"`
}

// BudgetPause pauses the budget for For (from the platform's Retry-After).
type BudgetPause struct {
	For Duration `json:"for"`
}
