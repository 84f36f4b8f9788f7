package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/events"
	"github.com/rpaflow/rpaflow/profile"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/session"
)

// EventPlan tells a wait that its profile learns of ended runs from events:
// it then reads the platform only every Reconcile and when an event comes.
// A nil plan means polling as before.
type EventPlan struct {
	Reconcile time.Duration `json:"reconcile"`
}

type eventSettings struct {
	plan        EventPlan
	callbackURL string // AA: the receiver's public base URL
	key         []byte // AA: what callback tokens are derived from
}

func (r *Registry) addEvents(p profile.Profile) {
	if !p.EventsOn() {
		return
	}
	rec := p.ReconcileInterval
	if rec <= 0 {
		rec = profile.DefaultReconcileInterval
	}
	r.events[p.Name] = eventSettings{plan: EventPlan{Reconcile: rec}, callbackURL: p.CallbackURL, key: []byte(p.WebhookSecret)}
}

// EventPlan returns the profile's plan, nil when its events are off.
func (r *Registry) EventPlan(name string) *EventPlan {
	s, ok := r.events[name]
	if !ok {
		return nil
	}
	p := s.plan
	return &p
}

// Check is one read of a run: whether it has ended, its state, when the
// platform says it ended, and its result.
type Check[R any] struct {
	Done   bool      `json:"done"`
	State  string    `json:"state"`
	End    time.Time `json:"end,omitempty"`
	Result R         `json:"result"`
	// NoCapacity is the platform's reason when the run waits there for
	// capacity (a job Pending for a robot).
	NoCapacity string `json:"noCapacity,omitempty"`
}

// Events holds the activities that join a wait with its run's events.
type Events struct {
	Names session.Names
}

// RegisterWaiterInput registers a wait with its run's events workflow.
type RegisterWaiterInput struct {
	Run    contract.RunEventsInput `json:"run"`
	Waiter contract.RunWaiter      `json:"waiter"`
}

// RegisterRunWaiter tells the run's events workflow, starting it if need
// be, which workflow waits; events that came before are forwarded at once.
func (a *Events) RegisterRunWaiter(ctx context.Context, in RegisterWaiterInput) error {
	return SignalRunEvents(ctx, activity.GetClient(ctx), a.Names, activity.GetInfo(ctx).TaskQueue, in.Run, contract.RunWaiterSignal, in.Waiter)
}

// SignalRunEvents sends signal with arg to the events workflow of run,
// starting it if none runs: the receiver and the wait both use it, so
// whichever comes first creates the workflow.
func SignalRunEvents(ctx context.Context, c client.Client, n session.Names, taskQueue string, run contract.RunEventsInput, signal string, arg any) error {
	id := n.IDPrefix + contract.RunEventsID(run.Profile, run.Subject, run.ID)
	_, err := c.SignalWithStartWorkflow(ctx, id, signal, arg, client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// A bound against a workflow that outlives every wait by far.
		WorkflowExecutionTimeout: 8 * 24 * time.Hour,
	}, n.TypePrefix+contract.RunEventsWorkflow, run)
	return err
}

// SignalRunEventsIntake hands a batch of a profile's events to its
// RunEventsIntake workflow, starting it if none runs: one call for all of
// them, durable once it returns.
func SignalRunEventsIntake(ctx context.Context, c client.Client, n session.Names, taskQueue, profile string, runs []contract.RoutedRunEvent) error {
	id := n.IDPrefix + contract.RunEventsIntakeID(profile)
	_, err := c.SignalWithStartWorkflow(ctx, id, contract.RunEventsBatchSignal, runs, client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, n.TypePrefix+contract.RunEventsIntakeWorkflow, contract.RunEventsIntakeInput{Profile: profile})
	return err
}

// checkOnce reads a run once within the profile's poll budget,
// heartbeating through the budget's wait, which may be long.
func checkOnce[S any](ctx context.Context, b *Budget, profile string, read func(context.Context) (S, error)) (S, error) {
	defer heartbeatEvery(ctx, 2*time.Second, nil)()
	if err := b.Wait(ctx, profile); err != nil {
		var zero S
		return zero, err
	}
	return read(ctx)
}

// OrchCheckJob reads the job once, within the poll budget: the wait's
// reconciliation and its confirmation of an event (Event: served before
// routine polls). Reads of jobs of the same folder that wait for the
// budget together are made as one call; a routine read waits Gather for
// others first.
func (a *Orchestrator) OrchCheckJob(ctx context.Context, in WaitJobInput) (Check[contract.StartJobResult], error) {
	defer heartbeatEvery(ctx, 2*time.Second, nil)() // the budget wait may be long
	if _, err := a.Registry.Orchestrator(in.Profile); err != nil {
		return Check[contract.StartJobResult]{}, err
	}
	k := jobFolder{profile: in.Profile, id: in.Job.FolderID, path: in.Job.Folder}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	r := &jobRead{id: in.Job.ID, urgent: in.Event, stop: stop, done: make(chan struct{})}
	a.reads.add(k, r)
	if !in.Event && in.Gather > 0 {
		// Another read may take this one along meanwhile (wctx ends).
		t := time.NewTimer(in.Gather)
		select {
		case <-t.C:
		case <-wctx.Done():
		}
		t.Stop()
	}
	werr := a.Budget.wait(wctx, in.Profile, in.Event)
	batch, mine := a.reads.take(k, r, werr == nil)
	switch {
	case !mine:
		select {
		case <-r.done:
		case <-ctx.Done():
			return Check[contract.StartJobResult]{}, ctx.Err()
		}
	case werr != nil:
		return Check[contract.StartJobResult]{}, werr
	default:
		a.readJobs(ctx, k, batch)
		if r.err != nil {
			a.Budget.throttled(ctx, in.Profile, r.err)
		}
	}
	if r.err != nil {
		return Check[contract.StartJobResult]{}, r.err
	}
	job := r.job
	c := Check[contract.StartJobResult]{Done: orchestrator.IsTerminalJobState(job.State), State: job.State, End: job.End,
		Result: jobResult(job)}
	if job.PendingForCapacity() {
		c.NoCapacity = job.ErrorCode
	}
	return c, nil
}

// AACheckDeployment reads the deployment's activity once, within the poll
// budget.
func (a *AutomationAnywhere) AACheckDeployment(ctx context.Context, in WaitDeploymentInput) (Check[DeploymentResult], error) {
	read, err := a.deploymentReader(in, a.Sessions)
	if err != nil {
		return Check[DeploymentResult]{}, err
	}
	act, err := checkOnce(ctx, a.Budget, in.Profile, read)
	if err != nil {
		return Check[DeploymentResult]{}, err
	}
	if act == nil {
		return Check[DeploymentResult]{State: "NOT_LISTED"}, nil
	}
	return Check[DeploymentResult]{Done: isTerminalDeployment(act.Status), State: act.Status, End: act.End,
		Result: deploymentResult(in.DeploymentID, act)}, nil
}

// DeployRef is a deployment AADeploy made (or adopted), and how its wait
// learns the end.
type DeployRef struct {
	ID      string `json:"id"`
	Adopted bool   `json:"adopted,omitempty"`
	// CallbackID names the deployment's callbacks (empty: none asked for).
	CallbackID string     `json:"callbackId,omitempty"`
	Events     *EventPlan `json:"events,omitempty"`
}

// AADeploy deploys like AADeployBot and, when the profile has callbacks
// configured, asks the Control Room to post the deployment's end to the
// events receiver with a callback id and the token derived from it. The id
// is derived from the activity's start key, so every attempt (and a
// deployment an attempt adopts) has the same one; only the id is returned,
// the receiver recomputes the token.
func (a *AutomationAnywhere) AADeploy(ctx context.Context, in DeployInput) (DeployRef, error) {
	var ref DeployRef
	var cb *callbackRequest
	if s, ok := a.Registry.events[in.Profile]; ok && s.callbackURL != "" {
		ref.CallbackID = callbackID(startKey(ctx))
		plan := s.plan
		ref.Events = &plan
		cb = &callbackRequest{url: s.callbackURL + events.AAPath + in.Profile, headers: map[string]string{
			events.CallbackIDHeader:    ref.CallbackID,
			events.CallbackTokenHeader: events.CallbackToken(s.key, in.Profile, ref.CallbackID),
		}}
	}
	dep, err := a.deploy(ctx, in, cb)
	ref.ID, ref.Adopted = dep.ID, dep.Adopted
	return ref, err
}

// callbackID is 32 hex digits naming one start's callbacks.
func callbackID(k contract.StartKey) string {
	sum := sha256.Sum256([]byte("rpaflow callback\x00" + k.WorkflowID + "\x00" + k.RunID + "\x00" + k.ActivityID))
	return hex.EncodeToString(sum[:16])
}

// ForwardRunEventsInput is a batch of a profile's events to forward.
type ForwardRunEventsInput struct {
	Profile string                    `json:"profile"`
	Runs    []contract.RoutedRunEvent `json:"runs"`
}

// ForwardRunEventsResult names the events that could not be forwarded.
type ForwardRunEventsResult struct {
	Failed []contract.RoutedRunEvent `json:"failed,omitempty"`
}

// ForwardRunEvents' bounds: calls at once, and the time of each.
const (
	forwardAtOnce      = 8
	forwardCallTimeout = 20 * time.Second
)

// ForwardRunEvents hands each event to its run's events workflow (starting
// it if need be), a few at once. Run as a local activity by
// RunEventsIntake; what failed is returned, not an error, so that only it
// is tried again.
func (a *Events) ForwardRunEvents(ctx context.Context, in ForwardRunEventsInput) (ForwardRunEventsResult, error) {
	c := activity.GetClient(ctx)
	taskQueue := activity.GetInfo(ctx).TaskQueue
	failed := make([]bool, len(in.Runs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, forwardAtOnce)
	for i, r := range in.Runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			run := contract.RunEventsInput{Profile: in.Profile, Subject: r.Subject, ID: r.ID}
			cctx, cancel := context.WithTimeout(ctx, forwardCallTimeout)
			defer cancel()
			failed[i] = SignalRunEvents(cctx, c, a.Names, taskQueue, run, contract.RunEventSignal, r.Event) != nil
		}()
	}
	wg.Wait()
	var res ForwardRunEventsResult
	for i, f := range failed {
		if f {
			res.Failed = append(res.Failed, in.Runs[i])
		}
	}
	return res, nil
}
