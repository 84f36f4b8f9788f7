package orchestrator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/internal/jwt"
)

// Documented lifetimes used when neither the JWT (exp − iat) nor expires_in tells.
const (
	defaultClientCredentialsLifetime = 60 * time.Minute
	defaultROPCLifetime              = 30 * time.Minute
)

// Token is an Orchestrator access token.
type Token struct {
	Value  string
	Expiry time.Time
	Scopes []string // granted scopes (client credentials only)
}

// Authenticate gets a new access token: client credentials when ClientID is
// set, legacy ROPC otherwise.
func (c *Client) Authenticate(ctx context.Context) (Token, error) {
	if c.opts.ClientID != "" {
		return c.clientCredentials(ctx)
	}
	return c.ropc(ctx)
}

func (c *Client) clientCredentials(ctx context.Context) (Token, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.opts.ClientID},
		"client_secret": {c.opts.ClientSecret},
	}
	if len(c.opts.Scopes) > 0 {
		form.Set("scope", strings.Join(c.opts.Scopes, " "))
	}
	req, err := http.NewRequest(http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, apierror.Invalid("tokenUrl", "cannot build a request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := c.now()
	resp, err := c.caller.Do(ctx, "token", req)
	if err != nil {
		return Token{}, err
	}
	var body struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		TokenType   string          `json:"token_type"`
		Scope       string          `json:"scope"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || body.AccessToken == "" {
		return Token{}, &apierror.Error{Platform: Platform, Op: "token", Status: resp.Status,
			Message: "the token answer has no access_token; check the token URL points at UiPath Identity"}
	}
	t := Token{Value: body.AccessToken, Scopes: strings.Fields(body.Scope)}
	// Lifetimes count on this worker's clock from the request: the token's
	// exp − iat, else expires_in, else the documented default. Identity's
	// clock may be off ours, so its exp is never compared with our time.
	life := defaultClientCredentialsLifetime
	if secs := seconds(body.ExpiresIn); secs > 0 {
		life = time.Duration(secs * float64(time.Second))
	}
	t.Expiry = jwt.Expiry(body.AccessToken, start, life)
	if len(t.Scopes) == 0 {
		t.Scopes = append([]string(nil), c.opts.Scopes...)
	}
	return t, nil
}

// seconds reads expires_in given as a number or a numeric string.
func seconds(raw json.RawMessage) float64 {
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return v
		}
	}
	return 0
}

func (c *Client) ropc(ctx context.Context) (Token, error) {
	tenancy := c.opts.TenancyName
	if tenancy == "" {
		tenancy = c.opts.Tenant
	}
	if tenancy == "" {
		tenancy = "Default"
	}
	in := map[string]string{
		"TenancyName":            tenancy,
		"UsernameOrEmailAddress": c.opts.Username,
		"Password":               c.opts.Password,
	}
	start := c.now()
	var body struct {
		Result  *string `json:"result"`
		Success *bool   `json:"success"`
		Error   *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	resp, err := c.caller.JSON(ctx, "token", http.MethodPost, c.ropcURL, nil, in, &body)
	if err != nil {
		return Token{}, err
	}
	if body.Result == nil || *body.Result == "" || (body.Success != nil && !*body.Success) {
		msg := "the ROPC answer has no token in result"
		if body.Error != nil && body.Error.Message != "" {
			msg = body.Error.Message
		}
		return Token{}, &apierror.Error{Platform: Platform, Op: "token", Status: resp.Status, Message: msg}
	}
	return Token{Value: *body.Result, Expiry: jwt.Expiry(*body.Result, start, defaultROPCLifetime)}, nil
}
