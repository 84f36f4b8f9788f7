package integration

import (
	"context"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/session"
)

// Token reads that the current token satisfies are answered by the token
// query and leave the session's history as it was; a read the token cannot
// satisfy goes through the update and renews.
func TestTokenReadsWriteNoHistory(t *testing.T) {
	s := newStack(t, stackOptions{Sims: simenv.Options{AATokenLifetime: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess := &session.Temporal{Client: s.Client, TaskQueue: s.TaskQueue}
	ref := session.ControlRoom("cr")
	read := func(minValidity time.Duration) contract.TokenResult {
		t.Helper()
		res, err := sess.Token(ctx, ref, minValidity)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	events := func() int {
		t.Helper()
		n := 0
		it := s.Client.GetWorkflowHistory(ctx, ref.ID(), "", false, 0)
		for it.HasNext() {
			if _, err := it.Next(); err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}

	first := read(0) // starts the session (Update-With-Start)
	before := events()
	for i := range 20 {
		if got := read(30 * time.Second); got.Token != first.Token || got.Generation != 1 {
			t.Fatalf("read %d: generation %d, want the first token (generation 1)", i, got.Generation)
		}
	}
	if after := events(); after != before {
		t.Fatalf("20 satisfied token reads wrote %d history events, want 0", after-before)
	}

	// The Temporal CLI asks the same query through the codec endpoint and
	// gets the answer sealed: only the worker's key opens it.
	out, err := s.cli("workflow", "query", "--workflow-id", ref.ID(), "--type", contract.QueryToken,
		"--codec-endpoint", s.codecEndpoint(), "-o", "json")
	requireSealed(t, "token query from the CLI", out, err, []string{first.Token})

	// More validity than the token has left: the update renews it.
	logins := s.Sims.AA.Counters().Snapshot()
	time.Sleep(2 * time.Second) // a new token then outlives the first by more than the second asked beyond it
	renewed := read(time.Until(first.Expiry) + time.Second)
	if renewed.Generation != 2 || renewed.Token == first.Token {
		t.Fatalf("a read needing more than the token's remaining life got generation %d, want a renewed token (2)", renewed.Generation)
	}
	if after := events(); after <= before {
		t.Fatal("the renewing read wrote no history")
	}
	now := s.Sims.AA.Counters().Snapshot()
	if now["refresh"]+now["login"] != logins["refresh"]+logins["login"]+1 {
		t.Errorf("renewals at the Control Room: before %v, after %v; want exactly one more", logins, now)
	}
}
