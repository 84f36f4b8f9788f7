// Package plugin makes rpaflow part of a Temporal application: New returns
// a plugin that registers rpaflow's workflows and activities (and, if
// asked, its Nexus service) on the workers of the client or worker it is
// added to, and only the workflows on a workflow replayer, so the host's
// replay tests keep working. rpaflow's own worker is a user of this same
// plugin.
//
//	p, err := plugin.New(plugin.Options{Profiles: profiles, Encryption: &plugin.Encryption{Key: key}})
//	c, err := client.Dial(client.Options{HostPort: "...", Plugins: []client.Plugin{p}})
//	w := worker.New(c, "my-queue", worker.Options{}) // runs rpaflow's workflows too
//
// The plugin holds no Temporal client: activities reach the session
// workflows through the client of the worker that runs them, on the task
// queue they run on.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nexus-rpc/sdk-go/nexus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/profile"
	"github.com/rpaflow/rpaflow/providers/httpobs"
	"github.com/rpaflow/rpaflow/session"
	"github.com/rpaflow/rpaflow/workflows"
)

// Name is the plugin's name as Temporal reports it.
const Name = "rpaflow.Plugin"

// Options configure the plugin.
type Options struct {
	// Profiles are the platform credentials workflows refer to by name
	// (see ProfilesFromEnv for the standalone worker's variables).
	Profiles []profile.Profile
	// PollBudgetPerMinute bounds status calls per profile across every
	// wait on a worker (default 60; UiPath allows 100 job reads a minute).
	PollBudgetPerMinute int
	// PollBudgetObserver, if set, is told of each status call the budget
	// lets through and how long it waited (metrics of saturation).
	PollBudgetObserver func(ctx context.Context, profile string, waited time.Duration)
	// HTTPClient makes every platform call; nil uses each provider's
	// default, with its timeouts.
	HTTPClient *http.Client
	// Observer is told about every platform call (metrics, spans).
	Observer httpobs.Observer
	// NamePrefix goes in front of every workflow and activity name rpaflow
	// registers, for hosts that already have a workflow called StartJob.
	// Callers then start "<prefix>DeployAPITask". Default: none, the names
	// of the public contract.
	NamePrefix string
	// IDPrefix goes in front of the workflow IDs rpaflow chooses: sessions
	// (aa-session:<profile>), token watches and Nexus deployments.
	IDPrefix string
	// Encryption, if set, wraps the host's data converter with rpaflow's
	// AES-256-GCM codec (never replacing it). Without it, and without a
	// data converter of the host's own, session tokens sit in the host's
	// history in clear: the plugin warns once.
	Encryption *Encryption
	// Secrets are values beyond the profiles' credentials (the host's own
	// keys and tokens) that failure messages handed to Nexus callers must
	// not show, as the host's logs do not; the profiles' credentials are
	// always removed.
	Secrets []string
	// Nexus serves the Nexus service contract.NexusService on the task
	// queue of every worker the plugin is added to, with every profile.
	Nexus bool
	// NexusQueues limit Nexus callers by endpoint instead: the operator
	// creates one endpoint per calling team, each targeting its own task
	// queue, and callers may use only their queue's profiles (others fail
	// with contract.ErrForbidden). A worker on a listed queue serves the
	// Nexus service there; unless that queue is TaskQueue it runs nothing
	// else. Workers on other queues serve no Nexus calls.
	NexusQueues []profile.NexusQueue
	// TaskQueue is the queue of the workers that run rpaflow's workflows
	// and activities; required with NexusQueues, whose operations start
	// their workflows there.
	TaskQueue string
}

// Key is an AES-256 key (Key, 32 bytes) and the id (ID) written into the
// payloads it encrypts.
type Key = codec.Key

// Encryption configures payload encryption: Key encrypts, OldKeys (retired
// keys) still decrypt, and BoundaryKey, if set, encrypts what crosses to
// Nexus callers (inputs, results and failures of the operations) with a key
// the callers share; without it, those payloads are written so that a
// caller's default data converter reads them. Session payloads stay under
// Key either way. SealKey, if set, seals the values that carry platform
// tokens (session state, token answers, access details) inside the
// encryption, instead of a key derived from Key; a codec endpoint serving Key
// never opens them. OldSealKeys still open.
type Encryption = codec.Encryption

// Plugin is rpaflow as a Temporal client and worker plugin.
type Plugin struct {
	*temporal.SimplePlugin
	o        Options
	registry *activities.Registry
	sessions session.Source
	budget   *activities.Budget
	names    session.Names
	warnOnce sync.Once
	// queues maps a worker's instance key to its task queue (ConfigureWorker
	// knows the queue, RunContextBefore only the key).
	queues sync.Map
}

var (
	_ client.Plugin = (*Plugin)(nil)
	_ worker.Plugin = (*Plugin)(nil)
)

// New checks o and builds the provider clients of its profiles.
func New(o Options) (*Plugin, error) {
	reg, err := activities.BuildRegistry(o.Profiles, activities.RegistryOptions{HTTPClient: o.HTTPClient, Observer: o.Observer})
	if err != nil {
		return nil, err
	}
	if len(o.NexusQueues) > 0 {
		var names []string
		for _, pr := range o.Profiles {
			names = append(names, pr.Name)
		}
		if err := profile.CheckNexusQueues(o.NexusQueues, names); err != nil {
			return nil, fmt.Errorf("plugin: NexusQueues: %w", err)
		}
		if o.TaskQueue == "" {
			return nil, errors.New("plugin: NexusQueues is set but TaskQueue is empty; give the task queue of the workers that run rpaflow's workflows, where Nexus operations start them")
		}
	}
	if o.Encryption != nil {
		if _, err := o.Encryption.Codec(); err != nil {
			return nil, fmt.Errorf("plugin: Encryption: %w", err)
		}
	}
	names := session.Names{TypePrefix: o.NamePrefix, IDPrefix: o.IDPrefix}
	tenants := map[string]int{}
	for _, pr := range o.Profiles {
		if pr.TenantBudgetPerMinute > 0 {
			tenants[pr.Name] = pr.TenantBudgetPerMinute
		}
	}
	p := &Plugin{o: o, registry: reg, names: names, budget: &activities.Budget{PerMinute: o.PollBudgetPerMinute, Observe: o.PollBudgetObserver,
		Tenant: &activities.TenantBudgets{Names: names}, TenantPerMinute: tenants},
		sessions: &session.Cache{Next: &session.Temporal{Names: names}}}
	simple, err := temporal.NewSimplePlugin(temporal.SimplePluginOptions{
		Name:               Name,
		ConfigureClient:    p.configureClient,
		WorkerInterceptors: p.interceptors(),
		ConfigureWorker: func(_ context.Context, o worker.PluginConfigureWorkerOptions) error {
			p.queues.Store(o.WorkerInstanceKey, o.TaskQueue)
			return nil
		},
		RunContextBefore: p.register,
	})
	if err != nil {
		return nil, err
	}
	p.SimplePlugin = simple
	return p, nil
}

// configureClient wraps the host's data converter with rpaflow's codec.
func (p *Plugin) configureClient(_ context.Context, o client.PluginConfigureClientOptions) error {
	co := o.ClientOptions
	if p.o.Encryption == nil {
		if co.DataConverter == nil {
			p.warnOnce.Do(func() {
				logger(co).Warn("rpaflow plugin without Encryption on a client with the default data converter: session tokens will be stored in this namespace's history in clear; set plugin.Options.Encryption")
			})
		}
		return nil
	}
	dc, fc, err := p.o.Encryption.Converters(co.DataConverter, p.o.IDPrefix, p.secrets())
	if err != nil {
		return fmt.Errorf("plugin: Encryption: %w", err)
	}
	co.DataConverter = dc
	if co.FailureConverter == nil {
		co.FailureConverter = fc
	} else {
		logger(co).Warn("rpaflow plugin: the client has a failure converter of its own, kept as it is; failure messages are encrypted only if it encodes them (temporal.DefaultFailureConverterOptions.EncodeCommonAttributes)")
	}
	return nil
}

// secrets are what failure messages handed to Nexus callers must not show:
// the profiles' credentials and the host's Secrets.
func (p *Plugin) secrets() []string {
	out := slices.Clone(p.o.Secrets)
	for _, pr := range p.o.Profiles {
		out = append(out, pr.Secrets()...)
	}
	return out
}

func logger(co *client.Options) log.Logger {
	if co.Logger != nil {
		return co.Logger
	}
	return log.NewStructuredLogger(slog.Default())
}

// workflowsByName are rpaflow's workflows under their contract names, the
// deployments with the profiles' capacity pools.
func (p *Plugin) workflowsByName() []struct {
	name string
	fn   any
} {
	d := &workflows.Deployments{Pools: map[string][]contract.PoolConfig{}, IDPrefix: p.o.IDPrefix}
	for _, pr := range p.o.Profiles {
		if len(pr.Pools) > 0 {
			d.Pools[pr.Name] = pr.Pools
		}
	}
	return []struct {
		name string
		fn   any
	}{
		{contract.ControlRoomSessionWorkflow, wrapNoResult(workflows.ControlRoomSession)},
		{contract.DeployAPITaskWorkflow, wrap(d.DeployAPITask)},
		{contract.DeployBotWorkflow, wrap(d.DeployBot)},
		{contract.OrchestratorSessionWorkflow, wrapNoResult(workflows.OrchestratorSession)},
		{contract.StartJobWorkflow, wrap(d.StartJob)},
		{contract.PoolWorkflow, wrapNoResult(workflows.CapacityPool)},
		{contract.BudgetWorkflow, wrapNoResult(workflows.TenantBudget)},
		{contract.AddQueueItemWorkflow, wrap(workflows.AddQueueItem)},
		{contract.AddWorkItemWorkflow, wrap(workflows.AddWorkItem)},
		{contract.AutomationHubTokenWatchWorkflow, wrapNoResult(workflows.AutomationHubTokenWatch)},
		{contract.RunEventsWorkflow, wrapNoResult(workflows.RunEvents)},
		{contract.RunEventsIntakeWorkflow, wrapNoResult(workflows.RunEventsIntake)},
		{contract.EnsureWebhookWorkflow, wrap(workflows.EnsureWebhook)},
	}
}

// wrap registers a workflow as a function value of its own, so that the
// SDK's alias from the Go function's name ("StartJob") to the registered
// name does not capture a host workflow of the same Go name.
func wrap[I, O any](fn func(workflow.Context, I) (O, error)) func(workflow.Context, I) (O, error) {
	return func(ctx workflow.Context, in I) (O, error) { return fn(ctx, in) }
}

func wrapNoResult[I any](fn func(workflow.Context, I) error) func(workflow.Context, I) error {
	return func(ctx workflow.Context, in I) error { return fn(ctx, in) }
}

// register runs when a worker starts (or a replayer replays): workflows
// always; activities and the Nexus service on workers only; on a Nexus
// queue of its own, only the Nexus service.
func (p *Plugin) register(_ context.Context, o temporal.SimplePluginRunContextBeforeOptions) error {
	queue, _ := p.queues.Load(o.InstanceKey)
	q, _ := queue.(string)
	_, nexusQueue := p.nexusProfiles(q)
	nexusOnly := !o.WorkflowReplayer && len(p.o.NexusQueues) > 0 && nexusQueue && q != p.o.TaskQueue
	if !nexusOnly {
		for _, w := range p.workflowsByName() {
			// A replayer calls this before every replay of the same registry.
			o.Registry.RegisterWorkflowWithOptions(w.fn, workflow.RegisterOptions{Name: p.o.NamePrefix + w.name,
				DisableAlreadyRegisteredCheck: o.WorkflowReplayer})
		}
	}
	if o.WorkflowReplayer {
		return nil
	}
	if !nexusOnly {
		for _, a := range []any{
			&activities.AutomationAnywhere{Registry: p.registry, Sessions: p.sessions, Budget: p.budget},
			&activities.Orchestrator{Registry: p.registry, Sessions: p.sessions, Budget: p.budget},
			&activities.AutomationHub{Registry: p.registry},
			&activities.Events{Names: p.names},
			&activities.Pools{Names: p.names},
		} {
			o.Registry.RegisterActivityWithOptions(a, activity.RegisterOptions{Name: p.o.NamePrefix})
		}
	}
	if len(p.o.NexusQueues) > 0 && nexusQueue || len(p.o.NexusQueues) == 0 && p.o.Nexus {
		svc, err := p.nexusService()
		if err != nil {
			return err
		}
		o.Registry.RegisterNexusService(svc)
	}
	return nil
}

// interceptors: with a name prefix, rpaflow's workflows call their
// activities by the prefixed names they were registered under; with Nexus,
// the deployments it starts end cancelled in a form callers read.
func (p *Plugin) interceptors() []interceptor.WorkerInterceptor {
	own := map[string]bool{}
	for _, w := range p.workflowsByName() {
		own[p.o.NamePrefix+w.name] = true
	}
	var out []interceptor.WorkerInterceptor
	if p.o.NamePrefix != "" {
		out = append(out, &prefixInterceptor{prefix: p.o.NamePrefix, workflows: own})
	}
	if p.o.Nexus {
		out = append(out, &nexusCancelInterceptor{idPrefix: p.o.IDPrefix + contract.NexusWorkflowIDPrefix, workflows: own})
	}
	return out
}

// nexusService is the service contract.NexusService.
func (p *Plugin) nexusService() (*nexus.Service, error) {
	svc := nexus.NewService(contract.NexusService)
	err := errors.Join(svc.Register(p.nexusOperations()...))
	return svc, err
}

// nexusOperations are the service's operations (contract/schema describes
// each; a test keeps the two lists equal).
func (p *Plugin) nexusOperations() []nexus.RegisterableOperation {
	return []nexus.RegisterableOperation{
		workflowRunOperation[contract.DeployAPITaskInput, contract.DeployAPITaskResult](p, contract.OpDeployAPITask, contract.DeployAPITaskWorkflow, profile.KindAA,
			func(in contract.DeployAPITaskInput) string { return in.Profile }),
		workflowRunOperation[contract.DeployBotInput, contract.DeployBotResult](p, contract.OpDeployBot, contract.DeployBotWorkflow, profile.KindAA,
			func(in contract.DeployBotInput) string { return in.Profile }),
		workflowRunOperation[contract.StartJobInput, contract.StartJobResult](p, contract.OpStartJob, contract.StartJobWorkflow, profile.KindOrchestrator,
			func(in contract.StartJobInput) string { return in.Profile }),
		workflowRunOperation[contract.AddQueueItemInput, contract.AddQueueItemResult](p, contract.OpAddQueueItem, contract.AddQueueItemWorkflow, profile.KindOrchestrator,
			func(in contract.AddQueueItemInput) string { return in.Profile }),
		workflowRunOperation[contract.AddWorkItemInput, contract.AddWorkItemResult](p, contract.OpAddWorkItem, contract.AddWorkItemWorkflow, profile.KindAA,
			func(in contract.AddWorkItemInput) string { return in.Profile }),
		p.sessionStatusOperation(),
		p.poolStatusOperation(),
	}
}
