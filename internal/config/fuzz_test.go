package config

import (
	"errors"
	"strings"
	"testing"
)

const fuzzMarker = "FZSECRET"

// FuzzLoadFrom: LoadFrom never panics, fails only with a *Error listing at
// least one problem, and never echoes a secret value.
func FuzzLoadFrom(f *testing.F) {
	f.Add("cr", "automationanywhere", "https://cr.example.com", "pw", activeB64, "2027-01-31", "true", "bot")
	f.Add("cr,orch", "uipath-orchestrator", "http://127.0.0.1:1", "", "", "", "false", "")
	f.Add("hub", "uipath-automationhub", "https://hub", "tok", "!!!", "2027-13-40", "yes", "u")
	f.Add(",,-x,A", "", "://", "\n", "k1=abc", "2027-01-31T00:00:00Z", "", "a b")
	f.Add("a-b,a-b", "automationanywhere", "https://u:p@h/x", "x\r\n", activeB64+"\n", "0", "1", "")
	f.Fuzz(func(t *testing.T, profiles, kind, rawURL, secret, codecKey, expires, flag, user string) {
		env := map[string]string{
			"RPAFLOW_PROFILES":           profiles,
			"RPAFLOW_CODEC_KEY":          codecKey,
			"RPAFLOW_CODEC_OLD_KEYS":     codecKey,
			"RPAFLOW_INSECURE_PLAINTEXT": flag,
		}
		for _, name := range strings.Split(profiles, ",") {
			env[EnvVar(name, "KIND")] = kind
			env[EnvVar(name, "URL")] = rawURL
			env[EnvVar(name, "ALLOW_HTTP")] = flag
			env[EnvVar(name, "USERNAME")] = user
			env[EnvVar(name, "PASSWORD")] = fuzzMarker + secret
			env[EnvVar(name, "CLIENT_SECRET")] = fuzzMarker + secret
			env[EnvVar(name, "TOKEN")] = fuzzMarker + secret
			env[EnvVar(name, "TENANT_ID")] = user
			env[EnvVar(name, "TOKEN_EXPIRES")] = expires
		}
		cfg, err := LoadFrom(env)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("error %T without problems: %v", err, err)
		}
		nonSecret := profiles + kind + rawURL + expires + flag + user
		if !strings.Contains(nonSecret, fuzzMarker) && strings.Contains(err.Error(), fuzzMarker) {
			t.Fatalf("secret echoed: %v", err)
		}
	})
}
