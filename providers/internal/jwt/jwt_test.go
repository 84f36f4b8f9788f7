package jwt

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestMintParseRoundTrip(t *testing.T) {
	iat := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	exp := iat.Add(20 * time.Minute)
	tok := Mint(map[string]any{"sub": "3", "iat": iat.Unix(), "exp": exp.Unix()})
	if parts := strings.Split(tok, "."); len(parts) != 3 || strings.ContainsAny(tok, "=+/") {
		t.Fatalf("Mint produced %q, want three base64url parts without padding", tok)
	}
	c, err := Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !c.IssuedAt.Equal(iat) || !c.ExpiresAt.Equal(exp) || c.ExpiresAt.Location() != time.UTC {
		t.Errorf("claims = %+v, want iat %v exp %v in UTC", c, iat, exp)
	}
	if got := Expiry(tok, iat, time.Hour); !got.Equal(exp) {
		t.Errorf("Expiry = %v, want the exp claim %v", got, exp)
	}
}

func TestParseTolerates(t *testing.T) {
	payload := func(s string) string {
		return "h." + base64.RawURLEncoding.EncodeToString([]byte(s)) + ".sig"
	}
	// Fractional seconds, padded base64 and string-encoded numbers are all seen in the wild.
	c, err := Parse(payload(`{"exp":1795000000.7}`))
	if err != nil || c.ExpiresAt.Unix() != 1795000000 {
		t.Errorf("fractional exp: %+v %v", c, err)
	}
	padded := "h." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1795000000}`)) + ".sig"
	if c, err := Parse(padded); err != nil || c.ExpiresAt.Unix() != 1795000000 {
		t.Errorf("padded payload: %+v %v", c, err)
	}
	if c, err := Parse(payload(`{"exp":"1795000000"}`)); err != nil || c.ExpiresAt.Unix() != 1795000000 {
		t.Errorf("quoted exp: %+v %v", c, err)
	}
	// No exp, zero or negative exp: no expiry, and Expiry falls back.
	for _, p := range []string{`{"sub":"x"}`, `{"exp":0}`, `{"exp":-5}`} {
		c, err := Parse(payload(p))
		if err != nil || !c.ExpiresAt.IsZero() {
			t.Errorf("%s: %+v %v, want no expiry", p, c, err)
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if got := Expiry(payload(p), now, 20*time.Minute); !got.Equal(now.Add(20 * time.Minute)) {
			t.Errorf("%s: Expiry = %v, want the fallback", p, got)
		}
	}
}

func TestParseGarbage(t *testing.T) {
	for _, tok := range []string{
		"", "opaque-token", "a.b", "a.b.c.d", "h.!!!.s",
		"h." + base64.RawURLEncoding.EncodeToString([]byte("not json")) + ".s",
		"h." + base64.RawURLEncoding.EncodeToString([]byte(`[1,2]`)) + ".s",
		"h." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":true}`)) + ".s",
		"h." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":"soon"}`)) + ".s",
	} {
		if _, err := Parse(tok); err == nil {
			t.Errorf("Parse(%q) succeeded", tok)
		} else if strings.Contains(err.Error(), tok) && tok != "" {
			t.Errorf("error %q echoes the token", err)
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if got := Expiry(tok, now, time.Minute); !got.Equal(now.Add(time.Minute)) {
			t.Errorf("Expiry(%q) = %v, want the fallback", tok, got)
		}
	}
}

// Parse must never panic, and a success always yields UTC times.
func FuzzParse(f *testing.F) {
	f.Add(Mint(map[string]any{"iat": 1795000000, "exp": 1795001200}))
	f.Add("h." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1e300}`)) + ".s")
	f.Add("h." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":-1e300,"iat":"7"}`)) + ".s")
	f.Add("a..b")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Parse(tok)
		if err != nil {
			if c != (Claims{}) {
				t.Errorf("error with claims %+v", c)
			}
			return
		}
		for _, ts := range []time.Time{c.IssuedAt, c.ExpiresAt} {
			if !ts.IsZero() && ts.Location() != time.UTC {
				t.Errorf("claim time %v is not UTC", ts)
			}
		}
		_ = Expiry(tok, time.Unix(0, 0), time.Minute)
	})
}

// A token from an issuer whose clock is off lives exp − iat from the moment
// it is received, on the receiver's clock.
func TestExpiryIgnoresTheIssuersClock(t *testing.T) {
	received := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, skew := range []time.Duration{-3 * time.Minute, 0, 3 * time.Minute, 2 * time.Hour} {
		iat := received.Add(skew)
		tok := Mint(map[string]any{"iat": iat.Unix(), "exp": iat.Add(30 * time.Second).Unix()})
		if l, ok := Lifetime(tok); !ok || l != 30*time.Second {
			t.Errorf("skew %s: Lifetime = %s %v, want 30s", skew, l, ok)
		}
		if got := Expiry(tok, received, 20*time.Minute); !got.Equal(received.Add(30 * time.Second)) {
			t.Errorf("skew %s: Expiry = %v, want received + 30s", skew, got)
		}
	}
	// Without iat (or with exp not after iat) the lifetime is unknown: the fallback applies.
	for _, claims := range []map[string]any{
		{"exp": received.Add(time.Hour).Unix()},
		{"iat": received.Unix(), "exp": received.Unix()},
		{"iat": received.Unix()},
	} {
		tok := Mint(claims)
		if l, ok := Lifetime(tok); ok {
			t.Errorf("%v: Lifetime = %s, want unknown", claims, l)
		}
		if got := Expiry(tok, received, 20*time.Minute); !got.Equal(received.Add(20 * time.Minute)) {
			t.Errorf("%v: Expiry = %v, want the fallback", claims, got)
		}
	}
}
