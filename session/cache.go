package session

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/contract"
)

// Cache answers a worker's session requests from what its session
// already handed out, while that stays valid: a deployment then costs no
// round trip through the session workflow (nor a billed Update). The
// session stays the one source of tokens: an invalidate drops the reported
// generation here before it reaches the session, and anything not cached is
// asked of the session. Concurrent misses share one request: a burst of
// deployments on a cold worker would otherwise send the session one Update
// each, past the server's limit on updates in flight per workflow, and
// the refused ones come back seconds later.
type Cache struct {
	Next Source
	Now  func() time.Time // nil: time.Now

	mu      sync.Mutex
	tokens  map[string]contract.TokenResult
	details map[string]contract.AccessDetail
	flights map[string]chan struct{} // requests to Next in flight, closed when done
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
	cached := func() (contract.TokenResult, bool) {
		c.mu.Lock()
		t, ok := c.tokens[s.ID()]
		c.mu.Unlock()
		return t, ok && t.Serves(c.now(), minValidity)
	}
	if t, ok := cached(); ok {
		return t, nil
	}
	done, err := c.join(ctx, "token\x00"+s.ID())
	if err != nil {
		return contract.TokenResult{}, err
	}
	if done == nil { // another request was in flight
		if t, ok := cached(); ok {
			return t, nil
		}
	} else {
		defer done()
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
	cached := func() (contract.AccessDetailsResult, bool) {
		now := c.now()
		res := contract.AccessDetailsResult{Details: map[string]contract.AccessDetail{}}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range req.Paths {
			d, ok := c.details[detailKey(s, p)]
			lead := d.ValidUntil.Sub(d.FetchedAt) / 10
			if !ok || !d.Serves(now, max(req.MinValidity.D(), lead)) {
				return res, false
			}
			res.Details[p] = d
		}
		return res, true
	}
	if res, ok := cached(); ok {
		return res, nil
	}
	done, err := c.join(ctx, "details\x00"+s.ID()+"\x00"+strings.Join(req.Paths, "\x00"))
	if err != nil {
		return contract.AccessDetailsResult{}, err
	}
	if done == nil {
		if res, ok := cached(); ok {
			return res, nil
		}
	} else {
		defer done()
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

// join makes the caller's request to Next the one in flight under key and
// returns the func that ends it; or, when another is in flight, waits for
// it and returns nil (the caller then reads the cache, and asks Next itself
// only if that still does not serve it).
func (c *Cache) join(ctx context.Context, key string) (done func(), err error) {
	c.mu.Lock()
	if ch, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-ch:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.flights == nil {
		c.flights = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	c.flights[key] = ch
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.flights, key)
		c.mu.Unlock()
		close(ch)
	}, nil
}

func detailKey(s Ref, path string) string { return s.ID() + "\x00" + path }
