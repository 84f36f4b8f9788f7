package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// testPlatformOutage takes every platform down for longer than a token's
// lifetime (10 s tokens): first answering 503, then closing connections.
// Sessions never fall into authFailed, they log in again after recovery,
// and API Task deployments started during the outage complete after it.
//
// The deployments are idempotent: a non-idempotent execute sent while the
// platform closes connections is Ambiguous by design (an unknown outcome is never retried), which the
// kill case covers.
func testPlatformOutage(t *testing.T) {
	k := pick(4, 10)
	phase := pick(12*time.Second, 30*time.Second) // each of the two outage phases, > the 10 s lifetime
	demo := aasim.DefaultOptions()
	demo.APITasks = []aasim.APITask{echoTask(0)}
	s := newStack(t, "outage", stackOptions{Sims: simenv.Options{AA: &demo,
		AATokenLifetime: 10 * time.Second, OrchestratorTokenLifetime: 10 * time.Second}})
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	aaID, orchID := contract.AASessionID("cr"), contract.OrchestratorSessionID("orch")
	s.startSession(ctx, contract.OrchestratorSessionWorkflow, orchID, "orch")
	// One deployment before the outage starts the AA session and caches
	// access details, so executions during the outage reach the faults.
	warm := s.start(ctx, "outage-warm", contract.DeployAPITaskWorkflow, apiTaskInput("cr", "warm", true))
	if err := warm.Get(ctx, nil); err != nil {
		t.Fatalf("deployment before the outage: %v", err)
	}
	before := map[string]contract.SessionStatus{}
	for _, id := range []string{aaID, orchID} {
		tok, err := s.token(ctx, id, time.Second)
		if err != nil {
			t.Fatalf("%s before the outage: %v", id, err)
		}
		st, _ := s.status(ctx, id)
		st.Generation = tok.Generation
		before[id] = st
	}
	s.start(ctx, contract.HubWatchID("hub"), contract.AutomationHubTokenWatchWorkflow,
		contract.HubWatchInput{Profile: "hub", Interval: contract.Duration(3 * time.Second)})

	// Watch the sessions' states all along.
	seen := map[string]map[string]int{aaID: {}, orchID: {}}
	var seenMu sync.Mutex
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for watchCtx.Err() == nil {
			for id := range seen {
				qctx, qcancel := context.WithTimeout(watchCtx, 5*time.Second)
				st, err := s.status(qctx, id)
				qcancel()
				seenMu.Lock()
				if err == nil {
					seen[id][st.State]++
				}
				seenMu.Unlock()
			}
			select {
			case <-watchCtx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()

	faults := []interface {
		Outage(time.Duration, bool)
		EndOutage()
	}{s.Sims.AA.Faults(), s.Sims.Orchestrator.Faults(), s.Sims.Hub.Faults()}
	var runs []client.WorkflowRun
	outageStart := time.Now()
	for p, refuse := range []bool{false, true} {
		for _, f := range faults {
			f.Outage(phase, refuse)
		}
		phaseEnd := time.Now().Add(phase)
		for i := range k / 2 {
			key := fmt.Sprintf("during-%d-%d", p, i)
			runs = append(runs, s.start(ctx, "outage-"+key, contract.DeployAPITaskWorkflow, apiTaskInput("cr", key, true)))
			time.Sleep(phase / time.Duration(k/2+1))
		}
		time.Sleep(time.Until(phaseEnd))
	}
	for _, f := range faults {
		f.EndOutage()
	}
	outage := time.Since(outageStart).Round(time.Second)

	outcomes := waitAll(ctx, runs)
	lost := 0
	for _, o := range outcomes {
		var res contract.DeployAPITaskResult
		if o.err == nil {
			o.err = json.Unmarshal(o.result, &res)
		}
		want := "ran:" + o.id[len("outage-"):]
		if o.err != nil || res.BotOutput["State"] != want {
			lost++
			t.Errorf("%s started during the outage: want State %s, got %v, %v", o.id, want, res.BotOutput, o.err)
		}
	}
	for _, id := range []string{aaID, orchID} {
		tok, err := s.token(ctx, id, time.Second)
		if err != nil {
			t.Errorf("%s after the outage: %v", id, err)
			continue
		}
		if tok.Generation <= before[id].Generation {
			t.Errorf("%s: generation %d after an outage longer than the token lifetime, want > %d", id, tok.Generation, before[id].Generation)
		}
	}
	stopWatch()
	watch.Wait()
	aaLogins, orchTokens := s.Sims.AA.Counters().Get("login"), s.Sims.Orchestrator.Counters().Get("token")
	if aaLogins < 2 {
		t.Errorf("Control Room logins = %d: the expired session did not log in again after recovery", aaLogins)
	}
	if orchTokens < 2 {
		t.Errorf("Orchestrator token requests = %d: the expired session did not authenticate again after recovery", orchTokens)
	}
	hits := s.Sims.AA.Faults().Injected.Get("outage") + s.Sims.Orchestrator.Faults().Injected.Get("outage")
	if hits == 0 {
		t.Error("no request hit the outage: the case tested nothing")
	}
	seenMu.Lock()
	for id, states := range seen {
		if states["authFailed"] > 0 || states["closed"] > 0 {
			t.Errorf("session %s went through states %v during the outage, want no authFailed/closed", id, states)
		}
		if len(states) == 0 {
			t.Errorf("session %s: no status query answered during the case", id)
		}
	}
	t.Logf("session states seen (query count): %v", seen)
	seenMu.Unlock()
	// The hub watch keeps running through the outage and reports ok again.
	deadline := time.Now().Add(time.Minute)
	var hst contract.HubWatchStatus
	for {
		if v, err := s.Client.QueryWorkflow(ctx, contract.HubWatchID("hub"), "", contract.QueryStatus); err == nil {
			_ = v.Get(&hst)
		}
		if hst.State == "ok" && hst.LastCheck.After(outageStart.Add(outage)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if hst.State != "ok" {
		t.Errorf("Automation Hub watch after the outage: %+v, want ok", hst)
	}
	t.Logf("reliability: platform-outage: tried %s outage (503 then refused connections, 10 s tokens, %d injected failures) with %d deployments started during it, "+
		"AA logins %d, Orchestrator tokens %d, lost %d", outage, hits, len(runs), aaLogins, orchTokens, lost)
}
