package httpx

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckBaseURL validates a platform base URL: absolute, https unless
// allowHTTP, no query or fragment. It returns the URL without a trailing slash.
func CheckBaseURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not an absolute http(s) URL; use e.g. https://host/path", raw)
	}
	if u.Scheme == "http" && !allowHTTP {
		return "", fmt.Errorf("%q uses plain http, which would send credentials in clear; use https (or allow http for a local simulator only)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q has a query or fragment; give only scheme, host and path", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// HostMatches reports whether host matches pattern. A pattern "*.example.com"
// matches any subdomain (not example.com itself); other patterns match exactly.
// Ports are ignored; comparison is case-insensitive.
func HostMatches(pattern, host string) bool {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	host = strings.ToLower(hostOnly(host))
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+rest)
	}
	return host == hostOnly(pattern)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
