package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// admissionVersion gates drawing slots from pools: runs that began before
// it replay without admission.
const admissionVersion = "admission-pools"

// Deployments are the deployment workflows of a worker with its capacity
// pools. The zero value has no pools: every deployment goes straight to
// the platform.
type Deployments struct {
	// Pools are each profile's pools (RPAFLOW_<NAME>_POOLS). Every worker
	// of a task queue must have the same.
	Pools map[string][]contract.PoolConfig
	// IDPrefix goes in front of the pools' workflow IDs.
	IDPrefix string
}

// noPools serves the package-level deployment functions.
var noPools = &Deployments{}

// admitRequest describes what a deployment is about to start.
type admitRequest struct {
	workflowType string
	profile      string
	admission    *contract.Admission
	folder       string // StartJob
	slots        int
	headless     bool   // DeployBot as an on-demand API Task
	nexusCaller  string // the calling endpoint's task queue, for Nexus calls
}

// admissionPlan is the pool a deployment draws from, decided from the
// worker's configuration once and recorded in history.
type admissionPlan struct {
	Pool     *contract.PoolConfig `json:"pool,omitempty"`
	Priority int                  `json:"priority,omitempty"`
	Key      string               `json:"key,omitempty"`
	Slots    int                  `json:"slots,omitempty"`
	Field    string               `json:"field,omitempty"` // an InvalidInput to report
	Problem  string               `json:"problem,omitempty"`
}

// plan picks the pool: admission.pool when given; else apitask for API
// Tasks (DeployAPITask, and DeployBot headless), the folder's pool for
// StartJob, and the only runner pool (any pool but apitask) for DeployBot.
func (d *Deployments) plan(r admitRequest) admissionPlan {
	pools := d.Pools[r.profile]
	names := make([]string, len(pools))
	for i, p := range pools {
		names[i] = p.Name
	}
	byName := func(n string) *contract.PoolConfig {
		if i := slices.Index(names, n); i >= 0 {
			return &pools[i]
		}
		return nil
	}
	var pool *contract.PoolConfig
	if r.admission != nil && r.admission.Pool != "" {
		if pool = byName(r.admission.Pool); pool == nil {
			return admissionPlan{Field: "admission.pool", Problem: fmt.Sprintf("%q is not a pool of profile %q; its pools are: %s (RPAFLOW_%s_POOLS)",
				r.admission.Pool, r.profile, listOr(names), envName(r.profile))}
		}
	} else {
		switch {
		case r.workflowType == contract.DeployAPITaskWorkflow || r.headless:
			pool = byName(contract.PoolAPITask)
		case r.workflowType == contract.StartJobWorkflow:
			pool = byName(r.folder)
		case r.workflowType == contract.DeployBotWorkflow:
			runners := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == contract.PoolAPITask })
			if len(runners) > 1 {
				return admissionPlan{Field: "admission.pool", Problem: fmt.Sprintf("is needed: profile %q has several runner pools (%s); name the one this deployment's runners belong to",
					r.profile, strings.Join(runners, ", "))}
			}
			if len(runners) == 1 {
				pool = byName(runners[0])
			}
		}
	}
	if pool == nil {
		return admissionPlan{}
	}
	var asked string
	if r.admission != nil {
		asked = r.admission.FairnessKey
	}
	return admissionPlan{Pool: pool, Priority: r.admission.PriorityOr(), Key: fairnessKey(r.profile, r.nexusCaller, asked), Slots: max(r.slots, 1)}
}

// fairnessKey is the key a deployment queues under: the caller's, else the
// Nexus endpoint the call came through (one per calling team), else the
// profile. A Nexus caller's own key lives under its endpoint's queue
// ("<queue>/<key>"), so no caller can queue under another team's key.
func fairnessKey(profile, nexusCaller, asked string) string {
	switch {
	case nexusCaller == "" && asked != "":
		return asked
	case nexusCaller == "":
		return profile
	case asked == "" || OwnsFairnessKey(nexusCaller, asked):
		return cmp.Or(asked, nexusCaller)
	}
	return nexusCaller + "/" + asked
}

// OwnsFairnessKey reports whether key is one a Nexus caller whose endpoint
// targets queue queues under: the queue itself or "<queue>/...".
func OwnsFairnessKey(queue, key string) bool {
	return key == queue || strings.HasPrefix(key, queue+"/")
}

func listOr(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func envName(profile string) string { return strings.ToUpper(strings.ReplaceAll(profile, "-", "_")) }

// lease is a deployment's place in a pool. All methods accept a nil lease
// (no pool): they do nothing.
type lease struct {
	plan     admissionPlan
	profile  string
	poolID   string
	holder   contract.PoolHolder
	grants   workflow.ReceiveChannel
	round    int // refusals so far: grants of earlier rounds are stale
	released bool
	bySignal bool // acquireBySignalVersion
	pending  bool // the pool knows the run waits on the platform for capacity
}

// admit waits for the deployment's slots, or returns a nil lease when it
// falls in no pool. Cancelled while queued, it leaves the queue at once and
// returns a cancelled error: nothing was started.
func (d *Deployments) admit(ctx workflow.Context, r admitRequest) (l *lease, err error) {
	if workflow.GetVersion(ctx, admissionVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil, nil
	}
	r.nexusCaller = NexusCaller(ctx)
	var plan admissionPlan
	if err = workflow.SideEffect(ctx, func(workflow.Context) any { return d.plan(r) }).Get(&plan); err != nil {
		return nil, err
	}
	if plan.Field != "" {
		return nil, contract.InvalidInputError(plan.Field, "%s", plan.Problem)
	}
	if plan.Pool == nil {
		return nil, nil
	}
	info := workflow.GetInfo(ctx)
	l = &lease{plan: plan, profile: r.profile, poolID: d.IDPrefix + contract.PoolID(r.profile, plan.Pool.Name),
		holder:   contract.PoolHolder{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID},
		grants:   workflow.GetSignalChannel(ctx, contract.SignalPoolGrant),
		bySignal: workflow.GetVersion(ctx, acquireBySignalVersion, workflow.DefaultVersion, 1) >= 1}
	return l, l.acquire(ctx)
}

// acquireBySignalVersion: runs from it on join the queue by a signal sent
// from a local activity, and learn every grant by signal.
const acquireBySignalVersion = "pool-acquire-signal"

// acquire joins the pool's queue (or finds this run's place in it) and
// waits for the grant.
func (l *lease) acquire(ctx workflow.Context) error {
	if l.bySignal {
		return l.acquireBySignal(ctx)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// Acquiring twice finds the same place: retrying is safe.
		RetryPolicy: acquireRetry,
	})
	var res activities.PoolAcquireResult
	err := workflow.ExecuteActivity(actx, pools.PoolAcquire, l.request()).Get(ctx, &res)
	if err != nil {
		l.release(ctx, contract.ReleaseCancelled) // the acquire may have queued it
		if ctx.Err() != nil {
			return l.cancelled()
		}
		return err
	}
	l.round = res.Round
	if res.Granted {
		return nil
	}
	workflow.GetLogger(ctx).Info("queued for a pool slot", "pool", l.plan.Pool.Name, "position", res.Position)
	return l.wait(ctx)
}

var acquireRetry = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
	NonRetryableErrorTypes: []string{string(contract.ErrInvalidInput)}}

func (l *lease) request() activities.PoolAcquireInput {
	return activities.PoolAcquireInput{Profile: l.profile, Pool: *l.plan.Pool, Priority: l.plan.Priority, Key: l.plan.Key,
		Slots: l.plan.Slots, Round: l.round}
}

// acquireBySignal sends the acquire signal from a local activity, which
// runs within this workflow task (no activity task to dispatch), and waits
// for the grant signal. The signal is sent even if the deployment is
// cancelled meanwhile, so the cancel's release always comes after it.
func (l *lease) acquireBySignal(ctx workflow.Context) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithLocalActivityOptions(dctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: time.Minute, StartToCloseTimeout: 10 * time.Second, RetryPolicy: acquireRetry})
	for {
		err := workflow.ExecuteLocalActivity(dctx, pools.PoolAcquireSignal, l.request()).Get(dctx, nil)
		switch {
		case ctx.Err() != nil:
			l.release(ctx, contract.ReleaseCancelled)
			return l.cancelled()
		case err == nil:
			return l.wait(ctx)
		case contract.IsType(err, contract.ErrInvalidInput):
			return err
		}
		// The pool's namespace did not answer for a minute: keep trying,
		// as the acquire activity's retries do.
		workflow.GetLogger(ctx).Warn("acquiring a pool slot failed; trying again", "pool", l.poolID, "error", err)
	}
}

// wait blocks until the pool grants this round.
func (l *lease) wait(ctx workflow.Context) error {
	for {
		var g contract.PoolGrant
		granted := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(l.grants, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &g)
			granted = g.Round >= l.round
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		if granted {
			return nil
		}
		if ctx.Err() != nil {
			l.release(ctx, contract.ReleaseCancelled)
			return l.cancelled()
		}
	}
}

func (l *lease) cancelled() error {
	return temporal.NewCanceledError(contract.RunStop{Reason: contract.StopCancelled,
		Message: "cancelled while waiting for a slot of pool " + l.plan.Pool.Name + "; nothing was started"})
}

// refused reports whether err is the platform saying it has no capacity
// now, which a pooled deployment waits out in the queue (never a failure).
func (l *lease) refused(ctx workflow.Context, err error) bool {
	return l != nil && ctx.Err() == nil && capacityRefusal(err)
}

// capacityWords are what Orchestrator's 409 answers to StartJobs say when
// no robot, runtime or licence is free (its error numbers are not
// documented, so the message decides).
var capacityWords = []string{"no robots available", "not enough runtime", "slots limit", "full capacity", "robot busy", "robotbusy", "concurrency limit"}

// capacityRefusal: a 429 (or other throttling) answer, or a 409 saying
// there is no free robot or runtime; either way nothing was started.
func capacityRefusal(err error) bool {
	if contract.IsType(err, contract.ErrThrottled) {
		return true
	}
	info, ok := contract.InfoOf(err)
	if !ok || info.Status != 409 || !contract.IsType(err, contract.ErrInvalidRequest) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return slices.ContainsFunc(capacityWords, func(w string) bool { return strings.Contains(msg, w) })
}

// requeue gives the slot back after a capacity refusal and waits at the
// head of the queue, with the pool's backoff, for the next one.
func (l *lease) requeue(ctx workflow.Context, err error) error {
	workflow.GetLogger(ctx).Info("platform has no capacity; back to the head of the pool's queue", "pool", l.plan.Pool.Name, "error", err)
	if serr := l.signal(ctx, contract.ReleaseRefused); serr != nil {
		return serr
	}
	if l.bySignal {
		// The pool put it back in the queue for the next round; the acquire
		// finds it there (or queues it, should the pool not know it).
		l.round++
	}
	return l.acquire(ctx)
}

// platformPending tells the pool, once, that the run is on the platform but
// waits there for capacity: the pool shrinks, and this run keeps its slot.
func (l *lease) platformPending(ctx workflow.Context, reason string) {
	if l == nil || l.pending || l.released {
		return
	}
	l.pending = true
	workflow.GetLogger(ctx).Info("the platform has taken the run but has no capacity for it yet; it keeps its slot and the pool shrinks",
		"pool", l.plan.Pool.Name, "reason", reason)
	if err := l.signal(ctx, contract.ReleasePending); err != nil {
		workflow.GetLogger(ctx).Warn("telling the pool of a pending run failed", "pool", l.poolID, "error", err)
	}
}

// retryPolicy: a pooled deployment does not retry capacity refusals in the
// activity; it waits for a slot again.
func (l *lease) retryPolicy(p *temporal.RetryPolicy) *temporal.RetryPolicy {
	if l != nil {
		p.NonRetryableErrorTypes = append(slices.Clone(p.NonRetryableErrorTypes), string(contract.ErrThrottled))
	}
	return p
}

// releaseByActivityVersion: runs from it on let the activity that sees the
// platform run end give the slot back (activities.GiveBackSlot).
const releaseByActivityVersion = "pool-release-by-activity"

// byActivity returns the pool's workflow ID for an activity that gives the
// slot back itself, or "" (no pool, or a run that began before).
func (l *lease) byActivity(ctx workflow.Context) string {
	if l == nil || workflow.GetVersion(ctx, releaseByActivityVersion, workflow.DefaultVersion, 1) < 1 {
		return ""
	}
	return l.poolID
}

// releasedByActivity: the activity gave the slot back; Release does nothing.
func (l *lease) releasedByActivity() {
	if l != nil {
		l.released = true
	}
}

// givenBack: an earlier attempt of the activity gave the slot back and
// this one did not call the platform.
func (l *lease) givenBack(err error) bool {
	return l != nil && contract.IsType(err, activities.ErrSlotGivenBack)
}

// reacquire queues for a slot again after givenBack. The release is sent
// again first: the attempt that stored its "released" mark may not have
// reached the pool.
func (l *lease) reacquire(ctx workflow.Context) error {
	workflow.GetLogger(ctx).Info("an earlier attempt gave the slot back before its result was lost; queueing for a slot again", "pool", l.plan.Pool.Name)
	if err := l.signal(ctx, contract.ReleaseDone); err != nil {
		return err
	}
	l.round++
	return l.acquire(ctx)
}

// Release gives the slots back when the platform run is over. It is the
// hook for whatever learns that a run ended; later calls do nothing.
func (l *lease) Release(ctx workflow.Context) { l.release(ctx, contract.ReleaseDone) }

func (l *lease) release(ctx workflow.Context, outcome string) {
	if l == nil || l.released {
		return
	}
	l.released = true
	if err := l.signal(ctx, outcome); err != nil {
		// The pool reclaims the slot when it sees this run has ended.
		workflow.GetLogger(ctx).Warn("releasing the pool slot failed", "pool", l.poolID, "error", err)
	}
}

// signal reaches the pool even from a cancelled workflow.
func (l *lease) signal(ctx workflow.Context, outcome string) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	return workflow.SignalExternalWorkflow(dctx, l.poolID, "", contract.SignalPoolRelease,
		contract.PoolRelease{Holder: l.holder, Outcome: outcome}).Get(dctx, nil)
}
