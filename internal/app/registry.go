// Package app assembles rpaflow: provider clients from configuration,
// workflow and activity registration, and the worker process itself, so the
// worker binary and the integration tests run the very same wiring.
package app

import (
	"fmt"
	"net/http"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/internal/config"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// BuildRegistry creates one provider client per configured profile.
// httpClient may be nil (each provider then uses its default); observer, if
// non-nil, is told about every provider HTTP call (see ProviderObserver).
func BuildRegistry(cfg *config.Config, httpClient *http.Client, observer httpobs.Observer) (*activities.Registry, error) {
	reg := activities.NewRegistry()
	for _, p := range cfg.Profiles {
		var err error
		switch p.Kind {
		case config.KindAA:
			var c *aa.Client
			c, err = aa.New(aa.Options{BaseURL: p.URL, Username: p.Username, APIKey: p.APIKey, Password: p.Password,
				MultipleLogin: p.MultipleLogin, MFA: aa.TOTP{Secret: p.MFASecret, Digits: p.MFADigits, Period: p.MFAPeriod}, AllowHTTP: p.AllowHTTP, ExecutionHosts: p.ExecutionHosts, HTTPClient: httpClient, Observer: observer})
			if err == nil {
				reg.AddAA(p.Name, c)
			}
		case config.KindOrchestrator:
			var c *orchestrator.Client
			c, err = orchestrator.New(orchestrator.Options{BaseURL: p.URL, Organization: p.Organization, Tenant: p.Tenant,
				TokenURL: p.TokenURL, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
				Username: p.Username, Password: p.Password, TenancyName: p.TenancyName, AllowHTTP: p.AllowHTTP, HTTPClient: httpClient, Observer: observer})
			if err == nil {
				reg.AddOrchestrator(p.Name, c)
			}
		case config.KindHub:
			var c *automationhub.Client
			c, err = automationhub.New(automationhub.Options{BaseURL: p.URL, TenantID: p.TenantID, Token: p.Token,
				AppKey: p.AppKey, AllowHTTP: p.AllowHTTP, HTTPClient: httpClient, Observer: observer})
			if err == nil {
				reg.AddHub(p.Name, activities.HubProfile{Client: c, Expires: p.TokenExpires})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", p.Name, err)
		}
	}
	return reg, nil
}
