// Package automationhub is a client for the UiPath Automation Hub Open API
// in token mode (Admin Console > Platform Setup > Open API). It knows
// nothing of Temporal.
package automationhub

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/providers/internal/httpx"
)

// Platform names this provider in errors.
const Platform = "uipath-automationhub"

// Header names and the fixed token-mode value, as UiPath documents them.
const (
	HeaderAuthMode   = "x-ah-openapi-auth"
	HeaderAppKey     = "x-ah-openapi-app-key"
	AuthModeOpenAPI  = "openapi-token"
	authinfoEndpoint = "/authinfo"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the Open API base, e.g.
	// https://cloud.uipath.com/{org}/{tenant}/automationhub_/api/v1/openapi.
	BaseURL    string
	TenantID   string
	Token      string
	AppKey     string           // required by the hub when the token was created with one
	AllowHTTP  bool             // permit http:// (simulators only)
	HTTPClient *http.Client     // default: 30 s timeout; redirects are never followed
	Observer   httpobs.Observer // optional: told about every HTTP call (metrics, tracing)
}

// Client calls the Open API with one token. It is safe for concurrent use.
type Client struct {
	base   string
	opts   Options
	caller httpx.Caller
}

// New checks o and builds a Client; problems are *apierror.InvalidError.
func New(o Options) (*Client, error) {
	base, err := httpx.CheckBaseURL(o.BaseURL, o.AllowHTTP)
	if err != nil {
		return nil, apierror.Invalid("url", "%v", err)
	}
	o.TenantID = strings.TrimSpace(o.TenantID)
	switch {
	case o.TenantID == "":
		return nil, apierror.Invalid("tenantId", "is empty; copy the Tenant ID shown next to the token in Admin Console > Platform Setup > Open API")
	case strings.Contains(o.TenantID, "/"):
		return nil, apierror.Invalid("tenantId", "contains '/', which would corrupt the {TenantID}/{Token} bearer value; give the Tenant ID alone")
	case strings.TrimSpace(o.Token) == "":
		return nil, apierror.Invalid("token", "is empty; generate an Open API token in Admin Console > Platform Setup > Open API")
	}
	return &Client{base: base, opts: o, caller: httpx.Caller{Platform: Platform, Client: httpx.NewClient(o.HTTPClient, httpx.DefaultTimeout), ParseError: ParseError, Observe: o.Observer}}, nil
}

// Header returns the Open API token-mode headers: Bearer {TenantID}/{Token},
// x-ah-openapi-auth and, when set, x-ah-openapi-app-key.
func (c *Client) Header() http.Header {
	h := http.Header{}
	h["Authorization"] = []string{"Bearer " + c.opts.TenantID + "/" + c.opts.Token}
	h[HeaderAuthMode] = []string{AuthModeOpenAPI}
	if c.opts.AppKey != "" {
		h[HeaderAppKey] = []string{c.opts.AppKey}
	}
	return h
}

// AuthInfo is what the hub says about the credentials.
type AuthInfo struct {
	TenantID string
	Raw      map[string]any // the envelope's data
}

type envelope struct {
	Message    string          `json:"message"`
	StatusCode int             `json:"statusCode"`
	Data       json.RawMessage `json:"data"`
}

// Validate checks the token against GET {base}/authinfo. A rejected token is
// an *apierror.Error with Status 401.
func (c *Client) Validate(ctx context.Context) (AuthInfo, error) {
	var env envelope
	resp, err := c.caller.JSON(ctx, "authinfo", http.MethodGet, c.base+authinfoEndpoint, c.Header(), nil, &env)
	if err != nil {
		return AuthInfo{}, err
	}
	if env.StatusCode >= 300 {
		return AuthInfo{}, &apierror.Error{Platform: Platform, Op: "authinfo", Status: env.StatusCode, Message: env.Message}
	}
	info := AuthInfo{TenantID: c.opts.TenantID}
	if len(bytes.TrimSpace(env.Data)) > 0 && !bytes.Equal(bytes.TrimSpace(env.Data), []byte("null")) {
		if err := json.Unmarshal(env.Data, &info.Raw); err != nil {
			return AuthInfo{}, &apierror.Error{Platform: Platform, Op: "authinfo", Status: resp.Status,
				Message: "the authinfo data is not a JSON object"}
		}
	}
	for _, k := range []string{"tenant_id", "tenantId", "TenantId"} {
		if s, ok := info.Raw[k].(string); ok && s != "" {
			info.TenantID = s
			break
		}
	}
	return info, nil
}

// ParseError reads the hub's {"message","statusCode","errorDetails"} bodies
// (keys in any case); a bare {"error":...} string is taken as the message.
func ParseError(body []byte) (code, message, details string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "", "", ""
	}
	get := func(key string) json.RawMessage {
		if v, ok := m[key]; ok {
			return v
		}
		var keys []string
		for k := range m {
			if strings.EqualFold(k, key) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return nil
		}
		sort.Strings(keys) // deterministic when a body repeats a key in another case
		return m[keys[0]]
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
		return ""
	}
	message = str(get("message"))
	if message == "" {
		message = str(get("error"))
	}
	if d := bytes.TrimSpace(get("errorDetails")); len(d) > 0 && !bytes.Equal(d, []byte("null")) && !bytes.Equal(d, []byte("{}")) {
		var buf bytes.Buffer
		if json.Compact(&buf, d) == nil {
			details = buf.String()
		}
	}
	return "", message, details
}
