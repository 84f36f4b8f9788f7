package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/test/secretscan"
)

// A Control Room user with two-factor authentication: the worker logs in
// with codes from RPAFLOW_CR_MFA_SECRET, logs in again after its tokens are
// revoked (never replaying a code), and the seed is in no history, decoded
// or not, nor in the worker's log.
func TestTwoFactorLoginEndToEnd(t *testing.T) {
	const seed = "KRUGS4ZANFZSAYJAORSXG5BAONSWKZBB"
	ao := aasim.DefaultOptions()
	ao.Users[0].MFASecret, ao.Users[0].MFAPeriod = seed, 10*time.Second
	s := newStack(t, stackOptions{Sims: simenv.Options{AA: &ao},
		Extra: map[string]string{"RPAFLOW_CR_MFA_SECRET": seed, "RPAFLOW_CR_MFA_PERIOD": "10"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	deploy := func(id string) {
		t.Helper()
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue}, contract.DeployAPITaskWorkflow,
			contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask, BotInput: rawInput(`{"iStrZipCode":"95134"}`)})
		var res contract.DeployAPITaskResult
		if err == nil {
			err = run.Get(ctx, &res)
		}
		if err != nil || res.BotOutput["State"] != "California" {
			t.Fatalf("%s: %v (%v)", id, err, res.BotOutput)
		}
	}
	deploy("it-mfa-1")
	s.Sims.AA.RevokeAll() // the next deployment's 401 makes the session log in again, within seconds
	deploy("it-mfa-2")
	c := s.Sims.AA.Counters()
	if c.Get("login") != 2 || c.Get("login.mfa.refused") != 0 {
		t.Fatalf("logins %d, refused codes %d; want 2 logins, each with a fresh code", c.Get("login"), c.Get("login.mfa.refused"))
	}
	for _, id := range []string{"it-mfa-1", "it-mfa-2", contract.AASessionID("cr")} {
		raw, _, err := secretscan.HistoryBytes(ctx, s.plainClient(t), id, "")
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := s.cli("workflow", "show", "--workflow-id", id, "-o", "json", "--codec-endpoint", s.codecEndpoint())
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{string(raw), decoded, secretscan.PayloadData(decoded)} {
			if secretscan.Contains(text, seed) {
				t.Errorf("history of %s holds the two-factor seed", id)
			}
		}
	}
	if secretscan.Contains(s.Logs.String(), seed) || !strings.Contains(s.Logs.String(), "session token renewed") {
		t.Errorf("worker log holds the seed, or is not the session's log")
	}
}
