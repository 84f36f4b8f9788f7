package session

import (
	"context"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// Cache answers a worker's session requests from what its session
// already handed out, while that stays valid: a deployment then costs no
// round trip through the session workflow (nor a billed Update). The
// session stays the one source of tokens: an invalidate drops the reported
// generation here before it reaches the session, and anything not cached is
// asked of the session.
type Cache struct {
	Next Source
	Now  func() time.Time // nil: time.Now

	mu      sync.Mutex
	tokens  map[string]contract.TokenResult
	details map[string]contract.AccessDetail
}

var _ Source = (*Cache)(nil)

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Token serves the cached token while it serves the caller by the
// session's own rule (contract.TokenResult.Serves).
func (c *Cache) Token(ctx context.Context, s Ref, minValidity time.Duration) (contract.TokenResult, error) {
	if minValidity <= 0 {
		minValidity = contract.DefaultMinValidity
	}
	c.mu.Lock()
	t, ok := c.tokens[s.ID()]
	c.mu.Unlock()
	if ok && t.Serves(c.now(), minValidity) {
		return t, nil
	}
	t, err := c.Next.Token(ctx, s, minValidity)
	if err != nil {
		return t, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]contract.TokenResult{}
	}
	if old, ok := c.tokens[s.ID()]; !ok || t.Generation >= old.Generation {
		c.tokens[s.ID()] = t
	}
	return t, nil
}

// AccessDetails serves details until a tenth of their life is left; in that
// last stretch the session answers (from its own cache until its keep-warm
// fetch), so its record of use stays current and nobody waits for a fetch.
func (c *Cache) AccessDetails(ctx context.Context, s Ref, req contract.AccessDetailsRequest) (contract.AccessDetailsResult, error) {
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
		return res, nil
	}
	res, err := c.Next.AccessDetails(ctx, s, req)
	if err != nil {
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.details == nil {
		c.details = map[string]contract.AccessDetail{}
	}
	for p, d := range res.Details {
		if old, ok := c.details[detailKey(s, p)]; !ok || d.Generation >= old.Generation {
			c.details[detailKey(s, p)] = d
		}
	}
	return res, nil
}

// Invalidate forgets what the consumer found rejected, so the next request
// goes to the session, and reports it there.
func (c *Cache) Invalidate(ctx context.Context, s Ref, req contract.InvalidateRequest) (contract.InvalidateResult, error) {
	c.mu.Lock()
	if req.Path != "" {
		if d, ok := c.details[detailKey(s, req.Path)]; ok && d.Generation <= req.Generation {
			delete(c.details, detailKey(s, req.Path))
		}
	} else if t, ok := c.tokens[s.ID()]; ok && t.Generation <= req.Generation {
		delete(c.tokens, s.ID())
	}
	c.mu.Unlock()
	return c.Next.Invalidate(ctx, s, req)
}

func detailKey(s Ref, path string) string { return s.ID() + "\x00" + path }
