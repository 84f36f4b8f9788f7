package aasim

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func TestMFACodesAreCheckedAndUsedOnce(t *testing.T) {
	const seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 11, 22, 10, 0, 10, 0, time.UTC)
	h := newHarness(t, func(o *Options) {
		o.Users[0].MFASecret = seed
		o.Clock = func() time.Time { return now }
	})
	code := func(at time.Time) int64 {
		s, err := totp.GenerateCodeCustom(seed, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	login := func(mfa any) (int, string) {
		body := map[string]any{"username": DemoUsername, "apiKey": DemoAPIKey}
		if mfa != nil {
			body["mfaCode"] = mfa
		}
		st, m, _ := h.do(http.MethodPost, "/v2/authentication", "", body)
		c, _ := m["code"].(string)
		return st, c
	}
	for _, c := range []struct {
		name   string
		mfa    any
		status int
		code   string
	}{
		{"no code", nil, 401, "auth.mfa.required"},
		{"wrong code", (code(now) + 1) % 1000000, 401, "auth.mfa.invalid"},
		{"code as a string", strconv.FormatInt(code(now), 10), 400, "generic.server.exception"},
		{"previous period's code", code(now.Add(-30 * time.Second)), 200, ""},
		{"current code", code(now), 200, ""},
		{"current code replayed", code(now), 401, "auth.mfa.invalid"},
		{"older code after a newer one", code(now.Add(-30 * time.Second)), 401, "auth.mfa.invalid"},
		{"next period's code", code(now.Add(30 * time.Second)), 200, ""},
		{"two periods ahead", code(now.Add(time.Minute)), 401, "auth.mfa.invalid"},
	} {
		if st, got := login(c.mfa); st != c.status || got != c.code {
			t.Errorf("%s: %d %q, want %d %q", c.name, st, got, c.status, c.code)
		}
	}
	if got := h.s.Counters().Get("login.mfa.refused"); got != 6 {
		t.Errorf("login.mfa.refused = %d, want 6", got)
	}
	if secrets := h.s.IssuedSecrets(); !slices.Contains(secrets, seed) {
		t.Error("IssuedSecrets lacks the two-factor seed, so secret scans would miss it")
	}
}
