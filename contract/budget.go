package contract

import "time"

// Tenant budgets: status calls of every worker for one profile (one
// tenant) draw from one budget workflow, leased in batches (one lease in
// flight per worker), so the tenant's rate limit holds however many workers
// poll.
const (
	BudgetWorkflow = "TenantBudget"
	// UpdateBudgetLease asks for call permits; it answers once it grants
	// some, or after a few seconds with none.
	UpdateBudgetLease = "lease"
	// UpdateBudgetPause stops every grant for a while (a 429's Retry-After).
	UpdateBudgetPause = "pause"
	// SignalBudgetPause is UpdateBudgetPause as a signal (BudgetPause):
	// workers send it, so a burst of 429s takes no update slots.
	SignalBudgetPause = "pause"
	// SignalBudgetUrgent tells the budget that a worker's lease in flight
	// now serves event-confirming reads too (BudgetUrgent).
	SignalBudgetUrgent = "urgent"
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
	// Waiting is how many permits the leases waiting in the budget ask for.
	Waiting int `json:"waiting,omitempty"`
}

// BudgetLease asks for up to Want permits, Urgent of them for reads that
// confirm an event (served before the others); PerMinute is the asking
// worker's configuration (the budget follows the latest). Worker names the
// asking worker process.
type BudgetLease struct {
	Want      int    `json:"want"`
	Urgent    int    `json:"urgent,omitempty"`
	PerMinute int    `json:"perMinute"`
	Worker    string `json:"worker,omitempty"`
}

// BudgetUrgent raises the urgent count of Worker's waiting lease.
type BudgetUrgent struct {
	Worker string `json:"worker"`
	Urgent int    `json:"urgent"`
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
