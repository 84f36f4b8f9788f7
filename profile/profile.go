// Package profile describes the named platform credentials rpaflow runs
// with: which platform, where, and how to log in. The standalone worker
// reads them from RPAFLOW_* variables; a host application that adds the
// rpaflow plugin to its own worker may build them in code or read the same
// variables (plugin.ProfilesFromEnv). Profiles live in the worker's memory
// only: workflows refer to them by name and never see a credential.
package profile

import (
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
}

// Secrets returns the profile's secret values, for log redaction.
func (p Profile) Secrets() []string {
	return slices.DeleteFunc([]string{p.Password, p.APIKey, p.ClientSecret, p.Token, p.AppKey, p.MFASecret},
		func(s string) bool { return s == "" })
}
