package codec

import (
	"context"

	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCOptions configure the verification of the Temporal UI users' access
// tokens.
type OIDCOptions struct {
	// Issuer is the identity provider's issuer URL; its discovery document
	// names the key set that signs the tokens.
	Issuer string
	// Audience must be among the token's aud values.
	Audience string
	// Claim and Value, if Claim is set, require the token's claim Claim to
	// equal Value or, for a list (e.g. groups), to contain it.
	Claim, Value string
	// HTTPClient fetches the discovery document and keys; default: one with
	// a 10 s timeout.
	HTTPClient *http.Client
}

// OIDC verifies access tokens with go-oidc: signature against the issuer's
// published keys, issuer, audience and expiry, then the required claim.
// Discovery happens on first use (and again after a failure), so a worker
// starts while its identity provider is unreachable.
type OIDC struct {
	o        OIDCOptions
	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

// NewOIDC returns a verifier for o.
func NewOIDC(o OIDCOptions) *OIDC {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &OIDC{o: o}
}

func (v *OIDC) get() (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	// The provider keeps this context to fetch rotated keys later: it must
	// outlive the request.
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), v.o.HTTPClient), v.o.Issuer)
	if err != nil {
		return nil, err
	}
	v.verifier = p.Verifier(&oidc.Config{ClientID: v.o.Audience})
	return v.verifier, nil
}

// Verify checks raw and returns the HTTP status to answer when it fails.
func (v *OIDC) Verify(ctx context.Context, raw string) (int, error) {
	verifier, err := v.get()
	if err != nil {
		return http.StatusServiceUnavailable, fmt.Errorf("cannot verify access tokens: the OIDC issuer RPAFLOW_CODEC_OIDC_ISSUER=%s did not answer its discovery document: %v", v.o.Issuer, err)
	}
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		return http.StatusUnauthorized, fmt.Errorf("access token refused: %v", err)
	}
	if v.o.Claim == "" {
		return 0, nil
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return http.StatusUnauthorized, fmt.Errorf("access token refused: reading its claims: %v", err)
	}
	if !claimHas(claims[v.o.Claim], v.o.Value) {
		return http.StatusForbidden, fmt.Errorf("access token refused: its claim %q does not contain %q (RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM)", v.o.Claim, v.o.Value)
	}
	return 0, nil
}

func claimHas(c any, want string) bool {
	switch c := c.(type) {
	case string:
		return c == want
	case []any:
		return slices.ContainsFunc(c, func(e any) bool { s, ok := e.(string); return ok && s == want })
	}
	return false
}
