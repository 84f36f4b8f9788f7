package httpx

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
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

// sharedParents are parent domains under which unrelated customers get
// hosts but which the Public Suffix List does not carry: Azure gives each
// VM <name>.<region>.cloudapp.azure.com.
var sharedParents = []string{"cloudapp.azure.com"}

// CheckHostPattern refuses a host pattern that would let a token go to
// hosts anyone can obtain. An exact host is accepted. A wildcard is
// accepted only as "*." followed by a registrable domain or a name below
// one: the part after "*." must have at least one label more than its
// public suffix (Public Suffix List, both its sections, plus
// sharedParents and the region label below them). So "*.com",
// "*.co.uk", "*.github.io", "*.internal", "*.cloudapp.azure.com" and
// "*.westeurope.cloudapp.azure.com" are refused; "*.automationanywhere.digital",
// "*.example.co.uk", "*.corp.internal" and "*.vm1.westeurope.cloudapp.azure.com"
// are accepted.
func CheckHostPattern(pattern string) error {
	p := strings.ToLower(strings.TrimSpace(pattern))
	rest, wild := strings.CutPrefix(p, "*.")
	if p == "" || strings.ContainsAny(rest, "*/:@ ") || strings.Contains(rest, "..") || strings.HasPrefix(rest, ".") || strings.HasSuffix(rest, ".") {
		return fmt.Errorf("%q is not a host pattern; write a host name (api.example.com) or *. before a domain (*.example.com)", pattern)
	}
	if !wild {
		return nil
	}
	if net.ParseIP(rest) != nil {
		return fmt.Errorf("%q puts a wildcard in front of an IP address; list the host itself", pattern)
	}
	suffix, _ := publicsuffix.PublicSuffix(rest)
	for _, parent := range sharedParents {
		if rest == parent || strings.HasSuffix(rest, "."+parent) {
			suffix = parent
			if region, ok := strings.CutSuffix(rest, "."+parent); ok {
				if i := strings.LastIndexByte(region, '.'); i >= 0 {
					region = region[i+1:]
				}
				suffix = region + "." + parent
			}
		}
	}
	if rest == suffix {
		return fmt.Errorf("%q matches every host under the public suffix %q, which anyone can register or rent; name your own domain below it (e.g. *.your-company.%s) or list exact hosts", pattern, suffix, suffix)
	}
	return nil
}
