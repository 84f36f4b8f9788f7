// Package profile describes the named platform credentials rpaflow runs
// with: which platform, where, and how to log in. The standalone worker
// reads them from RPAFLOW_* variables; a host application that adds the
// rpaflow plugin to its own worker may build them in code or read the same
// variables (plugin.ProfilesFromEnv). Profiles live in the worker's memory
// only: workflows refer to them by name and never see a credential.
package profile

import (
	"fmt"
	"slices"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// Kind is the platform a profile talks to.
type Kind string

// The supported platforms, as RPAFLOW_<NAME>_KIND spells them.
const (
	KindAA           Kind = "automationanywhere"
	KindOrchestrator Kind = "uipath-orchestrator"
	KindHub          Kind = "uipath-automationhub"
)

// Kinds lists the supported platforms in documentation order.
var Kinds = []Kind{KindAA, KindOrchestrator, KindHub}

// Profile is one named set of platform credentials.
type Profile struct {
	Name      string // lower-case letters, digits and '-'
	Kind      Kind
	URL       string
	AllowHTTP bool // plain http: simulators and local stacks only

	// Automation Anywhere (Username/Password also serve Orchestrator's legacy login)
	Username       string
	Password       string
	APIKey         string
	MultipleLogin  bool
	ExecutionHosts []string // hosts an API Task token may be sent to
	// Two-factor logins: the TOTP seed (base32, as an authenticator app
	// would scan it; empty: none), the code's digits and period.
	MFASecret string
	MFADigits int
	MFAPeriod time.Duration

	// Capacity pools (Control Room and Orchestrator), from RPAFLOW_<NAME>_POOLS.
	Pools []contract.PoolConfig
	// TenantBudgetPerMinute bounds status calls for the tenant across all
	// workers (0: no shared budget).
	TenantBudgetPerMinute int

	// UiPath Orchestrator
	Organization string
	Tenant       string
	ClientID     string
	ClientSecret string
	TokenURL     string
	TenancyName  string
	Scopes       []string

	// UiPath Automation Hub
	TenantID     string
	Token        string
	AppKey       string
	TokenExpires time.Time

	// Events (UiPath webhooks, AA deploy callbacks): with them on, a wait
	// polls only every ReconcileInterval and when an event arrives.
	// WebhookSecret is the UiPath webhook's secret, or for AA the key each
	// deploy's callback token is derived from.
	WebhookSecret string
	// CallbackURL is the public base URL of the events receiver as the
	// Control Room reaches it (AA; e.g. https://rpa-events.example.com).
	CallbackURL       string
	ReconcileInterval time.Duration // 0: DefaultReconcileInterval
}

// DefaultReconcileInterval is how often a wait reads the platform when
// events are on and none arrives.
const DefaultReconcileInterval = 10 * time.Minute

// EventsOn reports whether the profile learns of ended runs from events.
func (p Profile) EventsOn() bool {
	switch p.Kind {
	case KindOrchestrator:
		return p.WebhookSecret != ""
	case KindAA:
		return p.CallbackURL != "" && p.WebhookSecret != ""
	}
	return false
}

// Secrets returns the profile's secret values, for log redaction.
func (p Profile) Secrets() []string {
	return slices.DeleteFunc([]string{p.Password, p.APIKey, p.ClientSecret, p.Token, p.AppKey, p.MFASecret, p.WebhookSecret},
		func(s string) bool { return s == "" })
}

// NexusQueue is the task queue one Nexus endpoint targets and the profiles
// the callers of that endpoint may use. An operator creates one endpoint
// per calling team, so the queue stands for the caller.
type NexusQueue struct {
	TaskQueue string
	Profiles  []string
}

// CheckNexusQueues reports the first problem of queues against the
// configured profile names: a blank, duplicate or unsafe queue name, a
// queue without profiles, a profile listed twice or not configured.
func CheckNexusQueues(queues []NexusQueue, configured []string) error {
	seen := map[string]bool{}
	for _, q := range queues {
		if err := checkQueueName(q.TaskQueue); err != nil {
			return err
		}
		if seen[q.TaskQueue] {
			return fmt.Errorf("task queue %q is listed twice; give each queue one entry with all its profiles", q.TaskQueue)
		}
		seen[q.TaskQueue] = true
		if len(q.Profiles) == 0 {
			return fmt.Errorf("task queue %q allows no profile; list the profiles its callers may use, e.g. %s=cr|orch", q.TaskQueue, q.TaskQueue)
		}
		for i, name := range q.Profiles {
			switch {
			case name == "":
				return fmt.Errorf("task queue %q: profile %d is empty; separate profile names with a single '|'", q.TaskQueue, i+1)
			case slices.Contains(q.Profiles[:i], name):
				return fmt.Errorf("task queue %q lists profile %q twice", q.TaskQueue, name)
			case !slices.Contains(configured, name):
				return fmt.Errorf("task queue %q allows profile %q, which is not configured; add it to the profiles or remove it from this queue", q.TaskQueue, name)
			}
		}
	}
	return nil
}

// checkQueueName keeps queue names to a safe alphabet: the queue becomes
// part of workflow IDs (':' separates their parts) and of log lines.
func checkQueueName(q string) error {
	if q == "" {
		return fmt.Errorf("a task queue name is empty; write entries as queue=profile|profile, separated by ';'")
	}
	if len(q) > 200 {
		return fmt.Errorf("task queue %.20q… is longer than 200 characters", q)
	}
	for _, r := range q {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("task queue %q contains %q; use letters, digits, '-', '_' and '.'", q, r)
		}
	}
	return nil
}
