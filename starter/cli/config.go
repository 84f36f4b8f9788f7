package cli

import (
	"strings"

	"github.com/rpaflow/rpaflow/internal/config"
)

// placeholderProfile stands in for the platform profiles the starter does not
// need. internal/config requires RPAFLOW_PROFILES (the worker cannot run
// without a profile), so the starter loads the configuration with one
// well-formed dummy profile instead of the user's, and drops it afterwards:
// the connection, task queue and codec settings are validated exactly as the
// worker validates them, while a missing or broken profile (whose secrets may
// exist only on the worker's host) cannot stop the starter.
const placeholderProfile = "rpaflow-starter"

// LoadConfig loads the worker's configuration from env without its platform
// profiles. Errors are *config.Error values listing every problem.
func LoadConfig(env map[string]string) (*config.Config, error) {
	e := make(map[string]string, len(env)+5)
	prefix := config.EnvVar(placeholderProfile, "")
	for k, v := range env {
		if !strings.HasPrefix(k, prefix) {
			e[k] = v
		}
	}
	e["RPAFLOW_PROFILES"] = placeholderProfile
	e[prefix+"KIND"] = string(config.KindHub)
	e[prefix+"URL"] = "https://rpaflow-starter.invalid"
	e[prefix+"TENANT_ID"] = placeholderProfile
	e[prefix+"TOKEN"] = "rpaflow-starter-placeholder-not-a-credential"
	cfg, err := config.LoadFrom(e)
	if err != nil {
		return nil, err
	}
	cfg.Profiles = nil
	return cfg, nil
}
