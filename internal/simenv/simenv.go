// Package simenv puts the three platform simulators behind one handler and
// knows the worker environment that matches their demo credentials. The
// simulator binary, `make run` and the integration tests share it.
package simenv

import (
	"net/http"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/profile"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub/hubsim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator/orchsim"
)

// Where the UiPath simulators live under the shared base URL.
const (
	Organization = "rpaflow"
	Tenant       = "DefaultTenant"
	HubPath      = "/" + Organization + "/" + Tenant + "/automationhub_/api/v1/openapi"
)

// Options tune the simulators (zero values keep each simulator's defaults).
type Options struct {
	AATokenLifetime           time.Duration
	OrchestratorTokenLifetime time.Duration
	AA                        *aasim.Options   // replaces the AA demo options when set
	Orchestrator              *orchsim.Options // replaces the Orchestrator demo options when set
}

// Sims is the combined handler.
type Sims struct {
	AA           *aasim.Server
	Orchestrator *orchsim.Server
	Hub          *hubsim.Server
}

// New builds the simulators with their demo data.
func New(o Options) *Sims {
	ao := aasim.DefaultOptions()
	if o.AA != nil {
		ao = *o.AA
	}
	if o.AATokenLifetime > 0 {
		ao.TokenLifetime = o.AATokenLifetime
	}
	oo := orchsim.DefaultOptions()
	if o.Orchestrator != nil {
		oo = *o.Orchestrator
	}
	oo.Organization, oo.Tenant = Organization, Tenant
	if o.OrchestratorTokenLifetime > 0 {
		oo.TokenLifetime = o.OrchestratorTokenLifetime
	}
	return &Sims{AA: aasim.New(ao), Orchestrator: orchsim.New(oo), Hub: hubsim.New(hubsim.DefaultOptions())}
}

// ServeHTTP routes by path: Automation Hub and UiPath paths are
// recognisable; everything else is the Control Room.
func (s *Sims) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/automationhub_/") || strings.Contains(p, "/api/v1/openapi"):
		s.Hub.ServeHTTP(w, r)
	case strings.Contains(p, "/identity_/") || strings.HasPrefix(p, "/identity/") || strings.Contains(p, "/orchestrator_/") ||
		strings.HasPrefix(p, "/odata/") || strings.HasPrefix(strings.ToLower(p), "/api/account/"):
		s.Orchestrator.ServeHTTP(w, r)
	default:
		s.AA.ServeHTTP(w, r)
	}
}

// WorkerEnv is the environment of a worker using the demo profiles "cr",
// "orch" and "hub" against simulators at base (e.g. http://127.0.0.1:8090).
func WorkerEnv(base string) []string {
	base = strings.TrimRight(base, "/")
	return []string{
		"RPAFLOW_PROFILES=cr,orch,hub",
		"RPAFLOW_CR_KIND=automationanywhere",
		"RPAFLOW_CR_URL=" + base,
		"RPAFLOW_CR_ALLOW_HTTP=true",
		"RPAFLOW_CR_USERNAME=" + aasim.DemoUsername,
		"RPAFLOW_CR_API_KEY=" + aasim.DemoAPIKey,
		"RPAFLOW_ORCH_KIND=uipath-orchestrator",
		"RPAFLOW_ORCH_URL=" + base,
		"RPAFLOW_ORCH_ALLOW_HTTP=true",
		"RPAFLOW_ORCH_ORGANIZATION=" + Organization,
		"RPAFLOW_ORCH_TENANT=" + Tenant,
		"RPAFLOW_ORCH_CLIENT_ID=" + orchsim.DemoClientID,
		"RPAFLOW_ORCH_CLIENT_SECRET=" + orchsim.DemoClientSecret,
		"RPAFLOW_ORCH_SCOPES=OR.Folders.Read OR.Execution.Read OR.Jobs OR.Queues",
		"RPAFLOW_HUB_KIND=uipath-automationhub",
		"RPAFLOW_HUB_URL=" + base + HubPath,
		"RPAFLOW_HUB_ALLOW_HTTP=true",
		"RPAFLOW_HUB_TENANT_ID=" + hubsim.DemoTenantID,
		"RPAFLOW_HUB_TOKEN=" + hubsim.DemoToken,
		"RPAFLOW_HUB_APP_KEY=" + hubsim.DemoAppKey,
		"RPAFLOW_HUB_TOKEN_EXPIRES=" + time.Now().Add(30*24*time.Hour).UTC().Format("2006-01-02"),
	}
}

// Profiles are the demo profiles of WorkerEnv as a host application that
// embeds rpaflow would pass them to the plugin.
func Profiles(base string) ([]profile.Profile, error) {
	env := map[string]string{}
	for _, kv := range WorkerEnv(base) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return config.LoadProfiles(env)
}
