package activities

import (
	"context"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/session"
)

// callValidity is what rpaflow's own activities ask a session for: enough
// for one call within the provider's 30 s HTTP timeout. Waits re-ask when
// less remains, so tokens of any lifetime above it serve them.
const callValidity = 30 * time.Second

// withToken runs call with a session token. When the platform answers 401
// it refused the call, so nothing happened: the generation is reported
// (the session renews once) and call runs once more with the new token.
func withToken(ctx context.Context, ss session.Source, s session.Ref, call func(tok contract.TokenResult) error) error {
	for try := 0; ; try++ {
		tok, err := ss.Token(ctx, s, callValidity)
		if err != nil {
			return err
		}
		err = call(tok)
		if err == nil || try > 0 || !apierror.IsUnauthorized(err) {
			return err
		}
		if _, err := ss.Invalidate(ctx, s, contract.InvalidateRequest{Generation: tok.Generation}); err != nil {
			return err
		}
	}
}

// withAccessDetail is withToken for an API Task path's access details.
func withAccessDetail(ctx context.Context, ss session.Source, s session.Ref, path string, call func(d contract.AccessDetail) error) error {
	for try := 0; ; try++ {
		det, err := ss.AccessDetails(ctx, s, contract.AccessDetailsRequest{Paths: []string{path}})
		if err != nil {
			return err
		}
		d, ok := det.Details[path]
		if !ok {
			return unavailable("session returned no access details for " + path)
		}
		err = call(d)
		if err == nil || try > 0 || !apierror.IsUnauthorized(err) {
			return err
		}
		if _, err := ss.Invalidate(ctx, s, contract.InvalidateRequest{Generation: d.Generation, Path: path}); err != nil {
			return err
		}
	}
}
