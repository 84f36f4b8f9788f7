package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// A JWT-shaped token ({"alg":"HS256"}.{"sub":"bot"}.sig).
const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXZhbHVl"

func TestRedact(t *testing.T) {
	r := NewRedactor([]string{"configured-secret-1", `quo"te\secret`, "short", ""})
	tests := []struct{ name, in, want string }{
		{"jwt anywhere", "got token " + jwt + " from cr", "got token [REDACTED] from cr"},
		{"authorization header bearer", "Authorization: Bearer abc.def-123", "Authorization: Bearer [REDACTED]"},
		{"x-authorization header without bearer", "X-Authorization: raw-aa-token", "X-Authorization: [REDACTED]"},
		{"authorization JSON", `{"Authorization":"Bearer tenant/hub-token"}`, `{"Authorization":"Bearer [REDACTED]"}`},
		{"x-authorization JSON", `{"X-Authorization": "raw token with space"}`, `{"X-Authorization": "[REDACTED]"}`},
		{"http.Header as JSON", `{"headers":{"Authorization":["Bearer abc"],"Accept":["*/*"]}}`, `{"headers":{"Authorization":["Bearer [REDACTED]"],"Accept":["*/*"]}}`},
		{"http.Header via fmt", "map[Accept:[*/*] X-Authorization:[abc123]]", "map[Accept:[*/*] X-Authorization:[[REDACTED]]]"},
		{"key=value", "authorization=Basic dXNlcjpwYXNz next=1", "authorization=Basic [REDACTED] next=1"},
		{"escaped JSON in a JSON string", `{"body":"{\"access_token\":\"opaque-1\",\"expires_in\":3600}"}`, `{"body":"{\"access_token\":\"[REDACTED]\",\"expires_in\":3600}"}`},
		{"form body", "grant_type=client_credentials&client_id=app&client_secret=s3cr3t&scope=OR.Execution", "grant_type=client_credentials&client_id=app&client_secret=[REDACTED]&scope=OR.Execution"},
		{"password JSON any case", `{"UsernameOrEmailAddress":"admin","Password":"hunter2"}`, `{"UsernameOrEmailAddress":"admin","Password":"[REDACTED]"}`},
		{"apiKey JSON", `{"username":"bot","apiKey":"abcdefghij"}`, `{"username":"bot","apiKey":"[REDACTED]"}`},
		{"token JSON", `{"token":"opaque","user":{"id":3}}`, `{"token":"[REDACTED]","user":{"id":3}}`},
		{"token object is not a value", `{"token":{"expiresAt":"2026-01-01"}}`, `{"token":{"expiresAt":"2026-01-01"}}`},
		{"token-prefixed keys kept", `{"tokenExpiry":"2026-01-01","tokens":2}`, `{"tokenExpiry":"2026-01-01","tokens":2}`},
		{"prose kept", "refreshing token: context deadline exceeded; password is required", "refreshing token: context deadline exceeded; password is required"},
		{"configured secret", "login with configured-secret-1 failed", "login with [REDACTED] failed"},
		{"configured secret JSON-escaped", `{"msg":"value quo\"te\\secret here"}`, `{"msg":"value [REDACTED] here"}`},
		{"configured secret URL-escaped", "q=quo%22te%5Csecret", "q=[REDACTED]"},
		{"short secret ignored", "a short message", "a short message"},
		{"jwt in authorization", "Authorization: Bearer " + jwt, "Authorization: Bearer [REDACTED]"},
		{"camelCase JSON keys", `{"accessToken":"a1","refreshToken":"r1","idToken":"i1","clientSecret":"c1","appKey":"k1","apiKey":"p1","password":"w1","secret":"s1"}`,
			`{"accessToken":"[REDACTED]","refreshToken":"[REDACTED]","idToken":"[REDACTED]","clientSecret":"[REDACTED]","appKey":"[REDACTED]","apiKey":"[REDACTED]","password":"[REDACTED]","secret":"[REDACTED]"}`},
		{"Go struct print", "{Profile:cr Token:opaque-1 Expiry:2026-01-01}", "{Profile:cr Token:[REDACTED] Expiry:2026-01-01}"},
		{"Go pointer struct print", "&{AccessToken:at-1 RefreshToken:rt-1 ClientSecret:cs-1 ExpiresIn:3600}", "&{AccessToken:[REDACTED] RefreshToken:[REDACTED] ClientSecret:[REDACTED] ExpiresIn:3600}"},
		{"X-API-Key header", "X-API-Key: k-123456", "X-API-Key: [REDACTED]"},
		{"Hub app-key header", "x-ah-openapi-app-key: hub-app-1", "x-ah-openapi-app-key: [REDACTED]"},
		{"Hub app-key in a Go map", "map[Authorization:[Bearer t/x] X-Ah-Openapi-App-Key:[hub-app-1]]", "map[Authorization:[Bearer [REDACTED]] X-Ah-Openapi-App-Key:[[REDACTED]]]"},
		{"Cookie, every cookie", "Cookie: session=abc; csrf=def", "Cookie: [REDACTED]"},
		{"Set-Cookie JSON", `{"Set-Cookie":"sid=abc; HttpOnly"}`, `{"Set-Cookie":"[REDACTED]"}`},
		{"value with an escaped quote", `{"password":"abc\"def","user":"u"}`, `{"password":"[REDACTED]","user":"u"}`},
		{"nested value with an escaped quote", `{"body":"{\"token\":\"ab\\\"cd\",\"n\":1}"}`, `{"body":"{\"token\":\"[REDACTED]\",\"n\":1}"}`},
		{"struct field names kept", "{TokenExpires:2026-01-01 Tokens:2}", "{TokenExpires:2026-01-01 Tokens:2}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactorWriterReportsInputLength(t *testing.T) {
	var buf bytes.Buffer
	w := NewRedactor([]string{"abcdef"}).Writer(&buf)
	n, err := w.Write([]byte("x abcdef y\n"))
	if err != nil || n != 11 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if buf.String() != "x [REDACTED] y\n" {
		t.Errorf("wrote %q", buf.String())
	}
}

func TestNewJSONRedacts(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "debug", "json", []string{"pa55word-value"})
	h := http.Header{}
	h.Set("X-Authorization", "raw-aa-token")
	l.Debug().Interface("headers", h).Str("jwt", jwt).Msg("login with pa55word-value")
	l.Error().Err(errors.New(`401: {"access_token":"leaky"}`)).Msg("refresh failed")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines = %q", lines)
	}
	for _, s := range []string{"raw-aa-token", jwt, "pa55word-value", "leaky"} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("output leaks %q: %s", s, buf.String())
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("line is not JSON after redaction: %v: %s", err, lines[0])
	}
	if m["message"] != "login with [REDACTED]" || m["jwt"] != "[REDACTED]" || m["level"] != "debug" || m["time"] == nil {
		t.Errorf("line = %v", m)
	}
}

func TestNewLevelAndConsole(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "warn", "console", nil)
	l.Info().Msg("hidden")
	l.Warn().Str("Authorization", "Bearer abc").Msg("shown")
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
		t.Errorf("level filtering: %q", out)
	}
	if strings.Contains(out, "abc") || !strings.Contains(out, `Authorization="Bearer [REDACTED]"`) {
		t.Errorf("console line not redacted: %q", out)
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("console format wrote JSON: %q", out)
	}

	buf.Reset()
	l = New(&buf, "bogus", "", nil)
	l.Debug().Msg("debug")
	l.Info().Msg("info")
	if strings.Contains(buf.String(), `"debug"`) || !strings.Contains(buf.String(), `"info"`) {
		t.Errorf("unknown level should mean info: %q", buf.String())
	}
}

func TestTemporalLoggerRedacts(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "info", "json", []string{"client-secret-xyz"})
	tl := TemporalLogger(l)
	tl.Debug("dropped below level")
	tl.Info("Activity error", "Authorization", "Bearer "+jwt, "Error", errors.New("client-secret-xyz rejected"), "WorkflowID", "aa-session:cr")
	tl.Warn("raw", "X-Authorization", "opaque-token-1")

	out := buf.String()
	for _, s := range []string{jwt, "client-secret-xyz", "opaque-token-1", "dropped"} {
		if strings.Contains(out, s) {
			t.Errorf("SDK log output leaks %q: %s", s, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines = %q", lines)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["level"] != zerolog.LevelInfoValue || m["WorkflowID"] != "aa-session:cr" || m["Authorization"] != "Bearer [REDACTED]" || m["Error"] != "[REDACTED] rejected" {
		t.Errorf("SDK line = %v", m)
	}
}
