package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A client tool loads the connection, queue and codec settings without the
// worker's profiles: missing, broken or unreadable profiles do not stop it,
// and no profile secret is loaded (so none can be needed on its host).
func TestLoadClientIgnoresProfiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for name, change := range map[string]func(env map[string]string){
		"profiles as the worker has them": func(map[string]string) {},
		"profiles unset":                  func(env map[string]string) { delete(env, "RPAFLOW_PROFILES") },
		"profiles blank":                  func(env map[string]string) { env["RPAFLOW_PROFILES"] = " " },
		"profile broken":                  func(env map[string]string) { env["RPAFLOW_CR_KIND"] = "nope" },
		"profile secret file unreadable": func(env map[string]string) {
			delete(env, "RPAFLOW_CR_API_KEY")
			env["RPAFLOW_CR_API_KEY_FILE"] = missing
		},
		"profile names invalid": func(env map[string]string) { env["RPAFLOW_PROFILES"] = "CR,,cr,cr" },
	} {
		env := validEnv()
		change(env)
		for _, load := range []func(map[string]string) (*Config, error){
			LoadClient,
			func(env map[string]string) (*Config, error) { return LoadFrom(env, WithoutProfiles()) },
		} {
			cfg, err := load(env)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if len(cfg.Profiles) != 0 {
				t.Errorf("%s: profiles %v loaded", name, cfg.ProfileNames())
			}
			for _, s := range cfg.Secrets() {
				if strings.Contains(s, "aa-") || strings.Contains(s, "orch-") || strings.Contains(s, "hub-") {
					t.Errorf("%s: a profile secret was loaded (%d chars)", name, len(s))
				}
			}
			// The client still needs what it shares with the worker.
			if cfg.TaskQueue != "rpaflow" || string(cfg.Codec.Key) != string(activeKey) || cfg.Codec.AuthToken != "codec-auth-token-1-0123456789abcdef" || cfg.TemporalAPIKey != "temporal-api-key-1" {
				t.Errorf("%s: queue %q, codec key %d bytes, auth token set %v, API key set %v", name, cfg.TaskQueue, len(cfg.Codec.Key), cfg.Codec.AuthToken != "", cfg.TemporalAPIKey != "")
			}
		}
		// Without the option, the worker's load still rejects the same
		// environment where a profile is wrong.
		if name != "profiles as the worker has them" {
			if _, err := LoadFrom(env); err == nil {
				t.Errorf("%s: the worker's LoadFrom accepted it", name)
			}
		}
	}
}

// The shared settings are validated as strictly as for the worker.
func TestLoadClientValidatesSharedSettings(t *testing.T) {
	env := map[string]string{
		"RPAFLOW_INSECURE_PLAINTEXT":     "maybe",
		"RPAFLOW_LOG_LEVEL":              "loud",
		"RPAFLOW_TASK_QUEUE":             " ",
		"TEMPORAL_API_KEY":               "x",
		"TEMPORAL_API_KEY_FILE":          filepath.Join(os.TempDir(), "nope"),
		"RPAFLOW_POLL_BUDGET_PER_MINUTE": "0",
	}
	_, err := LoadClient(env)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("LoadClient accepted a broken environment: %v", err)
	}
	for _, v := range []string{"RPAFLOW_INSECURE_PLAINTEXT", "RPAFLOW_LOG_LEVEL", "RPAFLOW_TASK_QUEUE", "TEMPORAL_API_KEY_FILE", "RPAFLOW_POLL_BUDGET_PER_MINUTE", "RPAFLOW_CODEC_KEY"} {
		if !slices.ContainsFunc(ce.Problems, func(p string) bool { return strings.Contains(p, v) }) {
			t.Errorf("no problem names %s: %v", v, ce.Problems)
		}
	}
	for _, p := range ce.Problems {
		if strings.Contains(p, "RPAFLOW_PROFILES") {
			t.Errorf("a client load reported profiles: %s", p)
		}
	}
}
