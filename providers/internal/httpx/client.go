package httpx

import (
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout bounds a platform call when the host gives no client of
// its own (or one without a timeout).
const DefaultTimeout = 30 * time.Second

// NewClient returns a copy of base (nil: a new client) that never follows a
// redirect and, if base has no timeout, gives up after timeout. Platform
// credentials travel in headers (Authorization, X-Authorization, the Hub
// app key) that net/http forwards to a redirect's host when it is a
// subdomain, and custom headers to any host: a redirect is answered to the
// caller instead (Caller turns it into an error naming the target host).
func NewClient(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Timeout == 0 {
		c.Timeout = timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// redirectTarget is the host a 3xx answer points to ("" if it is not a
// redirect), resolved against the request's URL.
func redirectTarget(resp *http.Response) string {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return ""
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "(an unreadable Location)"
	}
	if resp.Request != nil && resp.Request.URL != nil {
		u = resp.Request.URL.ResolveReference(u)
	}
	return u.Host
}
