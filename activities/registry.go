package activities

import (
	"github.com/rpaflow/rpaflow/contract"
	"sort"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// Profile kinds as configured in RPAFLOW_<NAME>_KIND.
const (
	KindAA           = "automationanywhere"
	KindOrchestrator = "uipath-orchestrator"
	KindHub          = "uipath-automationhub"
)

// HubProfile is an Automation Hub client with the token expiry date the admin set.
type HubProfile struct {
	Client  *automationhub.Client
	Expires time.Time // zero when not configured
}

// Registry resolves profile names to provider clients. It is filled at
// start-up and read-only afterwards.
type Registry struct {
	kinds map[string]string
	aa    map[string]*automationanywhere.Client
	orch  map[string]*orchestrator.Client
	hub   map[string]HubProfile
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]string{}, aa: map[string]*automationanywhere.Client{},
		orch: map[string]*orchestrator.Client{}, hub: map[string]HubProfile{}}
}

// AddAA registers a Control Room profile.
func (r *Registry) AddAA(name string, c *automationanywhere.Client) {
	r.kinds[name] = KindAA
	r.aa[name] = c
}

// AddOrchestrator registers an Orchestrator profile.
func (r *Registry) AddOrchestrator(name string, c *orchestrator.Client) {
	r.kinds[name] = KindOrchestrator
	r.orch[name] = c
}

// AddHub registers an Automation Hub profile.
func (r *Registry) AddHub(name string, p HubProfile) { r.kinds[name] = KindHub; r.hub[name] = p }

// AA returns the Control Room client of profile.
func (r *Registry) AA(profile string) (*automationanywhere.Client, error) {
	if err := r.check(profile, KindAA); err != nil {
		return nil, err
	}
	return r.aa[profile], nil
}

// Orchestrator returns the Orchestrator client of profile.
func (r *Registry) Orchestrator(profile string) (*orchestrator.Client, error) {
	if err := r.check(profile, KindOrchestrator); err != nil {
		return nil, err
	}
	return r.orch[profile], nil
}

// Hub returns the Automation Hub profile.
func (r *Registry) Hub(profile string) (HubProfile, error) {
	if err := r.check(profile, KindHub); err != nil {
		return HubProfile{}, err
	}
	return r.hub[profile], nil
}

func (r *Registry) check(profile, kind string) error {
	got, ok := r.kinds[profile]
	if !ok {
		return contract.InvalidInputError("profile", "%q is not configured on this worker; known %s profiles: %s (add it to RPAFLOW_PROFILES with RPAFLOW_<NAME>_KIND=%s)",
			profile, kind, r.list(kind), kind)
	}
	if got != kind {
		return contract.InvalidInputError("profile", "%q is configured with kind %s, but this workflow needs kind %s; known %s profiles: %s",
			profile, got, kind, kind, r.list(kind))
	}
	return nil
}

func (r *Registry) list(kind string) string {
	var names []string
	for n, k := range r.kinds {
		if k == kind {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
