package plugin

import (
	"os"
	"strings"

	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/profile"
)

// ProfilesFromEnv reads the profiles from the variables the standalone
// worker reads: RPAFLOW_PROFILES=cr,orch, then RPAFLOW_<NAME>_KIND,
// RPAFLOW_<NAME>_URL and the credentials of each (every secret also from
// <VAR>_FILE). Every problem is reported at once, naming the variable.
func ProfilesFromEnv() ([]profile.Profile, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return config.LoadProfiles(env)
}
