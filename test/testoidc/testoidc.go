// Package testoidc is an OpenID Connect issuer for tests: an RSA key, the
// discovery document and the key set on a loopback httptest server, and
// access tokens signed with that key (or, to forge, with another one).
// It is test plumbing.
package testoidc

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
)

const keyID = "rpaflow-test"

// Issuer is a running test issuer.
type Issuer struct {
	URL string
	key *rsa.PrivateKey
	srv *httptest.Server
}

// Start serves a fresh issuer on 127.0.0.1; Close stops it.
func Start() (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: keyID, Algorithm: oidc.RS256}}}
	srv := httptest.NewServer(s)
	s.SetIssuer(srv.URL)
	return &Issuer{URL: srv.URL, key: key, srv: srv}, nil
}

// Close stops the server.
func (i *Issuer) Close() { i.srv.Close() }

// Claims of a token; zero fields take Token's defaults.
type Claims struct {
	Issuer   string    // default: the issuer's URL
	Audience string    // required
	Subject  string    // default "ui-user"
	Expiry   time.Time // default: in an hour
	Groups   []string
}

// Token signs c with the issuer's key, as the Temporal UI's identity
// provider would.
func (i *Issuer) Token(c Claims) string { return sign(i.key, i.URL, c) }

// Forge signs c with a key the issuer never published, under the
// issuer's key id.
func (i *Issuer) Forge(c Claims) string {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return sign(other, i.URL, c)
}

func sign(key *rsa.PrivateKey, issuer string, c Claims) string {
	if c.Issuer == "" {
		c.Issuer = issuer
	}
	if c.Subject == "" {
		c.Subject = "ui-user"
	}
	if c.Expiry.IsZero() {
		c.Expiry = time.Now().Add(time.Hour)
	}
	claims := map[string]any{"iss": c.Issuer, "aud": c.Audience, "sub": c.Subject,
		"iat": time.Now().Add(-time.Minute).Unix(), "exp": c.Expiry.Unix()}
	if c.Groups != nil {
		claims["groups"] = c.Groups
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return oidctest.SignIDToken(key, keyID, oidc.RS256, string(raw))
}
