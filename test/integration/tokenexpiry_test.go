package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/simkit"
)

// A Control Room issuing 30-second task tokens and 15-second login tokens,
// with its clock right, 3 minutes ahead or 3 minutes behind the worker's,
// serves continuous DeployAPITask runs: no request carries an expired token
// (0 answered 401) and one login serves it all. The unskewed run lasts 2
// minutes (RPAFLOW_IT_TASK_TOKEN_SOAK overrides), the skewed ones 45 s.
func TestShortTaskTokensAndSkewedClocks(t *testing.T) {
	soak := soakDuration(t, "RPAFLOW_IT_TASK_TOKEN_SOAK", 2*time.Minute)
	for _, c := range []struct {
		name string
		skew time.Duration
		soak time.Duration
	}{
		{"clock right", 0, soak},
		{"clock 3m ahead", 3 * time.Minute, min(soak, 45*time.Second)},
		{"clock 3m behind", -3 * time.Minute, min(soak, 45*time.Second)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ao := aasim.DefaultOptions()
			ao.TokenLifetime, ao.TaskTokenLifetime = 15*time.Second, 30*time.Second
			ao.Clock = simkit.Skewed(c.skew)
			s := newStack(t, stackOptions{Sims: simenv.Options{AA: &ao}})
			runs, failures := deployContinuously(t, s, c.soak, 300*time.Millisecond)
			cr := s.Sims.AA.Counters()
			t.Logf("skew %s, %s: %d deployments, %d failures; logins %d, refreshes %d, access-details fetches %d, executions %d, 401s %d, expired tokens sent %d",
				c.skew, c.soak, runs, failures, cr.Get("login"), cr.Get("refresh"), cr.Get("accessdetails"), cr.Get("execute"),
				cr.Get("http.401"), cr.Get("token.expired"))
			if runs < int(c.soak/time.Second) {
				t.Errorf("only %d deployments in %s: the stack did not run continuously", runs, c.soak)
			}
			if n := cr.Get("http.401"); n != 0 {
				t.Errorf("%d requests answered 401, want 0", n)
			}
			if n := cr.Get("token.expired"); n != 0 {
				t.Errorf("%d requests carried an expired token, want 0", n)
			}
			if n := cr.Get("login"); n != 1 {
				t.Errorf("logins = %d, want 1 (refreshes keep the session; no login loop)", n)
			}
			// Task tokens live 30 s: details are fetched again about every 27 s, not every 5 minutes.
			if n, want := cr.Get("accessdetails"), int64(c.soak/(27*time.Second)); n < want {
				t.Errorf("access details fetched %d times in %s, want at least %d (the task token's lifetime rules)", n, c.soak, want)
			}
		})
	}
}

// deployContinuously runs DeployAPITask from three callers for d, each
// pausing between runs, and returns the number of runs and failures.
func deployContinuously(t *testing.T, s *stack, d, pause time.Duration) (runs, failures int) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: s.TaskQueue}, contract.DeployAPITaskWorkflow,
					contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask, BotInput: rawInput(`{"iStrZipCode":"95134"}`)})
				var res contract.DeployAPITaskResult
				if err == nil {
					err = run.Get(ctx, &res)
				}
				mu.Lock()
				runs++
				if err != nil || res.BotOutput["State"] != "California" {
					failures++
					t.Errorf("deployment failed: %v (%v)", err, res.BotOutput)
				}
				mu.Unlock()
				time.Sleep(pause)
			}
		}()
	}
	wg.Wait()
	return runs, failures
}
