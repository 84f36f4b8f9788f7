// Package jwt reads the claims of a JSON Web Token without verifying it. The
// platforms' tokens are opaque bearer tokens to us; only exp/iat matter.
package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are the registered time claims we use.
type Claims struct {
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Parse decodes the payload of a JWT-shaped token. It returns an error for
// anything that is not three dot-separated base64url parts with a JSON payload.
func Parse(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("JWT payload is not base64url")
	}
	var p struct {
		Iat json.Number `json:"iat"`
		Exp json.Number `json:"exp"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return Claims{}, errors.New("JWT payload is not a JSON object")
	}
	var c Claims
	if v, err := p.Iat.Float64(); err == nil && v > 0 {
		c.IssuedAt = time.Unix(int64(v), 0).UTC()
	}
	if v, err := p.Exp.Float64(); err == nil && v > 0 {
		c.ExpiresAt = time.Unix(int64(v), 0).UTC()
	}
	return c, nil
}

// Lifetime is exp − iat when the token carries both (and exp is later):
// how long the issuer meant it to live, whatever its clock says the time is.
func Lifetime(token string) (time.Duration, bool) {
	c, err := Parse(token)
	if err != nil || c.IssuedAt.IsZero() || !c.ExpiresAt.After(c.IssuedAt) {
		return 0, false
	}
	return c.ExpiresAt.Sub(c.IssuedAt), true
}

// Expiry is when a token received at received expires on the receiver's
// clock: received + Lifetime when the token says, else received + fallback.
// The exp claim is never compared with the local clock, which may be
// minutes off the issuer's.
func Expiry(token string, received time.Time, fallback time.Duration) time.Time {
	if l, ok := Lifetime(token); ok {
		return received.Add(l)
	}
	return received.Add(fallback)
}

// Mint builds an unsigned-looking JWT (header alg RS512, a fixed fake
// signature) with the given claims. Simulators use it.
func Mint(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS512"}`))
	b, _ := json.Marshal(claims)
	p := base64.RawURLEncoding.EncodeToString(b)
	sig := base64.RawURLEncoding.EncodeToString([]byte("simulator-signature"))
	return h + "." + p + "." + sig
}
