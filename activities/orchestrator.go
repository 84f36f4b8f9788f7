package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// Orchestrator holds the UiPath Orchestrator activities.
type Orchestrator struct {
	Registry *Registry
	Sessions Sessions
	Budget   *Budget
}

// OrchAuthenticate gets a new Orchestrator token (client credentials or ROPC;
// there is no refresh token, so every renewal is a new token request).
func (a *Orchestrator) OrchAuthenticate(ctx context.Context, profile string) (Credential, error) {
	c, err := a.Registry.Orchestrator(profile)
	if err != nil {
		return Credential{}, err
	}
	t, err := c.Authenticate(ctx)
	if err != nil {
		return Credential{}, classify(err, callKind{})
	}
	return Credential{Token: t.Value, IssuedAt: activity.GetInfo(ctx).StartedTime, Expiry: t.Expiry}, nil
}

// withToken runs call with a token of profile's Orchestrator session.
func (a *Orchestrator) withToken(ctx context.Context, profile string, call func(token string) error) error {
	ref := SessionRef{WorkflowType: contract.OrchestratorSessionWorkflow, Profile: profile}
	return withToken(ctx, a.Sessions, ref, func(tok contract.TokenResult) error { return call(tok.Token) })
}

// JobRef identifies a started job.
type JobRef struct {
	ID       int64  `json:"id"`
	Key      string `json:"key"`
	FolderID int64  `json:"folderId"`
	Folder   string `json:"folder"`
	// Events is set when the profile learns of the job's end from
	// webhooks (nil: the wait polls).
	Events *EventPlan `json:"events,omitempty"`
}

// OrchStartJob resolves the folder and the process's release and starts a job.
func (a *Orchestrator) OrchStartJob(ctx context.Context, in contract.StartJobInput) (JobRef, error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return JobRef{}, err
	}
	var ref JobRef
	var sent bool
	err = a.withToken(ctx, in.Profile, func(token string) error {
		f, err := c.Folder(ctx, token, in.Folder)
		if err != nil {
			return err
		}
		rel, err := c.Release(ctx, token, f, in.Process)
		if err != nil {
			return err
		}
		sent = true
		job, err := c.StartJob(ctx, token, f, orchestrator.StartJobRequest{ReleaseKey: rel.Key,
			InputArguments: in.InputArguments, Priority: in.Priority, Reference: in.Reference})
		if err != nil {
			return err
		}
		ref = JobRef{ID: job.ID, Key: job.Key, FolderID: f.ID, Folder: f.FullyQualifiedName, Events: a.Registry.EventPlan(in.Profile)}
		return nil
	})
	return ref, classify(err, callKind{cachedToken: true, unsafe: sent && !in.Idempotent})
}

// WaitJobInput waits for a job to finish.
type WaitJobInput struct {
	Profile     string        `json:"profile"`
	Job         JobRef        `json:"job"`
	PollInitial time.Duration `json:"pollInitial,omitempty"`
	PollMax     time.Duration `json:"pollMax,omitempty"`
}

// OrchWaitJob polls the job by id (not the rate-limited collection) within the
// worker's job-read budget until it is Successful, Faulted or Stopped.
func (a *Orchestrator) OrchWaitJob(ctx context.Context, in WaitJobInput) (contract.StartJobResult, error) {
	read, err := a.jobReader(in)
	if err != nil {
		return contract.StartJobResult{}, err
	}
	var job orchestrator.Job
	check := func(ctx context.Context) (string, bool, error) {
		j, err := read(ctx)
		if err != nil {
			return "", false, err
		}
		job = j
		return job.State, orchestrator.IsTerminalJobState(job.State), nil
	}
	o := pollOptions{profile: in.Profile, initial: orDefault(in.PollInitial, 2*time.Second),
		max: orDefault(in.PollMax, 30*time.Second), budget: a.Budget, maxFails: 20}
	if err := pollUntil(ctx, o, check); err != nil {
		return contract.StartJobResult{}, err
	}
	return jobResult(job), nil
}

// jobReader reads the job by id, with errors classified.
func (a *Orchestrator) jobReader(in WaitJobInput) (func(context.Context) (orchestrator.Job, error), error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return nil, err
	}
	f := orchestrator.Folder{ID: in.Job.FolderID, FullyQualifiedName: in.Job.Folder}
	return func(ctx context.Context) (orchestrator.Job, error) {
		var job orchestrator.Job
		err := a.withToken(ctx, in.Profile, func(token string) error {
			j, err := c.Job(ctx, token, f, in.Job.ID)
			if err == nil {
				job = j
			}
			return err
		})
		if err != nil {
			return orchestrator.Job{}, classify(err, callKind{cachedToken: true})
		}
		return job, nil
	}, nil
}

func jobResult(job orchestrator.Job) contract.StartJobResult {
	return contract.StartJobResult{ID: job.ID, Key: job.Key, State: job.State, Info: job.Info, OutputArguments: job.OutputArguments}
}

// OrchAddQueueItem adds a queue item. With a reference, a 409 duplicate means
// an earlier attempt (or caller) already added it: reported, not failed.
func (a *Orchestrator) OrchAddQueueItem(ctx context.Context, in contract.AddQueueItemInput) (contract.AddQueueItemResult, error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return contract.AddQueueItemResult{}, err
	}
	var res contract.AddQueueItemResult
	err = a.withToken(ctx, in.Profile, func(token string) error {
		f, err := c.Folder(ctx, token, in.Folder)
		if err != nil {
			return err
		}
		item, err := c.AddQueueItem(ctx, token, f, orchestrator.QueueItemRequest{Queue: in.Queue, Reference: in.Reference,
			Priority: in.Priority, SpecificContent: in.SpecificContent, DeferDate: in.DeferDate, DueDate: in.DueDate})
		if in.Reference != "" && orchestrator.IsDuplicateReference(err) {
			res = contract.AddQueueItemResult{Status: "Duplicate", Reference: in.Reference, Duplicate: true}
			return nil
		}
		if err != nil {
			return err
		}
		res = contract.AddQueueItemResult{ID: item.ID, Key: item.Key, Status: item.Status, Reference: item.Reference}
		return nil
	})
	return res, classify(err, callKind{cachedToken: true, unsafe: in.Reference == ""})
}
