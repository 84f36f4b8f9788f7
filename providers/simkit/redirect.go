package simkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
)

// RedirectTrap is a platform that answers every call with a redirect to
// another host, which counts the requests that reach it: a client that
// keeps credentials home never calls it.
type RedirectTrap struct {
	// URL is the redirecting platform; OtherHost is the host:port it
	// redirects to.
	URL, OtherHost string
	reached        atomic.Int32
	from, to       *httptest.Server
}

// NewRedirectTrap starts both servers on loopback; Close stops them.
func NewRedirectTrap(status int) *RedirectTrap {
	r := &RedirectTrap{}
	r.to = httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { r.reached.Add(1) }))
	r.from = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, r.to.URL+req.URL.Path, status)
	}))
	r.URL, r.OtherHost = r.from.URL, strings.TrimPrefix(r.to.URL, "http://")
	return r
}

// Reached is how many requests arrived at the other host.
func (r *RedirectTrap) Reached() int { return int(r.reached.Load()) }

// Close stops both servers.
func (r *RedirectTrap) Close() {
	r.from.Close()
	r.to.Close()
}
