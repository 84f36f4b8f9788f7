// Package orchestrator is a client for the UiPath Orchestrator API: identity
// (external-application client credentials and legacy ROPC), folders,
// releases, jobs and queue items. It knows nothing of Temporal.
package orchestrator

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/providers/internal/httpx"
)

// Platform names this provider in errors.
const Platform = "uipath-orchestrator"

// Options configure a Client. Give either ClientID+ClientSecret (external
// application) or Username+Password (legacy ROPC, used when ClientID is empty).
type Options struct {
	// BaseURL is https://cloud.uipath.com (Automation Cloud or Suite) or the
	// standalone Orchestrator's own URL.
	BaseURL string
	// Organization and Tenant select the cloud/Automation Suite layout:
	// Orchestrator at {base}/{org}/{tenant}/orchestrator_/ and the token at
	// {base}/{org}/identity_/connect/token. Both empty means standalone:
	// Orchestrator at {base}/ and the token at {base}/identity/connect/token.
	Organization string
	Tenant       string
	// TokenURL overrides the token endpoint (a full URL).
	TokenURL string

	ClientID     string
	ClientSecret string
	Scopes       []string

	Username    string
	Password    string
	TenancyName string // ROPC tenancy; defaults to Tenant, else "Default"

	AllowHTTP  bool         // permit http:// URLs (simulators only)
	HTTPClient *http.Client // default: 30 s timeout; redirects are never followed
	Now        func() time.Time
	Observer   httpobs.Observer // optional: told about every HTTP call (metrics, tracing)
}

// Client talks to one Orchestrator tenant. It is safe for concurrent use.
type Client struct {
	caller   httpx.Caller
	orchURL  string // Orchestrator root, no trailing slash
	tokenURL string
	ropcURL  string
	opts     Options
	now      func() time.Time

	mu      sync.Mutex
	folders map[string]Folder // resolved folders by path
}

// New checks o and builds a Client. Problems are *apierror.InvalidError
// naming the field.
func New(o Options) (*Client, error) {
	base, err := httpx.CheckBaseURL(o.BaseURL, o.AllowHTTP)
	if err != nil {
		return nil, apierror.Invalid("url", "%v", err)
	}
	o.Organization, o.Tenant = strings.TrimSpace(o.Organization), strings.TrimSpace(o.Tenant)
	switch {
	case o.Organization != "" && o.Tenant == "":
		return nil, apierror.Invalid("tenant", "is empty but organization is set; give both (cloud, Automation Suite) or neither (standalone Orchestrator)")
	case o.Organization == "" && o.Tenant != "":
		return nil, apierror.Invalid("organization", "is empty but tenant is set; give both (cloud, Automation Suite) or neither (standalone Orchestrator)")
	}
	switch {
	case o.ClientID != "" && o.ClientSecret == "":
		return nil, apierror.Invalid("clientSecret", "is empty; an external application needs both clientId and clientSecret")
	case o.ClientID == "" && o.ClientSecret != "":
		return nil, apierror.Invalid("clientId", "is empty but clientSecret is set; give both")
	case o.ClientID == "" && (o.Username == "" || o.Password == ""):
		field := "username"
		if o.Username != "" {
			field = "password"
		}
		return nil, apierror.Invalid(field, "is empty; give clientId+clientSecret (external application) or username+password (legacy ROPC)")
	}
	for i, s := range o.Scopes {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\n") {
			return nil, apierror.Invalid("scopes", "scope %d (%q) is empty or contains whitespace; give one scope per entry, e.g. OR.Jobs", i, s)
		}
	}

	c := &Client{opts: o, now: o.Now, folders: map[string]Folder{}}
	if c.now == nil {
		c.now = time.Now
	}
	if o.Organization != "" {
		org, tenant := url.PathEscape(o.Organization), url.PathEscape(o.Tenant)
		c.orchURL = base + "/" + org + "/" + tenant + "/orchestrator_"
		c.tokenURL = base + "/" + org + "/identity_/connect/token"
	} else {
		c.orchURL = base
		c.tokenURL = base + "/identity/connect/token"
	}
	c.ropcURL = c.orchURL + "/api/Account/Authenticate"
	if o.TokenURL != "" {
		t, err := httpx.CheckBaseURL(o.TokenURL, o.AllowHTTP)
		if err != nil {
			return nil, apierror.Invalid("tokenUrl", "%v", err)
		}
		c.tokenURL = t
	}
	c.caller = httpx.Caller{Platform: Platform, Client: httpx.NewClient(o.HTTPClient, httpx.DefaultTimeout), ParseError: ParseError, Observe: o.Observer}
	return c, nil
}

// OrchestratorURL is the API root requests are sent under (no trailing slash).
func (c *Client) OrchestratorURL() string { return c.orchURL }

// TokenURL is the identity endpoint used for client credentials.
func (c *Client) TokenURL() string { return c.tokenURL }

// odataLiteral quotes s as an OData string literal.
func odataLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// query encodes OData options keeping "$" readable and spaces as %20.
func query(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(pairs[i+1]), "+", "%20"))
	}
	return b.String()
}

func bearer(token string) (http.Header, error) {
	if strings.TrimSpace(token) == "" {
		return nil, apierror.Invalid("token", "the access token is empty; call Authenticate first")
	}
	return http.Header{"Authorization": {"Bearer " + token}}, nil
}
