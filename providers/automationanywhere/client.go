// Package automationanywhere is a client for the Automation Anywhere Control
// Room: authentication, API Task access details and real-time execution, bot
// deployment, activity status and stopping executions, Workload Management
// queues and work items.
package automationanywhere

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/providers/internal/httpx"
)

// Platform names this provider in errors.
const Platform = "automationanywhere"

// DefaultTokenLifetime is AA's documented token lifetime, used when a token has no exp.
const DefaultTokenLifetime = 20 * time.Minute

// Options configure a Client.
type Options struct {
	BaseURL       string // Control Room URL
	Username      string
	APIKey        string // exactly one of APIKey / Password
	Password      string
	MultipleLogin bool // sent with password logins
	MFA           TOTP // two-factor seed of a user whose role requires 2FA
	AllowHTTP     bool // permit http:// for BaseURL and execution URLs (simulators/local only)
	// ExecutionHosts are the host patterns a task token may be sent to
	// (httpx.CheckHostPattern says which wildcards are refused). Default:
	// the Control Room's own host and AA's cloud domain
	// "*.automationanywhere.digital", where API Tasks run.
	ExecutionHosts []string
	HTTPClient     *http.Client  // default: 30 s timeout (execute uses its own deadline)
	ExecuteTimeout time.Duration // default 75 s (the real-time API Task cap is 60 s)
	Now            func() time.Time
	Observer       httpobs.Observer // optional: told about every HTTP call (metrics, tracing)
}

// Client talks to one Control Room as one user. It is safe for concurrent use.
type Client struct {
	o       Options
	base    string
	caller  httpx.Caller
	exec    httpx.Caller
	hosts   []string
	authV1  atomic.Bool // the Control Room has no /v2/authentication
	nowFunc func() time.Time
	mfa     *mfa // nil: no 2FA
	sleep   func(context.Context, time.Duration) error
}

// New validates o and builds a Client. Errors are *apierror.InvalidError
// naming the field ("url", "username", "apiKey/password").
func New(o Options) (*Client, error) {
	if u, err := url.Parse(strings.TrimSpace(o.BaseURL)); err == nil && u.User != nil {
		return nil, apierror.Invalid("url", "carries user information; give only scheme, host and path (credentials go in username and apiKey/password)")
	}
	base, err := httpx.CheckBaseURL(o.BaseURL, o.AllowHTTP)
	if err != nil {
		return nil, apierror.Invalid("url", "%v", err)
	}
	if strings.TrimSpace(o.Username) == "" {
		return nil, apierror.Invalid("username", "is empty; give the Control Room user the API key or password belongs to")
	}
	if (o.APIKey == "") == (o.Password == "") {
		return nil, apierror.Invalid("apiKey/password", "give exactly one of an API key or a password (got %s)",
			map[bool]string{true: "both", false: "neither"}[o.APIKey != ""])
	}
	if err := o.MFA.check(); err != nil {
		return nil, err
	}
	if o.ExecuteTimeout <= 0 {
		o.ExecuteTimeout = 75 * time.Second
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	// X-Authorization is a custom header, which net/http would forward on a
	// redirect to any host: never follow redirects.
	cr := httpx.NewClient(o.HTTPClient, httpx.DefaultTimeout)
	ex := *cr
	ex.Timeout = 0 // Execute sets its own deadline.
	hosts := o.ExecutionHosts
	for _, h := range hosts {
		if err := httpx.CheckHostPattern(h); err != nil {
			return nil, apierror.Invalid("executionHosts", "%v (RPAFLOW_<PROFILE>_EXECUTION_HOSTS)", err)
		}
	}
	if len(hosts) == 0 {
		u, _ := url.Parse(base)
		hosts = defaultExecutionHosts(u.Hostname())
	}
	c := &Client{o: o, base: base, hosts: hosts, nowFunc: now, sleep: sleepCtx,
		caller: httpx.Caller{Platform: Platform, Client: cr, ParseError: parseError, Observe: o.Observer},
		exec:   httpx.Caller{Platform: Platform, Client: &ex, ParseError: parseError, Observe: o.Observer},
	}
	if o.MFA.Secret != "" {
		c.mfa = &mfa{TOTP: o.MFA}
	}
	return c, nil
}

// defaultExecutionHosts: the Control Room's host and AA's cloud domain,
// not the Control Room's parent domain, which may be shared with anyone
// (a cloud provider's VM domain).
func defaultExecutionHosts(host string) []string {
	return []string{strings.ToLower(host), "*.automationanywhere.digital"}
}

// ExecutionHosts returns the host patterns task tokens may be sent to.
func (c *Client) ExecutionHosts() []string { return append([]string(nil), c.hosts...) }

func (c *Client) now() time.Time { return c.nowFunc() }

// parseError reads AA's {code,details,message} body.
func parseError(body []byte) (code, message, details string) {
	var e struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", "", ""
	}
	return rawText(e.Code), e.Message, rawText(e.Details)
}

// rawText returns a JSON string's text, or other JSON compacted; null → "".
func rawText(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil {
		return buf.String()
	}
	return string(b)
}

// call sends a Control Room request with the token (if any) and decodes the
// answer into out. A 2xx body with a top-level "code" is an error too
// (the Control Room's error shape is {code, details, message}).
func (c *Client) call(ctx context.Context, op, method, u, token string, in, out any) error {
	h := http.Header{}
	if token != "" {
		h.Set("X-Authorization", token) // the Control Room wants no "Bearer"
	}
	return c.send(ctx, &c.caller, op, method, u, h, in, out)
}

func (c *Client) send(ctx context.Context, caller *httpx.Caller, op, method, u string, h http.Header, in, out any) error {
	resp, err := caller.JSON(ctx, op, method, u, h, in, nil)
	if err != nil {
		return err
	}
	if e := codeInBody(op, resp); e != nil {
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &apierror.Error{Platform: Platform, Op: op, Status: resp.Status,
			Message: "answer is not the expected JSON: " + err.Error()}
	}
	return nil
}

func codeInBody(op string, resp *httpx.Response) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(resp.Body, &top) != nil {
		return nil
	}
	if code, ok := top["code"]; !ok || rawText(code) == "" {
		return nil
	}
	e := &apierror.Error{Platform: Platform, Op: op, Status: resp.Status}
	e.Code, e.Message, e.Details = parseError(resp.Body)
	return e
}
