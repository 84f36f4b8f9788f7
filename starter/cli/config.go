package cli

import (
	"github.com/rpaflow/rpaflow/internal/config"
)

// LoadConfig loads the worker's configuration from env without its platform
// profiles: the connection, task queue and codec settings are validated
// exactly as the worker validates them, while a missing or broken profile
// (whose secrets may exist only on the worker's host) cannot stop the
// starter. Errors are *config.Error values listing every problem.
func LoadConfig(env map[string]string) (*config.Config, error) {
	return config.LoadClient(env)
}
