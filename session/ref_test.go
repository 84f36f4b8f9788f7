package session

import "testing"

// A session's workflow ID is the contract's, under the host's ID prefix.
func TestSessionIDs(t *testing.T) {
	for _, c := range []struct {
		ref   Ref
		names Names
		want  string
	}{
		{ControlRoom("cr"), Names{}, "aa-session:cr"},
		{Orchestrator("orch"), Names{}, "uipath-session:orch"},
		{ControlRoom("cr"), Names{IDPrefix: "team-a/"}, "team-a/aa-session:cr"},
	} {
		if got := c.names.SessionID(c.ref); got != c.want {
			t.Errorf("%+v under %+v: ID %q, want %q", c.ref, c.names, got, c.want)
		}
	}
}
