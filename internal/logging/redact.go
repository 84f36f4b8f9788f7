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

	// Credential headers, in any notation: `Authorization: Bearer x`, JSON
	// (`"X-Authorization":"x"`, also escaped inside another JSON string), Go
	// maps (`map[Authorization:[Bearer x]]`) and `key=value`.
	headerKey = `(?i)\b((?:x-)?authorization|x-api-key|x-ah-openapi-app-key|x-ah-openapi-auth|proxy-authorization)(\\*["']?\s*[:=]\s*\[?\s*)`
	// Cookies: the whole header value, every cookie in it.
	cookieKey = `(?i)\b(set-cookie|cookie)(\\*["']?\s*[:=]\s*\[?\s*)`
	// Credential fields in snake, kebab or camel case: JSON keys
	// (`"accessToken":"x"`), form and key=value pairs (`password=x&...`) and
	// Go struct prints (`{Token:x}`, `&{AccessToken:x ...}`). A bare
	// `token: ...` is left alone, as it is usually prose such as an error
	// message.
	fieldName = `(?i)\b(access[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?secret|app[_-]?key|api[_-]?key|password|passwd|secret|token)`
	fieldSep  = `((?:\\*["']\s*[:=]|\s*=)\s*\[?\s*)`
	// bare value: one word, after an optional auth scheme
	bareValue = `((?:bearer|basic)\s+)?([^\s"'\\,;&{}\[\]]+)`

	// openers end where a quoted value begins; the value runs to the
	// matching closing quote (quoted, below).
	openers = []*regexp.Regexp{
		regexp.MustCompile(cookieKey + `(\\*["'])`),
		regexp.MustCompile(headerKey + `(\\*["'])`),
		regexp.MustCompile(fieldName + fieldSep + `(\\*["'])`),
	}
	valueREs = []*regexp.Regexp{
		regexp.MustCompile(cookieKey + `()([^"'\\\r\n\]]+)`),
		regexp.MustCompile(headerKey + bareValue),
		regexp.MustCompile(fieldName + fieldSep + bareValue),
		// Go's %+v: Key:value with nothing between
		regexp.MustCompile(fieldName + `(:)` + bareValue),
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
	for _, re := range openers {
		s = quoted(re, s)
	}
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

// quoted replaces each value that opener finds the start of, up to its
// closing quote: the opening quote with as many backslashes in front (so
// `"a\"b"` and, nested in a JSON string, `\"a\\\"b\"` are taken whole).
// An auth scheme in front of the value is kept.
func quoted(opener *regexp.Regexp, s string) string {
	var b strings.Builder
	last := 0
	// unclosed[q]: no quote q closes before this index (the line's end), so
	// later openers up to there need no search: linear in len(s).
	unclosed := map[string]int{}
	for _, m := range opener.FindAllStringSubmatchIndex(s, -1) {
		q := s[m[len(m)-2]:m[len(m)-1]] // the opening quote, escapes included
		start := m[1]
		if m[0] < last || start < unclosed[q] {
			continue
		}
		end := closing(s, start, q)
		if end < 0 {
			// A value the line ends inside (a truncated body) is redacted
			// to the line's end: fail closed.
			end = len(s)
			if nl := strings.IndexByte(s[start:], '\n'); nl >= 0 {
				end = start + nl
			}
			unclosed[q] = end
		}
		v := s[start:end]
		scheme := ""
		if i := strings.IndexAny(v, " \t"); i > 0 && (strings.EqualFold(v[:i], "bearer") || strings.EqualFold(v[:i], "basic")) {
			scheme = v[:i] + " "
			v = strings.TrimLeft(v[i:], " \t")
		}
		if v == "" || v == Redacted || strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(scheme)
		b.WriteString(Redacted)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// closing finds the quote that closes a value opened by q at s[from:]: the
// same quote character behind exactly as many backslashes; -1 if the line
// ends first.
func closing(s string, from int, q string) int {
	c := q[len(q)-1]
	n := len(q) - 1
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return -1
		case c:
			k := 0
			for k < i-from && s[i-1-k] == '\\' {
				k++
			}
			if k == n {
				return i - n
			}
		}
	}
	return -1
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
