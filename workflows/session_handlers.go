package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// register installs the session's updates and query.
func (s *session) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.SessionStatus, error) {
		return s.status(workflow.Now(ctx)), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, contract.QueryToken, func() (contract.TokenResult, error) {
		if s.closing || s.wantLogin {
			return contract.TokenResult{}, nil // nothing to hand out without the update
		}
		return s.tokenResult(), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, contract.UpdateToken,
		func(ctx workflow.Context, req contract.TokenRequest) (contract.TokenResult, error) {
			return s.token(ctx, req)
		},
		workflow.UpdateHandlerOptions{Validator: validateTokenRequest}); err != nil {
		return err
	}
	if s.kind == contract.ControlRoomSessionWorkflow {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, contract.UpdateAccessDetails,
			func(ctx workflow.Context, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
				return s.accessDetails(ctx, req)
			},
			workflow.UpdateHandlerOptions{Validator: func(req contract.AccessDetailsRequest) error {
				return validateAccessDetailsRequest(req, s.maxAge())
			}}); err != nil {
			return err
		}
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, contract.UpdateInvalidate,
		func(ctx workflow.Context, req contract.InvalidateRequest) (contract.InvalidateResult, error) {
			return s.invalidate(ctx, req)
		},
		workflow.UpdateHandlerOptions{Validator: func(req contract.InvalidateRequest) error {
			if req.Generation < 1 {
				return contract.InvalidInputError("generation", "must be the generation (≥ 1) of the token or access details that was rejected, as returned by the token or accessDetails update")
			}
			return nil
		}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandler(ctx, contract.UpdateLogout, func(ctx workflow.Context) error {
		s.closing = true
		s.demand++
		return workflow.Await(ctx, func() bool { return s.closed })
	})
}

func validateTokenRequest(req contract.TokenRequest) error {
	if d := req.MinValidity.D(); d < 0 || d > 12*time.Hour {
		return contract.InvalidInputError("minValidity", "%s is out of range; give a duration between 0s and 12h such as \"30s\"", d)
	}
	return nil
}

func validateAccessDetailsRequest(req contract.AccessDetailsRequest, maxAge time.Duration) error {
	if len(req.Paths) == 0 || len(req.Paths) > maxPathsPerRequest {
		return contract.InvalidInputError("paths", "give 1 to %d bot repository paths such as \"Automation Anywhere\\\\Bots\\\\My Task\"", maxPathsPerRequest)
	}
	seen := map[string]bool{}
	for i, p := range req.Paths {
		if strings.TrimSpace(p) == "" {
			return contract.InvalidInputError(fmt.Sprintf("paths[%d]", i), "is empty; give the API Task's repository path")
		}
		if seen[p] {
			return contract.InvalidInputError(fmt.Sprintf("paths[%d]", i), "%q is listed twice", p)
		}
		seen[p] = true
	}
	if d := req.MinValidity.D(); d < 0 || d >= maxAge {
		return contract.InvalidInputError("minValidity", "%s must be at least 0s and below the session's accessDetailsMaxAge (%s)", d, maxAge)
	}
	return nil
}

// token answers with a token valid for at least MinValidity, waiting for
// the loop's renewal if needed (never starting one itself).
func (s *session) token(ctx workflow.Context, req contract.TokenRequest) (contract.TokenResult, error) {
	minV := orDur(req.MinValidity.D(), contract.DefaultMinValidity)
	if s.closing {
		return contract.TokenResult{}, closedError()
	}
	if !s.validFor(workflow.Now(ctx), minV) {
		startGen, startAttempts := s.st.Generation, s.attempts
		s.wantRenew = true
		s.minValidity = max(s.minValidity, minV)
		if s.authFailed {
			s.retryNow = true
		}
		s.demand++
		if err := workflow.Await(ctx, func() bool {
			return s.validFor(workflow.Now(ctx), minV) || s.closing || s.st.Generation > startGen ||
				(s.authFailed && s.attempts > startAttempts)
		}); err != nil {
			return contract.TokenResult{}, err
		}
		switch {
		case s.closing:
			return contract.TokenResult{}, closedError()
		case s.validFor(workflow.Now(ctx), minV):
		case s.st.Generation > startGen:
			return contract.TokenResult{}, contract.InvalidInputError("minValidity", "%s is longer than the platform's token lifetime (%s); ask for less",
				minV, s.st.Expiry.Sub(s.st.IssuedAt).Round(time.Second))
		default:
			return contract.TokenResult{}, s.authError()
		}
	}
	return s.tokenResult(), nil
}

func (s *session) tokenResult() contract.TokenResult {
	if s.st.Token == "" {
		return contract.TokenResult{}
	}
	return contract.TokenResult{Token: s.st.Token, Expiry: s.st.Expiry, Generation: s.st.Generation,
		UsableUntil: s.st.Expiry.Add(-s.safety())}
}

// accessDetails answers with cached details at most AccessDetailsMaxAge old
// and valid for MinValidity more, fetching missing or stale paths in one batch.
func (s *session) accessDetails(ctx workflow.Context, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
	if s.closing {
		return contract.AccessDetailsResult{}, closedError()
	}
	minV := req.MinValidity.D()
	fresh := func(p string) bool {
		e := s.st.Paths[p]
		return e != nil && e.Detail(s.maxAge()).Serves(workflow.Now(ctx), minV)
	}
	// tooShort: details fetched for this request cannot serve minV even
	// fresh (their token lives less); fetching again would loop.
	startSeq := s.st.PathSeq
	tooShort := func(p string) *activities.CachedPath {
		if e := s.st.Paths[p]; e != nil && e.Generation > startSeq && e.ValidUntil(s.maxAge()).Sub(e.FetchedAt) < minV {
			return e
		}
		return nil
	}
	now := workflow.Now(ctx)
	for _, p := range req.Paths {
		if e := s.st.Paths[p]; e != nil {
			e.LastUsed = now
		}
	}
	// Wait until every requested path is fresh at once: a path that was fresh
	// when the request came may have aged (or been invalidated) while the
	// others were fetched.
	startAttempts := s.attempts
	asked := map[string]bool{}
	for {
		var need []string
		for _, p := range req.Paths {
			if msg, failed := s.pathErr[p]; failed && asked[p] {
				return contract.AccessDetailsResult{}, contract.NewError(contract.ErrNotFound,
					fmt.Sprintf("botRepositoryPath %q: the Control Room returned no access details: %s; check the path and that an API Task allocation exists for it", p, msg),
					contract.ErrorInfo{Field: "botRepositoryPath"}, 0)
			}
			if !fresh(p) {
				if e := tooShort(p); e != nil {
					return contract.AccessDetailsResult{}, contract.InvalidInputError("minValidity",
						"%s is longer than the API Task token's usable lifetime (%s); ask for less",
						minV, e.ValidUntil(s.maxAge()).Sub(e.FetchedAt).Round(time.Second))
				}
				need = append(need, p)
			}
		}
		if len(need) == 0 {
			break
		}
		if s.authFailed && s.attempts > startAttempts {
			return contract.AccessDetailsResult{}, s.authError()
		}
		for _, p := range need {
			if !asked[p] {
				asked[p] = true
				delete(s.pathErr, p) // an old answer is not this request's
			}
			s.pending[p] = true
		}
		if s.authFailed {
			s.retryNow = true
		}
		s.demand++
		if err := workflow.Await(ctx, func() bool {
			if s.closing || (s.authFailed && s.attempts > startAttempts) {
				return true
			}
			for _, p := range need {
				if _, failed := s.pathErr[p]; !failed && !fresh(p) && tooShort(p) == nil {
					return false
				}
			}
			return true
		}); err != nil {
			return contract.AccessDetailsResult{}, err
		}
		if s.closing {
			return contract.AccessDetailsResult{}, closedError()
		}
	}
	now = workflow.Now(ctx)
	res := contract.AccessDetailsResult{Details: map[string]contract.AccessDetail{}}
	for _, p := range req.Paths {
		e := s.st.Paths[p]
		e.LastUsed = now
		res.Details[p] = e.Detail(s.maxAge())
	}
	return res, nil
}

// invalidate handles a consumer's 401: the first report of the current
// generation triggers one re-authentication; every other report of it waits
// for that one.
func (s *session) invalidate(ctx workflow.Context, req contract.InvalidateRequest) (contract.InvalidateResult, error) {
	if s.closing {
		return contract.InvalidateResult{}, closedError()
	}
	startAttempts := s.attempts
	if req.Path != "" {
		e := s.st.Paths[req.Path]
		if e != nil && e.Generation == req.Generation {
			delete(s.st.Paths, req.Path)
			s.pending[req.Path] = true
			s.demand++
		}
		if s.pending[req.Path] {
			if err := workflow.Await(ctx, func() bool {
				_, failed := s.pathErr[req.Path]
				return !s.pending[req.Path] || failed || s.closing || (s.authFailed && s.attempts > startAttempts)
			}); err != nil {
				return contract.InvalidateResult{}, err
			}
		}
		gen := int64(0)
		if e := s.st.Paths[req.Path]; e != nil {
			gen = e.Generation
		}
		return contract.InvalidateResult{Generation: gen, Renewed: gen > req.Generation}, nil
	}
	if req.Generation == s.st.Generation && !s.wantLogin {
		// Validate first: a 401 that was not about this token (a permission,
		// another endpoint) must not cost a login that kicks other users.
		s.wantLogin, s.validate = true, s.r.canRefresh()
		s.demand++
	}
	if req.Generation == s.st.Generation {
		if err := workflow.Await(ctx, func() bool {
			return !s.wantLogin || s.st.Generation > req.Generation || s.closing || (s.authFailed && s.attempts > startAttempts)
		}); err != nil {
			return contract.InvalidateResult{}, err
		}
	}
	if s.closing {
		return contract.InvalidateResult{}, closedError()
	}
	if s.authFailed && s.st.Generation == req.Generation {
		return contract.InvalidateResult{}, s.authError()
	}
	return contract.InvalidateResult{Generation: s.st.Generation, Renewed: s.st.Generation > req.Generation}, nil
}

func (s *session) authError() error {
	typ := s.lastErrType
	if typ == "" {
		typ = contract.ErrUnavailable
	}
	return contract.NewError(typ, fmt.Sprintf("session for profile %q has no valid token: %s", s.in.Profile, s.lastErr), contract.ErrorInfo{}, 0)
}

func closedError() error {
	return contract.NewError(contract.ErrSessionClosed, "the session is logging out; start a new one", contract.ErrorInfo{}, 0)
}
