package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	activeKey = bytes.Repeat([]byte{1}, 32)
	oldKey    = bytes.Repeat([]byte{2}, 32)
	activeB64 = base64.StdEncoding.EncodeToString(activeKey)
	oldB64    = base64.StdEncoding.EncodeToString(oldKey)
)

// secret values used in validEnv; none may ever appear in an error message.
var testSecrets = []string{"aa-api-key-secret-1", "aa-password-secret-1", "orch-client-secret-1", "hub-token-secret-1", "hub-app-key-secret-1", "codec-auth-token-1-0123456789abcdef", "temporal-api-key-1", activeB64, oldB64}

func validEnv() map[string]string {
	return map[string]string{
		"RPAFLOW_PROFILES":              "cr,orch,hub",
		"RPAFLOW_CODEC_KEY":             activeB64,
		"RPAFLOW_CODEC_KEY_ID":          "k2",
		"RPAFLOW_CODEC_OLD_KEYS":        "k1=" + oldB64,
		"RPAFLOW_CODEC_AUTH_TOKEN":      "codec-auth-token-1-0123456789abcdef",
		"TEMPORAL_API_KEY":              "temporal-api-key-1",
		"RPAFLOW_CR_KIND":               "automationanywhere",
		"RPAFLOW_CR_URL":                "https://cr.example.com",
		"RPAFLOW_CR_USERNAME":           "bot-runner",
		"RPAFLOW_CR_API_KEY":            "aa-api-key-secret-1",
		"RPAFLOW_CR_EXECUTION_HOSTS":    "*.automationanywhere.digital, api.example.com",
		"RPAFLOW_ORCH_KIND":             "uipath-orchestrator",
		"RPAFLOW_ORCH_URL":              "https://cloud.uipath.com/acme/DefaultTenant/orchestrator_",
		"RPAFLOW_ORCH_ORGANIZATION":     "acme",
		"RPAFLOW_ORCH_TENANT":           "DefaultTenant",
		"RPAFLOW_ORCH_CLIENT_ID":        "app-id",
		"RPAFLOW_ORCH_CLIENT_SECRET":    "orch-client-secret-1",
		"RPAFLOW_ORCH_SCOPES":           "OR.Execution OR.Queues,OR.Folders.Read",
		"RPAFLOW_HUB_KIND":              "uipath-automationhub",
		"RPAFLOW_HUB_URL":               "https://cloud.uipath.com/acme/DefaultTenant/automationhub_",
		"RPAFLOW_HUB_TENANT_ID":         "tenant-1",
		"RPAFLOW_HUB_TOKEN":             "hub-token-secret-1",
		"RPAFLOW_HUB_APP_KEY":           "hub-app-key-secret-1",
		"RPAFLOW_HUB_TOKEN_EXPIRES":     "2027-01-31",
		"RPAFLOW_UNRELATED_VARIABLE_OK": "x",
	}
}

func TestLoadFromValid(t *testing.T) {
	cfg, err := LoadFrom(validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TaskQueue != "rpaflow" || cfg.HTTPAddr != "127.0.0.1:8081" || cfg.LogLevel != "info" || cfg.LogFormat != "json" || cfg.Tracing || cfg.PollBudgetPerMinute != 60 {
		t.Errorf("defaults: %+v", cfg)
	}
	if got := cfg.ProfileNames(); !slices.Equal(got, []string{"cr", "orch", "hub"}) {
		t.Errorf("ProfileNames = %v", got)
	}
	if !bytes.Equal(cfg.Codec.Key, activeKey) || cfg.Codec.KeyID != "k2" || cfg.Codec.AuthToken != "codec-auth-token-1-0123456789abcdef" {
		t.Errorf("codec = %+v", cfg.Codec)
	}
	if len(cfg.Codec.OldKeys) != 1 || cfg.Codec.OldKeys[0].ID != "k1" || !bytes.Equal(cfg.Codec.OldKeys[0].Key, oldKey) {
		t.Errorf("old keys = %+v", cfg.Codec.OldKeys)
	}
	cr, ok := cfg.Profile("cr")
	if !ok || cr.Kind != KindAA || cr.Username != "bot-runner" || cr.APIKey != "aa-api-key-secret-1" || cr.AllowHTTP || cr.MultipleLogin {
		t.Errorf("cr = %+v", cr)
	}
	if !slices.Equal(cr.ExecutionHosts, []string{"*.automationanywhere.digital", "api.example.com"}) {
		t.Errorf("execution hosts = %q", cr.ExecutionHosts)
	}
	orch, _ := cfg.Profile("orch")
	if orch.Kind != KindOrchestrator || orch.ClientID != "app-id" || orch.Organization != "acme" || orch.Tenant != "DefaultTenant" {
		t.Errorf("orch = %+v", orch)
	}
	if !slices.Equal(orch.Scopes, []string{"OR.Execution", "OR.Queues", "OR.Folders.Read"}) {
		t.Errorf("scopes = %q", orch.Scopes)
	}
	hub, _ := cfg.Profile("hub")
	if hub.Kind != KindHub || hub.TenantID != "tenant-1" || hub.AppKey != "hub-app-key-secret-1" || !hub.TokenExpires.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("hub = %+v", hub)
	}
	if _, ok := cfg.Profile("nope"); ok {
		t.Error("Profile(nope) found")
	}
	secrets := cfg.Secrets()
	for _, s := range testSecrets {
		if s == "aa-password-secret-1" {
			continue // not configured in validEnv
		}
		if !slices.Contains(secrets, s) {
			t.Errorf("Secrets() misses %q", s)
		}
	}
	if slices.Contains(secrets, "app-id") || slices.Contains(secrets, "bot-runner") {
		t.Errorf("Secrets() holds non-secrets: %q", secrets)
	}
	if v, ok := cfg.LookupEnv("RPAFLOW_CR_URL"); !ok || v != "https://cr.example.com" {
		t.Errorf("LookupEnv = %q %v", v, ok)
	}
	if !slices.Contains(cfg.Environ(), "RPAFLOW_PROFILES=cr,orch,hub") {
		t.Error("Environ misses RPAFLOW_PROFILES")
	}
}

func TestLoadFromOverrides(t *testing.T) {
	env := validEnv()
	env["RPAFLOW_TASK_QUEUE"] = "q2"
	env["RPAFLOW_HTTP_ADDR"] = ":9000"
	env["RPAFLOW_LOG_LEVEL"] = "DEBUG"
	env["RPAFLOW_LOG_FORMAT"] = "console"
	env["RPAFLOW_TRACING"] = "true"
	env["RPAFLOW_POLL_BUDGET_PER_MINUTE"] = "90"
	env["RPAFLOW_PROFILES"] = " hub , my-cr "
	env["RPAFLOW_MY_CR_KIND"] = "automationanywhere"
	env["RPAFLOW_MY_CR_URL"] = "http://127.0.0.1:8080"
	env["RPAFLOW_MY_CR_ALLOW_HTTP"] = "true"
	env["RPAFLOW_MY_CR_USERNAME"] = "u"
	env["RPAFLOW_MY_CR_PASSWORD"] = "aa-password-secret-1"
	env["RPAFLOW_MY_CR_MULTIPLE_LOGIN"] = "true"
	env["RPAFLOW_HUB_TOKEN_EXPIRES"] = "2027-01-31T12:30:00+02:00"
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TaskQueue != "q2" || cfg.HTTPAddr != ":9000" || cfg.LogLevel != "debug" || cfg.LogFormat != "console" || !cfg.Tracing || cfg.PollBudgetPerMinute != 90 {
		t.Errorf("cfg = %+v", cfg)
	}
	if got := cfg.ProfileNames(); !slices.Equal(got, []string{"hub", "my-cr"}) {
		t.Errorf("order not kept: %v", got)
	}
	p, _ := cfg.Profile("my-cr")
	if !p.AllowHTTP || !p.MultipleLogin || p.Password != "aa-password-secret-1" {
		t.Errorf("my-cr = %+v", p)
	}
	hub, _ := cfg.Profile("hub")
	if !hub.TokenExpires.Equal(time.Date(2027, 1, 31, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("TokenExpires = %v", hub.TokenExpires)
	}
}

func TestLoadFromOrchestratorLegacyLogin(t *testing.T) {
	env := validEnv()
	delete(env, "RPAFLOW_ORCH_CLIENT_ID")
	delete(env, "RPAFLOW_ORCH_CLIENT_SECRET")
	env["RPAFLOW_ORCH_URL"] = "https://orchestrator.example.com"
	env["RPAFLOW_ORCH_USERNAME"] = "admin"
	env["RPAFLOW_ORCH_PASSWORD"] = "aa-password-secret-1"
	env["RPAFLOW_ORCH_TENANCY_NAME"] = "Default"
	env["RPAFLOW_ORCH_TOKEN_URL"] = "https://orchestrator.example.com/identity/connect/token"
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Profile("orch")
	if p.Username != "admin" || p.Password != "aa-password-secret-1" || p.TenancyName != "Default" || p.TokenURL == "" {
		t.Errorf("orch = %+v", p)
	}
}

func TestLoadFromPlaintext(t *testing.T) {
	env := validEnv()
	delete(env, "RPAFLOW_CODEC_KEY")
	delete(env, "RPAFLOW_CODEC_OLD_KEYS")
	env["RPAFLOW_INSECURE_PLAINTEXT"] = "true"
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Codec.InsecurePlaintext || cfg.Codec.Key != nil {
		t.Errorf("codec = %+v", cfg.Codec)
	}
}

func TestLoadFromSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := validEnv()
	delete(env, "RPAFLOW_CR_API_KEY")
	delete(env, "RPAFLOW_CODEC_KEY")
	delete(env, "RPAFLOW_ORCH_CLIENT_SECRET")
	delete(env, "TEMPORAL_API_KEY")
	env["RPAFLOW_CR_API_KEY_FILE"] = write("apikey", "from-file-key\n")
	env["RPAFLOW_CODEC_KEY_FILE"] = write("codec", activeB64+"\r\n")
	env["RPAFLOW_ORCH_CLIENT_SECRET_FILE"] = write("secret", "line1\n\n") // only one newline is trimmed
	env["TEMPORAL_API_KEY_FILE"] = write("temporal", "tk-from-file")
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	cr, _ := cfg.Profile("cr")
	orch, _ := cfg.Profile("orch")
	if cr.APIKey != "from-file-key" || orch.ClientSecret != "line1\n" || !bytes.Equal(cfg.Codec.Key, activeKey) || cfg.TemporalAPIKey != "tk-from-file" {
		t.Errorf("cr=%q orch=%q key=%v temporal=%q", cr.APIKey, orch.ClientSecret, cfg.Codec.Key, cfg.TemporalAPIKey)
	}
	if !slices.Contains(cfg.Secrets(), "from-file-key") || !slices.Contains(cfg.Secrets(), "tk-from-file") {
		t.Error("file secrets missing from Secrets()")
	}
}

func TestLoadFromProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	short := base64.StdEncoding.EncodeToString([]byte("too-short-key"))
	tests := []struct {
		name string
		set  map[string]string // "" deletes
		want []string          // substrings, one problem each, in order
	}{
		{"profiles empty", map[string]string{"RPAFLOW_PROFILES": " "}, []string{"RPAFLOW_PROFILES is empty"}},
		{"profiles duplicate, bad name and empty entry", map[string]string{"RPAFLOW_PROFILES": "cr,,cr,Bad_Name,orch,hub"}, []string{
			"RPAFLOW_PROFILES has an empty entry at position 2",
			`RPAFLOW_PROFILES lists "cr" twice`,
			`RPAFLOW_PROFILES entry "Bad_Name" is not a valid profile name; profile names use lower-case letters`,
		}},
		{"unknown kind", map[string]string{"RPAFLOW_CR_KIND": "blueprism"}, []string{`RPAFLOW_CR_KIND="blueprism" is not a known platform; use one of automationanywhere, uipath-orchestrator, uipath-automationhub`}},
		{"kind missing", map[string]string{"RPAFLOW_CR_KIND": ""}, []string{"RPAFLOW_CR_KIND is not set; set it to one of automationanywhere"}},
		{"url missing", map[string]string{"RPAFLOW_HUB_URL": ""}, []string{"RPAFLOW_HUB_URL is not set"}},
		{"url not absolute", map[string]string{"RPAFLOW_CR_URL": "cr.example.com"}, []string{"RPAFLOW_CR_URL is not an absolute https URL"}},
		{"url plain http", map[string]string{"RPAFLOW_ORCH_URL": "http://orch.example.com"}, []string{"RPAFLOW_ORCH_URL uses plain http, so credentials and tokens would travel in clear; use https, or set RPAFLOW_ORCH_ALLOW_HTTP=true"}},
		{"url with userinfo", map[string]string{"RPAFLOW_CR_URL": "https://bot:pw-in-url-123@cr.example.com"}, []string{"RPAFLOW_CR_URL contains user info"}},
		{"token url plain http", map[string]string{"RPAFLOW_ORCH_TOKEN_URL": "http://id.example.com/connect/token"}, []string{"RPAFLOW_ORCH_TOKEN_URL uses plain http"}},
		{"aa key and password", map[string]string{"RPAFLOW_CR_PASSWORD": "aa-password-secret-1"}, []string{"RPAFLOW_CR_API_KEY and RPAFLOW_CR_PASSWORD are both set"}},
		{"aa neither", map[string]string{"RPAFLOW_CR_API_KEY": ""}, []string{"neither RPAFLOW_CR_API_KEY nor RPAFLOW_CR_PASSWORD is set"}},
		{"aa no user", map[string]string{"RPAFLOW_CR_USERNAME": ""}, []string{"RPAFLOW_CR_USERNAME is not set"}},
		{"aa bad host pattern", map[string]string{"RPAFLOW_CR_EXECUTION_HOSTS": "https://x.example.com"}, []string{`RPAFLOW_CR_EXECUTION_HOSTS entry "https://x.example.com" is not a host pattern`}},
		{"mfa seed not base32", map[string]string{"RPAFLOW_CR_MFA_SECRET": "mfa seed 1 not base32!"}, []string{"RPAFLOW_CR_MFA_SECRET is not a base32 TOTP seed"}},
		{"mfa digits and period", map[string]string{"RPAFLOW_CR_MFA_SECRET": "JBSWY3DPEHPK3PXP", "RPAFLOW_CR_MFA_DIGITS": "4", "RPAFLOW_CR_MFA_PERIOD": "1.5s"}, []string{
			`RPAFLOW_CR_MFA_DIGITS="4" is not 6, 7 or 8`,
			`RPAFLOW_CR_MFA_PERIOD="1.5s" is not a period of whole seconds`,
		}},
		{"mfa settings without a seed", map[string]string{"RPAFLOW_CR_MFA_PERIOD": "60"}, []string{"RPAFLOW_CR_MFA_PERIOD is set but RPAFLOW_CR_MFA_SECRET is not"}},
		{"mfa on another kind", map[string]string{"RPAFLOW_ORCH_MFA_SECRET": "JBSWY3DPEHPK3PXP"}, []string{"RPAFLOW_ORCH_MFA_SECRET is set but uipath-orchestrator profiles do not use it"}},
		{"aa bool", map[string]string{"RPAFLOW_CR_MULTIPLE_LOGIN": "yes"}, []string{`RPAFLOW_CR_MULTIPLE_LOGIN="yes" is not a boolean`}},
		{"orch no credentials", map[string]string{"RPAFLOW_ORCH_CLIENT_ID": "", "RPAFLOW_ORCH_CLIENT_SECRET": ""}, []string{`uipath-orchestrator profile "orch" has no credentials; set RPAFLOW_ORCH_CLIENT_ID and RPAFLOW_ORCH_CLIENT_SECRET`}},
		{"orch half client credentials", map[string]string{"RPAFLOW_ORCH_CLIENT_SECRET": ""}, []string{"RPAFLOW_ORCH_CLIENT_SECRET is not set but RPAFLOW_ORCH_CLIENT_ID is"}},
		{"orch half ropc", map[string]string{"RPAFLOW_ORCH_CLIENT_SECRET": "", "RPAFLOW_ORCH_CLIENT_ID": "", "RPAFLOW_ORCH_USERNAME": "admin"}, []string{"RPAFLOW_ORCH_PASSWORD is not set but RPAFLOW_ORCH_USERNAME is"}},
		{"orch both modes", map[string]string{"RPAFLOW_ORCH_PASSWORD": "aa-password-secret-1", "RPAFLOW_ORCH_USERNAME": "admin"}, []string{"sets both client credentials"}},
		{"hub missing token and tenant", map[string]string{"RPAFLOW_HUB_TOKEN": "", "RPAFLOW_HUB_TENANT_ID": ""}, []string{"RPAFLOW_HUB_TENANT_ID is not set", "RPAFLOW_HUB_TOKEN is not set"}},
		{"hub bad date", map[string]string{"RPAFLOW_HUB_TOKEN_EXPIRES": "31/01/2027"}, []string{`RPAFLOW_HUB_TOKEN_EXPIRES="31/01/2027" is not a date; use YYYY-MM-DD`}},
		{"variable of another kind", map[string]string{"RPAFLOW_HUB_API_KEY": "aa-api-key-secret-1"}, []string{"RPAFLOW_HUB_API_KEY is set but uipath-automationhub profiles do not use it"}},
		{"codec key missing", map[string]string{"RPAFLOW_CODEC_KEY": ""}, []string{"RPAFLOW_CODEC_KEY is not set; payloads (which carry tokens) must be encrypted: generate one with: head -c 32 /dev/urandom | base64, or set RPAFLOW_INSECURE_PLAINTEXT=true"}},
		{"codec key not base64", map[string]string{"RPAFLOW_CODEC_KEY": "not base64 secret value!"}, []string{"RPAFLOW_CODEC_KEY is not standard base64; generate one with: head -c 32 /dev/urandom | base64"}},
		{"codec key wrong size", map[string]string{"RPAFLOW_CODEC_KEY": short}, []string{"RPAFLOW_CODEC_KEY decodes to 13 bytes, AES-256 needs exactly 32"}},
		{"codec key and plaintext", map[string]string{"RPAFLOW_INSECURE_PLAINTEXT": "true"}, []string{"RPAFLOW_CODEC_KEY and RPAFLOW_INSECURE_PLAINTEXT=true are both set"}},
		{"old keys malformed", map[string]string{"RPAFLOW_CODEC_OLD_KEYS": "k1=" + oldB64 + ",junk,k2=" + oldB64 + ",k3=" + short}, []string{
			"RPAFLOW_CODEC_OLD_KEYS entry 2 is not id=base64key",
			"RPAFLOW_CODEC_OLD_KEYS entry 3 reuses the id of RPAFLOW_CODEC_KEY_ID",
			"RPAFLOW_CODEC_OLD_KEYS entry 4 decodes to 13 bytes",
		}},
		{"old key without id", map[string]string{"RPAFLOW_CODEC_OLD_KEYS": oldB64}, []string{"RPAFLOW_CODEC_OLD_KEYS entry 1 is not id=base64key"}},
		{"old key id looks like a key", map[string]string{"RPAFLOW_CODEC_OLD_KEYS": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY=x"}, []string{"RPAFLOW_CODEC_OLD_KEYS entry 1 is not standard base64"}},
		{"log level and format", map[string]string{"RPAFLOW_LOG_LEVEL": "verbose", "RPAFLOW_LOG_FORMAT": "xml"}, []string{
			`RPAFLOW_LOG_LEVEL="verbose" is not a log level; use debug, info, warn or error`,
			`RPAFLOW_LOG_FORMAT="xml" is not a log format; use json or console`,
		}},
		{"poll budget", map[string]string{"RPAFLOW_POLL_BUDGET_PER_MINUTE": "0"}, []string{`RPAFLOW_POLL_BUDGET_PER_MINUTE="0" is not a positive whole number`}},
		{"tracing bool", map[string]string{"RPAFLOW_TRACING": "on"}, []string{`RPAFLOW_TRACING="on" is not a boolean`}},
		{"secret and file both", map[string]string{"RPAFLOW_HUB_TOKEN_FILE": "/run/secrets/hub"}, []string{"RPAFLOW_HUB_TOKEN and RPAFLOW_HUB_TOKEN_FILE are both set; set only one of them"}},
		{"secret file unreadable", map[string]string{"RPAFLOW_HUB_TOKEN": "", "RPAFLOW_HUB_TOKEN_FILE": missing}, []string{"RPAFLOW_HUB_TOKEN_FILE=\"" + missing + "\" cannot be read (no such file or directory)", "RPAFLOW_HUB_TOKEN is not set"}},
		{"every problem at once", map[string]string{"RPAFLOW_CODEC_KEY": "", "RPAFLOW_CR_KIND": "x", "RPAFLOW_ORCH_URL": "", "RPAFLOW_HUB_TOKEN": "", "RPAFLOW_LOG_FORMAT": "xml"}, []string{
			"RPAFLOW_LOG_FORMAT", "RPAFLOW_CODEC_KEY is not set", "RPAFLOW_CR_KIND", "RPAFLOW_ORCH_URL is not set", "RPAFLOW_HUB_TOKEN is not set",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			for k, v := range tc.set {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			cfg, err := LoadFrom(env)
			if err == nil {
				t.Fatalf("no error; cfg = %+v", cfg)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *config.Error", err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(ce.Problems), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(ce.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, ce.Problems[i], w)
				}
			}
			msg := err.Error()
			if got := strings.Count(msg, "\n"); got != len(tc.want) {
				t.Errorf("message has %d problem lines, want %d:\n%s", got, len(tc.want), msg)
			}
			for _, s := range append(testSecrets, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "pw-in-url-123", "not base64 secret value!", short, "mfa seed 1", "JBSWY3DPEHPK3PXP") {
				if strings.Contains(msg, s) {
					t.Errorf("message leaks secret %q:\n%s", s, msg)
				}
			}
		})
	}
}

func TestEnvVar(t *testing.T) {
	for _, tc := range []struct{ profile, suffix, want string }{
		{"cr", "URL", "RPAFLOW_CR_URL"},
		{"my-orch-2", "CLIENT_SECRET", "RPAFLOW_MY_ORCH_2_CLIENT_SECRET"},
	} {
		if got := EnvVar(tc.profile, tc.suffix); got != tc.want {
			t.Errorf("EnvVar(%q, %q) = %q, want %q", tc.profile, tc.suffix, got, tc.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Problems: []string{"A is wrong", "B is wrong"}}
	want := "invalid configuration (2 problems):\n  - A is wrong\n  - B is wrong"
	if e.Error() != want {
		t.Errorf("got %q", e.Error())
	}
}

// TestVariables pins the public variable names (the README's contract): renaming one
// breaks users' deployments, so it must be a deliberate change here too.
func TestVariables(t *testing.T) {
	want := []string{
		"RPAFLOW_TASK_QUEUE", "RPAFLOW_HTTP_ADDR", "RPAFLOW_CODEC_ADDR", "RPAFLOW_LOG_LEVEL", "RPAFLOW_LOG_FORMAT", "RPAFLOW_PROFILES",
		"RPAFLOW_CODEC_KEY", "RPAFLOW_CODEC_KEY_FILE", "RPAFLOW_CODEC_KEY_ID", "RPAFLOW_CODEC_OLD_KEYS", "RPAFLOW_CODEC_OLD_KEYS_FILE",
		"RPAFLOW_INSECURE_PLAINTEXT", "RPAFLOW_NEXUS_CODEC_KEY", "RPAFLOW_NEXUS_CODEC_KEY_FILE", "RPAFLOW_NEXUS_CODEC_KEY_ID", "RPAFLOW_CODEC_AUTH_TOKEN", "RPAFLOW_CODEC_AUTH_TOKEN_FILE", "RPAFLOW_CODEC_OIDC_ISSUER", "RPAFLOW_CODEC_OIDC_AUDIENCE", "RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM", "RPAFLOW_CODEC_CORS_ORIGINS", "RPAFLOW_SEAL_KEY", "RPAFLOW_SEAL_KEY_FILE", "RPAFLOW_SEAL_KEY_ID", "RPAFLOW_SEAL_OLD_KEYS", "RPAFLOW_SEAL_OLD_KEYS_FILE", "RPAFLOW_CODEC_ENDPOINT", "RPAFLOW_EVENTS_ADDR", "RPAFLOW_POLL_BUDGET_PER_MINUTE", "RPAFLOW_NEXUS_QUEUES", "RPAFLOW_TRACING",
		"RPAFLOW_<NAME>_KIND", "RPAFLOW_<NAME>_URL", "RPAFLOW_<NAME>_ALLOW_HTTP", "RPAFLOW_<NAME>_USERNAME",
		"RPAFLOW_<NAME>_PASSWORD", "RPAFLOW_<NAME>_PASSWORD_FILE", "RPAFLOW_<NAME>_API_KEY", "RPAFLOW_<NAME>_API_KEY_FILE",
		"RPAFLOW_<NAME>_MULTIPLE_LOGIN", "RPAFLOW_<NAME>_MFA_SECRET", "RPAFLOW_<NAME>_MFA_SECRET_FILE", "RPAFLOW_<NAME>_MFA_DIGITS",
		"RPAFLOW_<NAME>_MFA_PERIOD", "RPAFLOW_<NAME>_EXECUTION_HOSTS", "RPAFLOW_<NAME>_POOLS", "RPAFLOW_<NAME>_TENANT_BUDGET_PER_MINUTE", "RPAFLOW_<NAME>_ORGANIZATION", "RPAFLOW_<NAME>_TENANT",
		"RPAFLOW_<NAME>_CLIENT_ID", "RPAFLOW_<NAME>_CLIENT_SECRET", "RPAFLOW_<NAME>_CLIENT_SECRET_FILE", "RPAFLOW_<NAME>_SCOPES",
		"RPAFLOW_<NAME>_TOKEN_URL", "RPAFLOW_<NAME>_TENANCY_NAME", "RPAFLOW_<NAME>_TENANT_ID", "RPAFLOW_<NAME>_TOKEN",
		"RPAFLOW_<NAME>_TOKEN_FILE", "RPAFLOW_<NAME>_APP_KEY", "RPAFLOW_<NAME>_APP_KEY_FILE", "RPAFLOW_<NAME>_TOKEN_EXPIRES",
		"RPAFLOW_<NAME>_WEBHOOK_SECRET", "RPAFLOW_<NAME>_WEBHOOK_SECRET_FILE", "RPAFLOW_<NAME>_CALLBACK_URL", "RPAFLOW_<NAME>_RECONCILE_INTERVAL",
		"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_API_KEY_FILE", "TEMPORAL_TLS",
		"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
		"TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE",
	}
	vars := Variables()
	var got []string
	byName := map[string]VarDoc{}
	for _, v := range vars {
		got = append(got, v.Name)
		byName[v.Name] = v
		if v.Description == "" {
			t.Errorf("%s has no description", v.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Variables() names =\n%q\nwant\n%q", got, want)
	}
	secret := []string{"RPAFLOW_CODEC_KEY", "RPAFLOW_CODEC_OLD_KEYS", "RPAFLOW_NEXUS_CODEC_KEY", "RPAFLOW_CODEC_AUTH_TOKEN", "RPAFLOW_SEAL_KEY", "RPAFLOW_SEAL_OLD_KEYS", "RPAFLOW_<NAME>_PASSWORD", "RPAFLOW_<NAME>_API_KEY", "RPAFLOW_<NAME>_CLIENT_SECRET", "RPAFLOW_<NAME>_TOKEN", "RPAFLOW_<NAME>_APP_KEY", "RPAFLOW_<NAME>_MFA_SECRET", "RPAFLOW_<NAME>_WEBHOOK_SECRET", "TEMPORAL_API_KEY"}
	for _, v := range vars {
		if v.Secret != slices.Contains(secret, v.Name) {
			t.Errorf("%s: Secret = %v", v.Name, v.Secret)
		}
	}
	defaults := map[string]string{"RPAFLOW_TASK_QUEUE": "rpaflow", "RPAFLOW_HTTP_ADDR": "127.0.0.1:8081", "RPAFLOW_LOG_LEVEL": "info", "RPAFLOW_LOG_FORMAT": "json", "RPAFLOW_CODEC_KEY_ID": "default", "RPAFLOW_TRACING": "false", "RPAFLOW_POLL_BUDGET_PER_MINUTE": "60", "RPAFLOW_INSECURE_PLAINTEXT": "false", "TEMPORAL_ADDRESS": "localhost:7233", "TEMPORAL_NAMESPACE": "default"}
	for name, d := range defaults {
		if byName[name].Default != d {
			t.Errorf("%s default = %q, want %q", name, byName[name].Default, d)
		}
	}
}

// TestKindVarsKnown keeps kindVars in step with the profile table.
func TestKindVarsKnown(t *testing.T) {
	known := map[string]bool{}
	for _, f := range fieldsOf(reflect.TypeFor[profileEnv]()) {
		known[f.name] = true
	}
	for kind, names := range kindVars {
		for _, n := range names {
			if !known[n] {
				t.Errorf("kindVars[%s] has unknown variable %s", kind, n)
			}
		}
	}
	if len(kindVars) != len(Kinds) {
		t.Errorf("kindVars covers %d kinds, Kinds has %d", len(kindVars), len(Kinds))
	}
}

// The Nexus boundary key is optional, a secret, and must have an id of its own.
func TestLoadFromNexusKey(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	env := validEnv()
	env["RPAFLOW_NEXUS_CODEC_KEY"] = key
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Codec.NexusKey) != 32 || cfg.Codec.NexusKeyID != "nexus" || !slices.Contains(cfg.Secrets(), key) {
		t.Errorf("nexus key: %d bytes, id %q, redacted %v", len(cfg.Codec.NexusKey), cfg.Codec.NexusKeyID, slices.Contains(cfg.Secrets(), key))
	}
	env["RPAFLOW_NEXUS_CODEC_KEY_ID"] = env["RPAFLOW_CODEC_KEY_ID"]
	if _, err := LoadFrom(env); err == nil || !strings.Contains(err.Error(), "RPAFLOW_NEXUS_CODEC_KEY_ID") {
		t.Errorf("same id as the codec key: %v", err)
	}
}

func TestLoadFromMFA(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "seed")
	if err := os.WriteFile(seedFile, []byte("jbsw y3dp ehpk 3pxp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		set    map[string]string
		digits int
		period time.Duration
	}{
		{"defaults", map[string]string{"RPAFLOW_CR_MFA_SECRET": "JBSWY3DPEHPK3PXP"}, 6, 30 * time.Second},
		{"file, grouped lower case, 8 digits, 60 seconds", map[string]string{"RPAFLOW_CR_MFA_SECRET_FILE": seedFile,
			"RPAFLOW_CR_MFA_DIGITS": "8", "RPAFLOW_CR_MFA_PERIOD": "60"}, 8, time.Minute},
	} {
		env := validEnv()
		for k, v := range c.set {
			env[k] = v
		}
		cfg, err := LoadFrom(env)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cr, _ := cfg.Profile("cr")
		if cr.MFASecret != "JBSWY3DPEHPK3PXP" || cr.MFADigits != c.digits || cr.MFAPeriod != c.period {
			t.Errorf("%s: profile MFA = %q %d %s", c.name, cr.MFASecret, cr.MFADigits, cr.MFAPeriod)
		}
		if !slices.Contains(cfg.Secrets(), "JBSWY3DPEHPK3PXP") {
			t.Errorf("%s: the seed is not among Secrets(), so logs would not redact it", c.name)
		}
		if c.set["RPAFLOW_CR_MFA_SECRET_FILE"] != "" && !slices.Contains(cfg.Secrets(), "jbsw y3dp ehpk 3pxp") {
			t.Errorf("%s: the seed as configured is not among Secrets()", c.name)
		}
	}
	cfg, err := LoadFrom(validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if cr, _ := cfg.Profile("cr"); cr.MFASecret != "" {
		t.Errorf("no seed configured, profile has %q", cr.MFASecret)
	}
}
