package integration

import (
	"os"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/internal/simenv"
)

// A session with 10-second tokens serves deployments that run continuously:
// no deployment ever sees a 401, and the session refreshes instead of logging
// in again. RPAFLOW_IT_SOAK sets the duration (default 40s; a soak run
// uses 2m).
func TestShortLivedTokensUnderContinuousDeployments(t *testing.T) {
	soak := soakDuration(t, "RPAFLOW_IT_SOAK", 40*time.Second)
	s := newStack(t, stackOptions{Sims: simenv.Options{AATokenLifetime: 10 * time.Second}})
	runs, failures := deployContinuously(t, s, soak, 500*time.Millisecond)
	c := s.Sims.AA.Counters()
	logins, refreshes := c.Get("login"), c.Get("refresh")
	t.Logf("%s soak: %d deployments, %d failures, logins %d, refreshes %d, 401s %d, executions %d",
		soak, runs, failures, logins, refreshes, c.Get("http.401"), c.Get("execute"))
	if got := c.Get("execute.rejected"); got != 0 {
		t.Errorf("deployments saw %d rejected executions (401)", got)
	}
	if logins != 1 {
		t.Errorf("logins = %d, want 1 (refreshes keep the session)", logins)
	}
	// Renewal at 75–80% of 10 s: one refresh every 7.5–8 s.
	lo, hi := int64(soak/(8*time.Second))-1, int64(soak/(7500*time.Millisecond))+2
	if refreshes < lo || refreshes > hi {
		t.Errorf("refreshes = %d over %s, want %d..%d", refreshes, soak, lo, hi)
	}
}

// soakDuration is how long a soak test runs: the duration in the variable
// name, else def.
func soakDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v; give a duration such as 2m", name, v, err)
	}
	return d
}
