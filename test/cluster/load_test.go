package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
)

// deployment is one workflow of a load and what it must end with.
type deployment struct {
	id, key    string
	idempotent bool
	bot        bool
	cli        bool // started with the Temporal CLI and the codec endpoint
	run        client.WorkflowRun
}

// load is a case's traffic: n deployments spread over the cluster users'
// sessions, started over a few seconds so some start during the fault,
// and consumers reading the sessions' tokens throughout.
type load struct {
	w         *world
	name      string
	mu        sync.Mutex
	deps      []*deployment
	started   sync.WaitGroup
	cons      *consumers
	stopCons  context.CancelFunc
	deploys0  int64
	unauth0   int64
	startedAt time.Time
	refused   atomic.Int32 // starts refused or unanswered, sent again
	killedAt  time.Time    // when a worker was SIGKILLed under this load, if one was
}

func apiTaskInput(profile, key string, idempotent bool) contract.DeployAPITaskInput {
	return contract.DeployAPITaskInput{Profile: profile, BotRepositoryPath: echoTaskPath, Idempotent: idempotent,
		BotInput: map[string]json.RawMessage{"key": json.RawMessage(fmt.Sprintf("%q", key))}}
}

func botInput(profile, key string) contract.DeployBotInput {
	return contract.DeployBotInput{Profile: profile, BotID: aasim.InvoiceBotID, RunAsUserIDs: []int64{aasim.DemoUserID},
		BotInput: map[string]json.RawMessage{"sInput1": json.RawMessage(fmt.Sprintf("%q", key))}}
}

// startLoad starts n deployments (every tenth a bot, the API Tasks half
// idempotent) over spread and returns once minInFlight API Task executions
// are at the platform at once, the moment a fault should hit.
func (w *world) startLoad(t *testing.T, ctx context.Context, name string, n int, spread time.Duration, minInFlight int) *load {
	t.Helper()
	aa := w.Sims.AA.Counters()
	l := &load{w: w, name: name, deploys0: aa.Get("deploy"), unauth0: aa.Get("http.401"), startedAt: time.Now()}
	cctx, cancel := context.WithCancel(ctx)
	l.stopCons = cancel
	l.cons = w.startConsumers(cctx)
	sem := make(chan struct{}, 16)
	for i := range n {
		d := &deployment{id: fmt.Sprintf("%s-%03d", name, i), key: fmt.Sprintf("%s-%03d", name, i), idempotent: i%2 == 0, bot: i%10 == 9}
		profile := aaProfile(i % aaUsers)
		l.mu.Lock()
		l.deps = append(l.deps, d)
		l.mu.Unlock()
		l.started.Add(1)
		go func() {
			defer l.started.Done()
			if !sleepCtx(ctx, spread*time.Duration(i)/time.Duration(n)) {
				return
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			wfType, input := contract.DeployAPITaskWorkflow, any(apiTaskInput(profile, d.key, d.idempotent))
			if d.bot {
				wfType, input = contract.DeployBotWorkflow, botInput(profile, d.key)
			}
			if err := l.start(ctx, d, wfType, input); err != nil {
				t.Errorf("starting %s: %v", d.id, err)
			}
		}()
	}
	deadline := time.Now().Add(90 * time.Second)
	for w.Gate.ExecutionsInFlight() < minInFlight {
		if time.Now().After(deadline) || ctx.Err() != nil {
			l.wait()
			t.Fatalf("%s: never %d API Task executions in flight at once (now %d)", name, minInFlight, w.Gate.ExecutionsInFlight())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return l
}

// start starts one deployment as a careful client does: a start the server
// refused (Unavailable, or NamespaceNotFound while it cannot read its
// database) or left unanswered (the call's deadline) is sent again with the
// same workflow ID; RejectDuplicate makes one that did land show up as
// already started.
func (l *load) start(ctx context.Context, d *deployment, wfType string, input any) error {
	opts := client.StartWorkflowOptions{ID: d.id, TaskQueue: queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}
	deadline := time.Now().Add(time.Minute)
	for {
		run, err := l.w.Client.ExecuteWorkflow(ctx, opts, wfType, input)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		var nsNotFound *serviceerror.NamespaceNotFound
		switch {
		case err == nil:
			d.run = run
			return nil
		case errors.As(err, &started):
			d.run = l.w.Client.GetWorkflow(ctx, d.id, "")
			return nil
		case ctx.Err() == nil && time.Now().Before(deadline) && (errors.As(err, &nsNotFound) || retryCode(serviceerror.ToStatus(err).Code())):
			l.refused.Add(1)
			if !sleepCtx(ctx, time.Second) {
				return err
			}
		default:
			return err
		}
	}
}

// wait waits until every start has returned and stops the consumers, so
// no goroutine of the load outlives its case (callers defer it: a case
// that fails half-way still waits).
func (l *load) wait() {
	l.started.Wait()
	l.stopCons()
	l.cons.wg.Wait()
}

// retryCode: the server refused the start (Unavailable) or the call ended
// without an answer (DeadlineExceeded; it may have landed).
func retryCode(c codes.Code) bool { return c == codes.Unavailable || c == codes.DeadlineExceeded }

// add records a deployment started elsewhere (the Temporal CLI).
func (l *load) add(d *deployment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deps = append(l.deps, d)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// finish waits for every deployment (bounded by ctx), checks the outcomes
// and the platform's counters, and prints the case's line.
func (l *load) finish(t *testing.T, ctx context.Context, detail string) {
	t.Helper()
	w := l.w
	l.started.Wait()
	l.mu.Lock()
	deps := append([]*deployment(nil), l.deps...)
	l.mu.Unlock()
	type outcome struct {
		raw json.RawMessage
		err error
	}
	outs := make([]outcome, len(deps))
	var wg sync.WaitGroup
	for i, d := range deps {
		if d.run == nil {
			outs[i].err = fmt.Errorf("never started")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].err = d.run.Get(ctx, &outs[i].raw)
		}()
	}
	wg.Wait()
	elapsed := time.Since(l.startedAt)
	l.wait()

	lost, ambiguous, cut, bots, viaCLI := 0, 0, 0, 0, 0
	for i, d := range deps {
		o := outs[i]
		if d.cli {
			viaCLI++
		}
		if d.bot {
			bots++
			var res contract.DeployBotResult
			if o.err == nil {
				o.err = json.Unmarshal(o.raw, &res)
			}
			if o.err != nil || res.Status != "COMPLETED" || res.BotOutput["sOutput"] != "done: "+d.key {
				lost++
				t.Errorf("%s: want a COMPLETED bot with sOutput %q, got %+v, %v", d.id, "done: "+d.key, res, o.err)
			}
			continue
		}
		execs := w.Gate.Executions(d.key)
		var res contract.DeployAPITaskResult
		if o.err == nil {
			o.err = json.Unmarshal(o.raw, &res)
		}
		ok := o.err == nil && res.BotOutput["State"] == "ran:"+d.key
		switch {
		case !d.idempotent && execs > 1:
			lost++
			t.Errorf("%s: a non-idempotent execution reached the platform %d times", d.id, execs)
		case !d.idempotent && !ok && errType(o.err) == string(contract.ErrAmbiguous) && execs == 1:
			ambiguous++ // sent once, outcome unknown: reported, not repeated
		case !d.idempotent && !ok && errType(o.err) == string(contract.ErrAmbiguous) && execs == 0 && l.cutAfterMark(ctx, t, d, o.err):
			cut++ // its worker killed between its mark and its request: unknown, reported, not repeated
		case !ok:
			lost++
			t.Errorf("%s (idempotent %v, %d executions): want State ran:%s, got %v, %v", d.id, d.idempotent, execs, d.key, res.BotOutput, o.err)
		}
	}
	aa := w.Sims.AA.Counters()
	if got := aa.Get("deploy") - l.deploys0; got > int64(bots) {
		lost++
		t.Errorf("%d bot deployments reached the Control Room for %d workflows: a deploy was repeated", got, bots)
	}
	unauth := aa.Get("http.401") - l.unauth0
	if unauth != 0 {
		t.Errorf("the Control Room answered 401 %d times: a token was used after it expired or was replaced", unauth)
	}
	badLogins, forced := w.checkLogins(t)
	lost += badLogins
	c := l.cons
	if c.expired.Load() != 0 || c.rejected.Load() != 0 || c.served.Load() == 0 {
		t.Errorf("session readers: %d tokens served, %d expired, %d rejected by the Control Room", c.served.Load(), c.expired.Load(), c.rejected.Load())
	}
	fmt.Printf("cluster: %s: tried %d, lost %d\n", l.name, len(deps), lost)
	first, _ := c.firstErr.Load().(string)
	fmt.Printf("cluster: %s: %s; all closed %s after the first start; %d bots, %d via the Temporal CLI, %d starts refused or unanswered and sent again, %d non-idempotent ended Ambiguous after one execution "+
		"(%d with none: their worker was killed between their mark and their request); tokens read %d (expired 0 required: %d, rejected %d, read errors %d%s), Control Room 401s %d, logins per user 1 (so far %d more, forced by a token that expired while Temporal could not run its session)\n",
		l.name, detail, elapsed.Round(time.Second), bots, viaCLI, l.refused.Load(), ambiguous, cut, c.served.Load(), c.expired.Load(), c.rejected.Load(), c.errs.Load(),
		firstErrNote(first), unauth, forced)
}

// markCut bounds the time from an attempt's "sent" mark being stored to its
// request reaching the Control Room on a live worker (the ack's way back,
// the request's way out), on a loaded machine.
const markCut = 2 * time.Second

// cutAfterMark reports whether a non-idempotent API Task that ended
// Ambiguous without reaching the Control Room is explained by this load's
// SIGKILL: its mark was stored at most markCut before the kill, and the
// attempt that stored it ended by missing its heartbeats (its worker died)
// rather than by failing. Nobody can tell then whether its request left,
// so Ambiguous is the right end; anything else is a lost deployment.
func (l *load) cutAfterMark(ctx context.Context, t *testing.T, d *deployment, err error) bool {
	info, ok := contract.InfoOf(err)
	if l.killedAt.IsZero() || !ok || info.SentAt == nil {
		return false
	}
	if sent := *info.SentAt; sent.After(l.killedAt) || l.killedAt.Sub(sent) > markCut {
		return false
	}
	it := l.w.Client.GetWorkflowHistory(ctx, d.id, d.run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Errorf("%s: reading its history: %v", d.id, err)
			return false
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
			return a.GetLastFailure().GetTimeoutFailureInfo().GetTimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT
		}
	}
	return false
}

func firstErrNote(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return "; first: " + s
}
