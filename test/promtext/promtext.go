// Package promtext reads samples out of the Prometheus text format, for the
// tests and benchmarks that scrape a worker's /metrics.
package promtext

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// each calls f with every sample of name whose labels include want, until f
// returns false.
func each(body, name string, want map[string]string, f func(v float64) bool) {
	for _, line := range strings.Split(body, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		have := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			have[p[1]] = p[2]
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err == nil && !f(v) {
			return
		}
	}
}

// First returns the first sample of name whose labels include want.
func First(body, name string, want map[string]string) (v float64, found bool) {
	each(body, name, want, func(x float64) bool { v, found = x, true; return false })
	return v, found
}

// Sum adds up every sample of name whose labels include want (a counter
// or histogram bucket across the series of many label values) and says how
// many there were.
func Sum(body, name string, want map[string]string) (sum float64, n int) {
	each(body, name, want, func(x float64) bool { sum += x; n++; return true })
	return sum, n
}

// Scrape fetches a /metrics page.
func Scrape(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("scraping %s: status %d %v", url, resp.StatusCode, err)
	}
	return string(b), nil
}
