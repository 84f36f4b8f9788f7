package httpx

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/publicsuffix"
)

// FuzzRetryAfter: any header value gives a delay in [0, 10 min].
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "1.5", "-3", "NaN", "+Inf", "1e400", "Wed, 21 Oct 2026 07:28:00 GMT", "", " 7 "} {
		f.Add(s)
	}
	now := time.Date(2026, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := RetryAfter(v, now); d < 0 || d > 10*time.Minute {
			t.Fatalf("RetryAfter(%q) = %v", v, d)
		}
	})
}

// FuzzHostChecks: the base-URL check returns only absolute http(s) URLs
// without query or user-free-of-scheme surprises; a pattern CheckHostPattern
// accepts never spans a public suffix; HostMatches of a wildcard matches
// only names below its domain.
func FuzzHostChecks(f *testing.F) {
	for _, s := range []string{"https://cr.example.com/", "http://127.0.0.1:8080/x", "https://h/p?q=1", "*.com", "*.automationanywhere.digital", "*.cloudapp.azure.com", "a.b.c", "[::1]:80", "HTTPS://X.EXAMPLE.COM"} {
		f.Add(s, "hotbot.example.com:443", false)
	}
	f.Fuzz(func(t *testing.T, s, host string, allowHTTP bool) {
		if base, err := CheckBaseURL(s, allowHTTP); err == nil {
			u, err := url.Parse(base)
			if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
				t.Fatalf("CheckBaseURL(%q) accepted %q", s, base)
			}
		}
		if err := CheckHostPattern(s); err == nil {
			if rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "*."); ok {
				if suffix, _ := publicsuffix.PublicSuffix(rest); rest == suffix {
					t.Fatalf("CheckHostPattern accepted %q over the public suffix %q", s, suffix)
				}
			}
		}
		if rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "*."); ok && HostMatches(s, host) {
			if !strings.HasSuffix(strings.ToLower(hostOnly(host)), "."+rest) {
				t.Fatalf("HostMatches(%q, %q) outside the domain", s, host)
			}
		}
	})
}
