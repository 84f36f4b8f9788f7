package logging

import (
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces every secret the Redactor finds.
const Redacted = "[REDACTED]"

// minSecretLen: shorter configured secrets are ignored, or every "true" or
// "admin" in the logs would be shredded.
const minSecretLen = 6

var (
	// Three dot-separated base64url segments starting with the encoding of
	// `{"`; the signature may be empty (alg "none").
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)

	// Authorization-like headers, in any notation: `Authorization: Bearer x`,
	// JSON (`"X-Authorization":"x"`, also escaped inside another JSON string),
	// Go maps (`map[Authorization:[Bearer x]]`) and `key=value`.
	authKey = `(?i)\b((?:x-)?authorization)(\\*["']?\s*[:=]\s*\[?\s*)`
	// Credential fields, as JSON keys (`"token":"x"`) or form/key=value pairs
	// (`password=x&...`); a bare `token: ...` is left alone, as it is usually
	// prose such as an error message.
	fieldKey = `(?i)\b(access_token|refresh_token|id_token|client_secret|password|api[_-]?key|token)((?:\\*["']\s*[:=]|\s*=)\s*\[?\s*)`
	// quoted value: everything up to the closing quote
	quotedValue = `(\\*["'])((?:bearer|basic)\s+)?([^"'\\]+)`
	// bare value: one word, after an optional auth scheme
	bareValue = `((?:bearer|basic)\s+)?([^\s"'\\,;&{}\[\]]+)`

	valueREs = []*regexp.Regexp{
		regexp.MustCompile(authKey + quotedValue),
		regexp.MustCompile(fieldKey + quotedValue),
		regexp.MustCompile(authKey + bareValue),
		regexp.MustCompile(fieldKey + bareValue),
	}
)

// Redactor removes credentials from log output: JWT-shaped strings, the values
// of Authorization-like headers and credential fields, and configured secrets.
type Redactor struct {
	secrets *strings.Replacer
}

// NewRedactor returns a Redactor that also removes the given secret values
// (and their JSON- and URL-escaped forms). Secrets shorter than 6 characters
// are ignored.
func NewRedactor(secrets []string) *Redactor {
	var forms []string
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		forms = append(forms, s)
		if b, err := json.Marshal(s); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
		forms = append(forms, url.QueryEscape(s), url.PathEscape(s))
	}
	// Longest first, so a secret containing another is removed whole.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	forms = slices.Compact(forms)
	r := &Redactor{}
	if len(forms) > 0 {
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, Redacted)
		}
		r.secrets = strings.NewReplacer(pairs...)
	}
	return r
}

// Redact returns s with every credential replaced by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r.secrets != nil {
		s = r.secrets.Replace(s)
	}
	s = jwtRE.ReplaceAllString(s, Redacted)
	for _, re := range valueREs {
		s = re.ReplaceAllStringFunc(s, func(m string) string { return redactValue(re, m) })
	}
	return s
}

// redactValue keeps the key, separators and auth scheme, and replaces the
// value (the last group).
func redactValue(re *regexp.Regexp, m string) string {
	g := re.FindStringSubmatchIndex(m)
	start := g[len(g)-2]
	switch strings.ToLower(m[start:]) {
	case strings.ToLower(Redacted), "bearer", "basic":
		// already redacted (by a secret or the JWT pattern), possibly behind
		// the auth scheme, which the bare pattern would otherwise take as value
		return m
	}
	return m[:start] + Redacted
}

// Writer returns a writer that redacts everything written through it. zerolog
// writes one whole log line per Write, so secrets are never split.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &redactWriter{r: r, w: w}
}

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
