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
	// Next is the moment of the next permit to grant (permits granted
	// ahead of time); Late sums how long leases waited while permits went
	// ungranted (the budget's own workflow tasks ran late).
	Next time.Time `json:"next,omitzero"`
	Late Duration  `json:"late,omitempty"`
}

// BudgetLease asks for up to Want permits, Urgent of them for reads that
// confirm an event (served before the others); PerMinute is the asking
// worker's configuration (the budget follows the latest). Worker names the
// asking worker process. Ahead says the worker takes permits granted ahead
// of time (BudgetGrant.At); with Want 0 such a worker only listens for a
// pause while it holds permits. Lag is how long the worker's last grant
// took to reach it: no permit is granted for a moment sooner than that.
type BudgetLease struct {
	Want      int      `json:"want"`
	Urgent    int      `json:"urgent,omitempty"`
	PerMinute int      `json:"perMinute"`
	Worker    string   `json:"worker,omitempty"`
	Ahead     bool     `json:"ahead,omitempty"`
	Lag       Duration `json:"lag,omitempty"`
}

// BudgetUrgent raises the urgent count (and the permits wanted) of
// Worker's waiting lease.
type BudgetUrgent struct {
	Worker string `json:"worker"`
	Urgent int    `json:"urgent"`
	Want   int    `json:"want,omitempty"`
}

// BudgetGrant answers a lease: Granted permits, permit i to be used from
// At + i × Every (the budget's clock) and within ValidFor after that; with
// no At, at once and within ValidFor. Now is the budget's clock when it
// granted, so a worker can place its own clock against it. PausedUntil, if
// set, is a pause of the tenant: permits held for earlier moments are void.
// With none granted and RetryAfter set, ask again after RetryAfter.
type BudgetGrant struct {
	Granted     int       `json:"granted"`
	At          time.Time `json:"at,omitzero"`
	Every       Duration  `json:"every,omitempty"`
	ValidFor    Duration  `json:"validFor,omitempty"`
	Now         time.Time `json:"now,omitzero"`
	PausedUntil time.Time `json:"pausedUntil,omitzero"`
	RetryAfter  Duration  `json:"retryAfter,omitempty"`
}

// BudgetPause pauses the budget for For (from the platform's Retry-After).
type BudgetPause struct {
	For Duration `json:"for"`
}
