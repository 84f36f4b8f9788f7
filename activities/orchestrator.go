package activities

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
	"github.com/rpaflow/rpaflow/session"
)

// Orchestrator holds the UiPath Orchestrator activities.
type Orchestrator struct {
	Registry *Registry
	Sessions session.Source
	Budget   *Budget
	Lookups  Lookups
	reads    jobReads
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
	ref := session.Orchestrator(profile)
	return withToken(ctx, a.Sessions, ref, func(tok contract.TokenResult) error { return call(tok.Token) })
}

// JobRef identifies a started job.
type JobRef struct {
	ID       int64  `json:"id"`
	Key      string `json:"key"`
	FolderID int64  `json:"folderId"`
	Folder   string `json:"folder"`
	// Adopted: an earlier attempt started it and its answer was lost.
	Adopted bool `json:"adopted,omitempty"`
	// Events is set when the profile learns of the job's end from
	// webhooks (nil: the wait polls).
	Events *EventPlan `json:"events,omitempty"`
}

// JobReference is the reference a StartJob's job carries: the caller's, or
// the start key's when the caller gave none.
func JobReference(in contract.StartJobInput, key contract.StartKey) string {
	return cmp.Or(in.Reference, key.Reference())
}

// callerRefSkew: a job found by the caller's own reference (which other
// starts may share) is this start's only if Orchestrator created it after
// the activity was first scheduled, less this allowance for clock skew.
const callerRefSkew = 5 * time.Minute

// OrchStartJob resolves the folder and the process's release and starts a
// job carrying JobReference. A retried attempt first looks the reference up
// in the folder and adopts the job it finds, and so does an attempt whose
// own StartJobs lost its answer (a timeout, a reset, a 408 or 5xx after
// the request was sent): a start whose answer was lost never starts a
// second job. When the folder answers that it holds no job with the
// reference, none was started, and the next attempt starts it.
func (a *Orchestrator) OrchStartJob(ctx context.Context, in contract.StartJobInput) (JobRef, error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return JobRef{}, err
	}
	reference := JobReference(in, startKey(ctx))
	info := activity.GetInfo(ctx)
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
		find := func(own bool) lookup {
			return func() (bool, error) {
				jobs, err := c.JobsByReference(ctx, token, f, reference)
				if err != nil {
					return false, err
				}
				for _, j := range jobs { // newest first is not promised; take the lowest id, the first start
					if !strings.EqualFold(j.ReleaseName, rel.Name) || (in.Reference != "" && j.Created.Before(info.ScheduledTime.Add(-callerRefSkew))) {
						continue
					}
					if ref.ID == 0 || j.ID < ref.ID {
						ref = JobRef{ID: j.ID, Key: j.Key, FolderID: f.ID, Folder: f.FullyQualifiedName, Adopted: true}
					}
				}
				if ref.ID != 0 {
					adopted(ctx, contract.StartJobWorkflow, in.Profile, "job", own, "jobId", ref.ID, "reference", reference, "found", len(jobs))
				}
				return ref.ID != 0, nil
			}
		}
		if info.Attempt > 1 {
			if found, err := find(false)(); err != nil || found {
				return err
			}
		}
		sent = true
		job, err := c.StartJob(ctx, token, f, orchestrator.StartJobRequest{ReleaseKey: rel.Key,
			InputArguments: in.InputArguments, Priority: in.Priority, Reference: reference})
		if err != nil && lostAnswer(err) {
			reads, found, answered, lerr := a.Lookups.own(ctx, find(true))
			switch {
			case found:
				return nil
			case answered:
				return contract.NewError(contract.ErrUnavailable, fmt.Sprintf("%v; %d look-ups found no job with reference %q in folder %q, so it was not started: "+
					"the next attempt looks once more and starts it", err, reads, reference, f.FullyQualifiedName), infoOf(err), 0)
			default:
				return fmt.Errorf("%w (the job's reference is %q; looking it up failed too: %v)", err, reference, lerr)
			}
		}
		if err != nil {
			return fmt.Errorf("%w (the job's reference is %q)", err, reference)
		}
		ref = JobRef{ID: job.ID, Key: job.Key, FolderID: f.ID, Folder: f.FullyQualifiedName}
		return nil
	})
	if err == nil {
		ref.Events = a.Registry.EventPlan(in.Profile)
	}
	return ref, classify(err, callKind{cachedToken: true, unsafe: sent && !in.Idempotent})
}

// WaitJobInput waits for a job to finish.
type WaitJobInput struct {
	Profile     string        `json:"profile"`
	Job         JobRef        `json:"job"`
	PollInitial time.Duration `json:"pollInitial,omitempty"`
	PollMax     time.Duration `json:"pollMax,omitempty"`
	// Event: the read confirms an event (OrchCheckJob).
	Event bool `json:"event,omitempty"`
	// Gather: a routine read (not Event) first waits this long for the
	// reads of other jobs of the folder due about now, which it then makes
	// in one call (OrchCheckJob).
	Gather time.Duration `json:"gather,omitempty"`
	// ReportNoCapacity ends the wait early when the job waits Pending for
	// lack of capacity: the result's State is Pending and its Info the
	// pending reason.
	ReportNoCapacity bool `json:"reportNoCapacity,omitempty"`
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
		return job.State, orchestrator.IsTerminalJobState(job.State) || in.ReportNoCapacity && job.PendingForCapacity(), nil
	}
	o := pollOptions{profile: in.Profile, initial: orDefault(in.PollInitial, 2*time.Second),
		max: orDefault(in.PollMax, 30*time.Second), budget: a.Budget, maxFails: 20}
	if err := pollUntil(ctx, o, check); err != nil {
		return contract.StartJobResult{}, err
	}
	if !orchestrator.IsTerminalJobState(job.State) {
		return contract.StartJobResult{ID: job.ID, Key: job.Key, State: job.State, Info: job.ErrorCode}, nil
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

// OrchAddQueueItem adds a queue item carrying the caller's reference, or
// the start key's when the caller gave none. A retried attempt first looks
// the reference up in the folder and adopts the item it finds (whether or
// not the queue enforces unique references); a 409 duplicate means an
// earlier attempt (or caller) already added it: reported, not failed.
func (a *Orchestrator) OrchAddQueueItem(ctx context.Context, in contract.AddQueueItemInput) (QueueItemRef, error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return QueueItemRef{}, err
	}
	reference := cmp.Or(in.Reference, startKey(ctx).Reference())
	var res contract.AddQueueItemResult
	err = a.withToken(ctx, in.Profile, func(token string) error {
		f, err := c.Folder(ctx, token, in.Folder)
		if err != nil {
			return err
		}
		if activity.GetInfo(ctx).Attempt > 1 {
			found, ok, err := c.QueueItemByReference(ctx, token, f, reference)
			if err != nil {
				return err
			}
			if ok {
				res = contract.AddQueueItemResult{ID: found.ID, Key: found.Key, Status: found.Status, Reference: reference, Adopted: true}
				adopted(ctx, contract.AddQueueItemWorkflow, in.Profile, "queue item", false, "id", found.ID, "reference", reference)
				return nil
			}
		}
		item, err := c.AddQueueItem(ctx, token, f, orchestrator.QueueItemRequest{Queue: in.Queue, Reference: reference,
			Priority: in.Priority, SpecificContent: in.SpecificContent, DeferDate: in.DeferDate, DueDate: in.DueDate})
		if orchestrator.IsDuplicateReference(err) {
			res = contract.AddQueueItemResult{Status: "Duplicate", Reference: reference, Duplicate: true}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w (the item's reference is %q)", err, reference)
		}
		res = contract.AddQueueItemResult{ID: item.ID, Key: item.Key, Status: item.Status, Reference: item.Reference}
		return nil
	})
	// An add that failed after it was sent may still be in flight, so a
	// lookup could miss it: without the caller's reference (which a
	// unique-reference queue enforces) it is Ambiguous, not retried.
	ref := QueueItemRef{AddQueueItemResult: res}
	if err == nil && in.Wait {
		ref.Events = a.Registry.EventPlan(in.Profile)
	}
	return ref, classify(err, callKind{cachedToken: true, unsafe: in.Reference == ""})
}
