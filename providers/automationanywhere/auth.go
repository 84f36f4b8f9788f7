package automationanywhere

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/internal/jwt"
)

// Token is a Control Room session token.
type Token struct {
	Value    string
	IssuedAt time.Time
	Expiry   time.Time // IssuedAt + the JWT's exp − iat, else + 20 min
}

// token times a token asked for at sent, on this worker's clock: the
// Control Room's clock may be minutes off, so only its exp − iat is used.
func (c *Client) token(op, value string, status int, sent time.Time) (Token, error) {
	if value == "" {
		return Token{}, &apierror.Error{Platform: Platform, Op: op, Status: status, Message: "answer has no token"}
	}
	return Token{Value: value, IssuedAt: sent, Expiry: jwt.Expiry(value, sent, DefaultTokenLifetime)}, nil
}

// withAuthFallback runs f on /v2 and, on 404, once more on /v1 and remembers it.
func (c *Client) withAuthFallback(f func(v1 bool) error) error {
	v1 := c.authV1.Load()
	err := f(v1)
	var ae *apierror.Error
	if !v1 && errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		if err = f(true); err == nil || apierror.StatusOf(err) != http.StatusNotFound {
			c.authV1.Store(true)
		}
	}
	return err
}

// Login authenticates with the API key or password (POST /v2/authentication,
// falling back to /v1 on 404).
func (c *Client) Login(ctx context.Context) (Token, error) {
	body := map[string]any{"username": c.o.Username}
	if c.o.APIKey != "" {
		body["apiKey"] = c.o.APIKey
	} else {
		body["password"] = c.o.Password
		body["multipleLogin"] = c.o.MultipleLogin
	}
	if c.mfa != nil {
		// A fresh code at each login, sent as the JSON number AA documents.
		code, err := c.mfa.code(ctx, c.now, c.sleep)
		if err != nil {
			return Token{}, err
		}
		body["mfaCode"] = code
	}
	var out struct {
		Token string `json:"token"`
	}
	sent := c.now()
	err := c.withAuthFallback(func(v1 bool) error {
		return c.call(ctx, "login", http.MethodPost, c.authURL(v1, ""), "", body, &out)
	})
	if err != nil {
		return Token{}, explainLoginError(err, c.mfa != nil)
	}
	return c.token("login", out.Token, http.StatusOK, sent)
}

func (c *Client) authURL(v1 bool, suffix string) string {
	if v1 {
		return c.base + "/v1/authentication" + suffix
	}
	return c.base + "/v2/authentication" + suffix
}

// Refresh exchanges a still-valid token for a new one (POST
// /v2/authentication/token, /v1 on 404). An expired token cannot be
// refreshed: log in again.
func (c *Client) Refresh(ctx context.Context, token string) (Token, error) {
	var out struct {
		Token string `json:"token"`
	}
	sent := c.now()
	err := c.withAuthFallback(func(v1 bool) error {
		return c.call(ctx, "refresh", http.MethodPost, c.authURL(v1, "/token"), token,
			map[string]string{"token": token}, &out)
	})
	if err != nil {
		return Token{}, err
	}
	return c.token("refresh", out.Token, http.StatusOK, sent)
}

// Validate reports whether the Control Room still accepts token. A 401 means
// the token (sent as header and query) is not valid, so it answers false.
func (c *Client) Validate(ctx context.Context, token string) (bool, error) {
	var out struct {
		Valid bool `json:"valid"`
	}
	u := c.base + "/v1/authentication/token?token=" + url.QueryEscape(token)
	err := c.call(ctx, "validate", http.MethodGet, u, token, nil, &out)
	if apierror.IsUnauthorized(err) {
		return false, nil
	}
	return out.Valid, err
}

// Logout ends the session of token. Any 2xx is success; the body is ignored.
func (c *Client) Logout(ctx context.Context, token string) error {
	h := http.Header{"X-Authorization": {token}}
	_, err := c.caller.JSON(ctx, "logout", http.MethodPost, c.base+"/v1/authentication/logout", h,
		map[string]string{"token": token}, nil)
	return err
}
