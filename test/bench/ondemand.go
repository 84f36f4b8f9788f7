package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rpaflow/rpaflow/providers/apierror"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
)

// OnDemand is the baseline a careful client library would use without
// rpaflow (x/oauth2 style): it keeps one token in memory and renews it only
// when a caller needs it and it is expired or within Skew of expiry
// (refresh while still valid, login when not), and caches access details
// per path for MaxAge, reusing them while they stay valid MinValidity more.
// It lives in one process: every other worker process would hold its own.
type OnDemand struct {
	Client      *aa.Client
	Now         func() time.Time
	Skew        time.Duration // x/oauth2's expiryDelta; default 10 s
	MaxAge      time.Duration // access details lifetime; default 5 min (AA docs)
	MinValidity time.Duration // what a deployment needs left on its details

	mu      sync.Mutex
	token   aa.Token
	details map[string]cachedDetail
}

type cachedDetail struct {
	d       aa.AccessDetail
	fetched time.Time
}

func (o *OnDemand) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// tokenLocked returns a token valid for Skew more, renewing it if needed.
func (o *OnDemand) tokenLocked(ctx context.Context) (string, error) {
	skew := o.Skew
	if skew <= 0 {
		skew = 10 * time.Second
	}
	now := o.now()
	switch {
	case o.token.Value == "" || !now.Before(o.token.Expiry):
		t, err := o.Client.Login(ctx)
		if err != nil {
			return "", err
		}
		o.token = t
	case o.token.Expiry.Sub(now) < skew:
		t, err := o.Client.Refresh(ctx, o.token.Value)
		if apierror.IsUnauthorized(err) {
			t, err = o.Client.Login(ctx)
		}
		if err != nil {
			return "", err
		}
		o.token = t
	}
	return o.token.Value, nil
}

// Details returns access details for path, fetching them when the cached
// ones would not stay valid for MinValidity more.
func (o *OnDemand) Details(ctx context.Context, path string) (aa.AccessDetail, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	maxAge := o.MaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	if c, ok := o.details[path]; ok && c.fetched.Add(maxAge).Sub(o.now()) >= o.MinValidity {
		return c.d, nil
	}
	tok, err := o.tokenLocked(ctx)
	if err != nil {
		return aa.AccessDetail{}, err
	}
	res, err := o.Client.AccessDetails(ctx, tok, []string{path})
	if err != nil {
		return aa.AccessDetail{}, err
	}
	d, ok := res.Details[path]
	if !ok {
		return aa.AccessDetail{}, fmt.Errorf("botRepositoryPath %q: no access details returned (%s); check the API Task allocation", path, res.Errors[path])
	}
	if o.details == nil {
		o.details = map[string]cachedDetail{}
	}
	o.details[path] = cachedDetail{d: d, fetched: o.now()}
	return d, nil
}

// Naive is the simplest client: every deployment logs in and fetches access
// details before executing.
func Naive(ctx context.Context, c *aa.Client, path string) (aa.AccessDetail, error) {
	t, err := c.Login(ctx)
	if err != nil {
		return aa.AccessDetail{}, err
	}
	res, err := c.AccessDetails(ctx, t.Value, []string{path})
	if err != nil {
		return aa.AccessDetail{}, err
	}
	d, ok := res.Details[path]
	if !ok {
		return aa.AccessDetail{}, fmt.Errorf("botRepositoryPath %q: no access details returned (%s); check the API Task allocation", path, res.Errors[path])
	}
	return d, nil
}
