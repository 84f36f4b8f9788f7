package activities

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/profile"

	"github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/session"
)

// HubProfile is an Automation Hub client with the token expiry date the admin set.
type HubProfile struct {
	Client  *automationhub.Client
	Expires time.Time // zero when not configured
}

// Registry resolves profile names to provider clients. It is filled at
// start-up and read-only afterwards.
type Registry struct {
	kinds map[string]profile.Kind
	aa    map[string]*automationanywhere.Client
	orch  map[string]*orchestrator.Client
	hub   map[string]HubProfile
	// events holds the profiles with events on.
	events map[string]eventSettings
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]profile.Kind{}, aa: map[string]*automationanywhere.Client{},
		orch: map[string]*orchestrator.Client{}, hub: map[string]HubProfile{}, events: map[string]eventSettings{}}
}

// AddAA registers a Control Room profile.
func (r *Registry) AddAA(name string, c *automationanywhere.Client) {
	r.kinds[name] = profile.KindAA
	r.aa[name] = c
}

// AddOrchestrator registers an Orchestrator profile.
func (r *Registry) AddOrchestrator(name string, c *orchestrator.Client) {
	r.kinds[name] = profile.KindOrchestrator
	r.orch[name] = c
}

// AddHub registers an Automation Hub profile.
func (r *Registry) AddHub(name string, p HubProfile) {
	r.kinds[name] = profile.KindHub
	r.hub[name] = p
}

// AA returns the Control Room client of the named profile.
func (r *Registry) AA(name string) (*automationanywhere.Client, error) {
	if err := r.check(name, profile.KindAA); err != nil {
		return nil, err
	}
	return r.aa[name], nil
}

// Orchestrator returns the Orchestrator client of profile.
func (r *Registry) Orchestrator(name string) (*orchestrator.Client, error) {
	if err := r.check(name, profile.KindOrchestrator); err != nil {
		return nil, err
	}
	return r.orch[name], nil
}

// Hub returns the Automation Hub profile.
func (r *Registry) Hub(name string) (HubProfile, error) {
	if err := r.check(name, profile.KindHub); err != nil {
		return HubProfile{}, err
	}
	return r.hub[name], nil
}

func (r *Registry) check(name string, kind profile.Kind) error {
	got, ok := r.kinds[name]
	if !ok {
		return contract.InvalidInputError("profile", "%q is not configured on this worker; known %s profiles: %s (add it to RPAFLOW_PROFILES with RPAFLOW_<NAME>_KIND=%s)",
			name, kind, r.list(kind), kind)
	}
	if got != kind {
		return contract.InvalidInputError("profile", "%q is configured with kind %s, but this workflow needs kind %s; known %s profiles: %s",
			name, got, kind, kind, r.list(kind))
	}
	return nil
}

func (r *Registry) list(kind profile.Kind) string {
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

// RegistryOptions tune the provider clients BuildRegistry creates.
type RegistryOptions struct {
	// HTTPClient is shared by every provider client; nil uses each
	// provider's default (timeouts included).
	HTTPClient *http.Client
	// Observer, if set, is told about every provider HTTP call (metrics, spans).
	Observer httpobs.Observer
}

// BuildRegistry creates one provider client per profile.
func BuildRegistry(profiles []profile.Profile, o RegistryOptions) (*Registry, error) {
	reg := NewRegistry()
	for _, p := range profiles {
		if _, dup := reg.kinds[p.Name]; dup {
			return nil, fmt.Errorf("profile %q is listed twice; give each profile its own name", p.Name)
		}
		var err error
		switch p.Kind {
		case profile.KindAA:
			var c *automationanywhere.Client
			c, err = automationanywhere.New(automationanywhere.Options{BaseURL: p.URL, Username: p.Username, APIKey: p.APIKey, Password: p.Password,
				MultipleLogin: p.MultipleLogin, MFA: automationanywhere.TOTP{Secret: p.MFASecret, Digits: p.MFADigits, Period: p.MFAPeriod}, AllowHTTP: p.AllowHTTP, ExecutionHosts: p.ExecutionHosts, HTTPClient: o.HTTPClient, Observer: o.Observer})
			if err == nil {
				reg.AddAA(p.Name, c)
			}
		case profile.KindOrchestrator:
			var c *orchestrator.Client
			c, err = orchestrator.New(orchestrator.Options{BaseURL: p.URL, Organization: p.Organization, Tenant: p.Tenant,
				TokenURL: p.TokenURL, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
				Username: p.Username, Password: p.Password, TenancyName: p.TenancyName, AllowHTTP: p.AllowHTTP, HTTPClient: o.HTTPClient, Observer: o.Observer})
			if err == nil {
				reg.AddOrchestrator(p.Name, c)
			}
		case profile.KindHub:
			var c *automationhub.Client
			c, err = automationhub.New(automationhub.Options{BaseURL: p.URL, TenantID: p.TenantID, Token: p.Token,
				AppKey: p.AppKey, AllowHTTP: p.AllowHTTP, HTTPClient: o.HTTPClient, Observer: o.Observer})
			if err == nil {
				reg.AddHub(p.Name, HubProfile{Client: c, Expires: p.TokenExpires})
			}
		default:
			err = fmt.Errorf("kind %q is not a platform; use one of %v", p.Kind, profile.Kinds)
		}
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", p.Name, err)
		}
		reg.addEvents(p)
	}
	return reg, nil
}

// Kind returns the platform of the named profile.
func (r *Registry) Kind(name string) (profile.Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// SessionRef is the session of the named profile: a Control Room or an
// Orchestrator session; any other profile is InvalidInput.
func (r *Registry) SessionRef(name string) (session.Ref, error) {
	switch k, _ := r.Kind(name); k {
	case profile.KindAA:
		return session.ControlRoom(name), nil
	case profile.KindOrchestrator:
		return session.Orchestrator(name), nil
	case profile.KindHub:
		return session.Ref{}, contract.InvalidInputError("profile", "%q is an Automation Hub profile, whose token has no session; ask its token watch (%s) instead", name, contract.HubWatchID(name))
	}
	return session.Ref{}, r.check(name, profile.KindAA)
}
