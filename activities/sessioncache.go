package activities

import (
	"context"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// CachedSessions answers a worker's session requests from what its session
// already handed out, while that stays valid: a deployment then costs no
// round trip through the session workflow (nor a billed Update). The
// session stays the one source of tokens: an invalidate drops the reported
// generation here before it reaches the session, and anything not cached is
// asked of the session.
type CachedSessions struct {
	Next Sessions
	Now  func() time.Time // nil: time.Now

	mu      sync.Mutex
	tokens  map[string]contract.TokenResult
	details map[string]contract.AccessDetail
}

// Update serves token and accessDetails from the cache when it can.
func (c *CachedSessions) Update(ctx context.Context, s SessionRef, update string, arg, result any) error {
	switch update {
	case contract.UpdateToken:
		req, ok1 := arg.(contract.TokenRequest)
		out, ok2 := result.(*contract.TokenResult)
		if ok1 && ok2 {
			return c.token(ctx, s, req, out)
		}
	case contract.UpdateAccessDetails:
		req, ok1 := arg.(contract.AccessDetailsRequest)
		out, ok2 := result.(*contract.AccessDetailsResult)
		if ok1 && ok2 {
			return c.accessDetails(ctx, s, req, out)
		}
	case contract.UpdateInvalidate:
		if req, ok := arg.(contract.InvalidateRequest); ok {
			c.drop(s, req)
		}
	}
	return c.Next.Update(ctx, s, update, arg, result)
}

func (c *CachedSessions) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *CachedSessions) token(ctx context.Context, s SessionRef, req contract.TokenRequest, out *contract.TokenResult) error {
	minV := req.MinValidity.D()
	if minV <= 0 {
		minV = callValidity
	}
	c.mu.Lock()
	t, ok := c.tokens[s.ID()]
	c.mu.Unlock()
	if ok && t.Serves(c.now(), minV) {
		*out = t
		return nil
	}
	if err := c.Next.Update(ctx, s, contract.UpdateToken, req, out); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]contract.TokenResult{}
	}
	if old, ok := c.tokens[s.ID()]; !ok || out.Generation >= old.Generation {
		c.tokens[s.ID()] = *out
	}
	return nil
}

// accessDetails serves details until a tenth of their life is left; in that
// last stretch the session answers (from its own cache until its keep-warm
// fetch), so its record of use stays current and nobody waits for a fetch.
func (c *CachedSessions) accessDetails(ctx context.Context, s SessionRef, req contract.AccessDetailsRequest, out *contract.AccessDetailsResult) error {
	now := c.now()
	res := contract.AccessDetailsResult{Details: map[string]contract.AccessDetail{}}
	c.mu.Lock()
	for _, p := range req.Paths {
		d, ok := c.details[detailKey(s, p)]
		lead := d.ValidUntil.Sub(d.FetchedAt) / 10
		if !ok || !d.Serves(now, max(req.MinValidity.D(), lead)) {
			break
		}
		res.Details[p] = d
	}
	c.mu.Unlock()
	if len(res.Details) == len(req.Paths) {
		*out = res
		return nil
	}
	if err := c.Next.Update(ctx, s, contract.UpdateAccessDetails, req, out); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.details == nil {
		c.details = map[string]contract.AccessDetail{}
	}
	for p, d := range out.Details {
		if old, ok := c.details[detailKey(s, p)]; !ok || d.Generation >= old.Generation {
			c.details[detailKey(s, p)] = d
		}
	}
	return nil
}

// drop forgets what a consumer found rejected, so the next request goes to
// the session.
func (c *CachedSessions) drop(s SessionRef, req contract.InvalidateRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Path != "" {
		if d, ok := c.details[detailKey(s, req.Path)]; ok && d.Generation <= req.Generation {
			delete(c.details, detailKey(s, req.Path))
		}
		return
	}
	if t, ok := c.tokens[s.ID()]; ok && t.Generation <= req.Generation {
		delete(c.tokens, s.ID())
	}
}

func detailKey(s SessionRef, path string) string { return s.ID() + "\x00" + path }
