package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

func apiTaskInput(profile, key string, idempotent bool) contract.DeployAPITaskInput {
	return contract.DeployAPITaskInput{Profile: profile, BotRepositoryPath: aasim.ZipCodeTaskPath, Idempotent: idempotent,
		BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(fmt.Sprintf("%q", key))}}
}

func botInput(key string) contract.DeployBotInput {
	return contract.DeployBotInput{Profile: "cr", BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID},
		BotInput: map[string]json.RawMessage{"sInput1": json.RawMessage(fmt.Sprintf("%q", key))}}
}

// testWorkerKilled SIGKILLs the worker while API Task executions are in
// flight (30 s task latency), bot deployments are being polled (slow bot)
// and a session refresh is held at the platform (20 s tokens on profile
// "fast"). A new worker process finishes every workflow: non-idempotent
// executions reached the platform at most once (the workflow may fail
// Ambiguous), idempotent ones and bots complete, sessions stay usable.
func testWorkerKilled(t *testing.T) {
	n, m := pick(3, 8), pick(2, 4)
	fast := aasim.DefaultOptions()
	fast.APITasks = []aasim.APITask{echoTask(30 * time.Second)}
	fast.TokenLifetime = 20 * time.Second
	demo := aasim.DefaultOptions()
	demo.Bots[0].Deployed, demo.Bots[0].Running = 2*time.Second, 45*time.Second
	s := newStack(t, "killed", stackOptions{Sims: simenv.Options{AA: &demo}, Fast: &fast})
	s.startWorker()

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	fastSession := contract.AASessionID("fast")
	s.startSession(ctx, contract.ControlRoomSessionWorkflow, fastSession, "fast")
	if _, err := s.token(ctx, fastSession, time.Second); err != nil {
		t.Fatalf("first token of the fast session: %v", err)
	}
	// From now on the platform holds refreshes: the first one (at ~75% of
	// the 20 s lifetime) is in flight when the worker dies.
	s.FastGate.HoldRefresh.Store(true)

	type job struct {
		key             string
		idempotent, bot bool
	}
	jobs := map[string]job{}
	var runs []client.WorkflowRun
	for i := range n {
		for _, idem := range []bool{false, true} {
			key := fmt.Sprintf("once-%d", i)
			if idem {
				key = fmt.Sprintf("twice-%d", i)
			}
			jobs["killed-"+key] = job{key: key, idempotent: idem}
			runs = append(runs, s.start(ctx, "killed-"+key, contract.DeployAPITaskWorkflow, apiTaskInput("fast", key, idem)))
		}
	}
	for i := range m {
		key := fmt.Sprintf("bot-%d", i)
		jobs["killed-"+key] = job{key: key, bot: true}
		runs = append(runs, s.start(ctx, "killed-"+key, contract.DeployBotWorkflow, botInput(key)))
	}

	aa := s.Sims.AA.Counters()
	ready := func() bool {
		return s.FastGate.ExecutionsInFlight() == 2*n && s.FastGate.RefreshesHeld() >= 1 &&
			aa.Get("deploy") == int64(m) && aa.Get("activity.list") >= int64(m)
	}
	deadline := time.Now().Add(time.Minute)
	for !ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the kill point was never reached: executions in flight %d/%d, refreshes held %d, deploys %d/%d, activity polls %d",
				s.FastGate.ExecutionsInFlight(), 2*n, s.FastGate.RefreshesHeld(), aa.Get("deploy"), m, aa.Get("activity.list"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // let the "request sent" heartbeats reach the server
	inFlight, held := s.FastGate.ExecutionsInFlight(), s.FastGate.RefreshesHeld()
	if int(inFlight) != 2*n || held < 1 {
		t.Fatalf("kill point lost while waiting: executions in flight %d, refreshes held %d", inFlight, held)
	}
	s.killWorker()
	killedAt := time.Now()
	s.FastGate.HoldRefresh.Store(false)
	s.startWorker()

	outcomes := waitAll(ctx, runs)
	recovery := time.Since(killedAt).Round(time.Second)
	lost, ambiguous := 0, 0
	for _, o := range outcomes {
		key, idempotent := jobs[o.id].key, jobs[o.id].idempotent
		if jobs[o.id].bot {
			var res contract.DeployBotResult
			if o.err == nil {
				o.err = json.Unmarshal(o.result, &res)
			}
			want := "done: " + key
			if o.err != nil || res.Status != "COMPLETED" || res.BotOutput["sOutput"] != want {
				lost++
				t.Errorf("%s: want COMPLETED with sOutput %q, got %+v, %v", o.id, want, res, o.err)
			}
			continue
		}
		execs := s.FastGate.Executions(key)
		var res contract.DeployAPITaskResult
		if o.err == nil {
			o.err = json.Unmarshal(o.result, &res)
		}
		ok := o.err == nil && res.BotOutput["State"] == "ran:"+key
		switch {
		case !idempotent && execs > 1:
			lost++
			t.Errorf("%s: non-idempotent task reached the platform %d times", o.id, execs)
		case !idempotent && !ok && contract.TypeOf(o.err) == contract.ErrAmbiguous:
			ambiguous++
		case !ok:
			lost++
			t.Errorf("%s (idempotent %v, %d executions): want State ran:%s, got %v, %v", o.id, idempotent, execs, key, res.BotOutput, o.err)
		}
	}
	if got := aa.Get("deploy"); got != int64(m) {
		lost++
		t.Errorf("bots deployed %d times for %d workflows: a deploy was repeated", got, m)
	}
	for _, id := range []string{fastSession, contract.AASessionID("cr")} {
		st, err := s.status(ctx, id)
		if err != nil || st.State == "authFailed" || st.State == "closed" {
			t.Errorf("session %s after the kill: state %q, error %v", id, st.State, err)
		}
	}
	if _, err := s.token(ctx, fastSession, time.Second); err != nil {
		t.Errorf("fast session gives no token after the kill: %v", err)
	}
	t.Logf("reliability: worker-killed: tried %d non-idempotent + %d idempotent API Tasks (%d in flight) + %d bot polls + 1 held refresh, "+
		"SIGKILL, new worker finished all in %s; %d non-idempotent failed Ambiguous (executed once), lost %d",
		n, n, inFlight, m, recovery, ambiguous, lost)
}
