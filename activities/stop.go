package activities

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/apierror"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// stopProgress is a stop's heartbeat: a retried attempt (after a worker
// crash) does not send a request the previous one already sent.
type stopProgress struct {
	Requests    []string  `json:"requests,omitempty"`
	ExecutionID string    `json:"executionId,omitempty"`
	StoppedAt   time.Time `json:"stoppedAt,omitzero"`
	KilledAt    time.Time `json:"killedAt,omitzero"`
	Started     time.Time `json:"started"`
}

func resumeStop(ctx context.Context) stopProgress {
	var p stopProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p) // undecodable: start over; a repeated stop is harmless
	}
	if p.Started.IsZero() {
		p.Started = time.Now()
	}
	return p
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// StopDeploymentInput stops a Control Room deployment.
type StopDeploymentInput struct {
	Profile      string        `json:"profile"`
	DeploymentID string        `json:"deploymentId"`
	Reason       string        `json:"reason"`
	Grace        time.Duration `json:"grace"`          // how long to watch after the stop (default 2m)
	Poll         time.Duration `json:"poll,omitempty"` // watch interval (default 1s, growing to 5s)
}

// AAStopDeployment stops a deployment's execution at the Control Room and
// watches it until a terminal status or the grace passes. The first status
// read and the stop request skip the polling budget: a stop is not a poll,
// and every second it waits the robot keeps working. Safe to retry.
func (a *AutomationAnywhere) AAStopDeployment(ctx context.Context, in StopDeploymentInput) (contract.RunStop, error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return contract.RunStop{}, err
	}
	p := resumeStop(ctx)
	out := contract.RunStop{Reason: in.Reason, RunID: in.DeploymentID}
	grace := orDefault(in.Grace, contract.DefaultStopGrace)
	interval := orDefault(in.Poll, time.Second)
	call := func(fn func(token string) error) error { return a.withToken(ctx, in.Profile, fn) }
	for polls := 0; ; polls++ {
		if polls > 0 {
			if err := a.Budget.Wait(ctx, in.Profile); err != nil {
				return out, err
			}
		}
		var act *aa.Activity
		err := call(func(token string) (err error) {
			act, err = c.DeploymentActivity(ctx, token, in.DeploymentID)
			return err
		})
		if err != nil {
			return out, classify(err, callKind{cachedToken: true})
		}
		out.Requests, out.ExecutionID, out.StoppedAt = p.Requests, p.ExecutionID, p.StoppedAt
		deadline := p.Started.Add(grace)
		if !p.StoppedAt.IsZero() {
			deadline = p.StoppedAt.Add(grace)
		}
		switch {
		case act != nil && aa.IsTerminal(act.Status):
			out.FinalStatus, out.Terminal, out.AlreadyFinished = act.Status, true, len(p.Requests) == 0
			out.ExecutionID = act.ID
			if act.Message != "" {
				out.Message = act.Message
			}
			return out, nil
		case time.Now().After(deadline): // before the stop case: a refused stop is not asked for forever
			out.Terminal = false
			if act == nil {
				out.Message = "the Control Room never listed the deployment within the stop grace; check its activity page"
			} else {
				out.FinalStatus = act.Status
				out.Message = "still " + act.Status + " when the stop grace ran out; check the Control Room"
			}
			return out, nil
		case act != nil && len(p.Requests) == 0:
			err := call(func(token string) error { return c.StopExecution(ctx, token, act.ID) })
			var ae *apierror.Error
			if errors.As(err, &ae) && (ae.Status == 400 || ae.Status == 404 || ae.Status == 409 || ae.Status == 422) {
				// Refused: most likely it just ended. The next read says.
				activity.GetLogger(ctx).Info("stop refused; reading the status again", "deploymentId", in.DeploymentID, "error", err)
			} else if err != nil {
				return out, classify(err, callKind{cachedToken: true})
			} else {
				p.Requests, p.ExecutionID, p.StoppedAt = []string{"stop"}, act.ID, time.Now()
				activity.RecordHeartbeat(ctx, p) // usually the attempt's first heartbeat, which is sent at once
				activity.GetLogger(ctx).Info("execution stop requested", "deploymentId", in.DeploymentID, "executionId", act.ID)
			}
		}
		activity.RecordHeartbeat(ctx, p)
		if err := sleepCtx(ctx, interval); err != nil {
			return out, err
		}
		interval = min(interval*3/2, 5*time.Second)
	}
}

// StopJobInput stops an Orchestrator job.
type StopJobInput struct {
	Profile string        `json:"profile"`
	Job     JobRef        `json:"job"`
	Reason  string        `json:"reason"`
	Grace   time.Duration `json:"grace"`          // SoftStop → Kill (default 2m)
	Poll    time.Duration `json:"poll,omitempty"` // watch interval (default 1s, growing to 5s)
}

// killGrace is how long a killed job is watched for its final state.
const killGrace = time.Minute

// OrchStopJob stops a job with SoftStop, kills it if it is not terminal
// after the grace, and reports the final state (Stopped, or Successful when
// the robot finished first). Safe to retry.
func (a *Orchestrator) OrchStopJob(ctx context.Context, in StopJobInput) (contract.RunStop, error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return contract.RunStop{}, err
	}
	f := orchestrator.Folder{ID: in.Job.FolderID, FullyQualifiedName: in.Job.Folder}
	p := resumeStop(ctx)
	out := contract.RunStop{Reason: in.Reason, RunID: strconv.FormatInt(in.Job.ID, 10)}
	grace := orDefault(in.Grace, contract.DefaultStopGrace)
	interval := orDefault(in.Poll, time.Second)
	stop := func(strategy string) error {
		err := a.withToken(ctx, in.Profile, func(token string) error { return c.StopJobs(ctx, token, f, strategy, in.Job.ID) })
		if err != nil {
			return classify(err, callKind{cachedToken: true})
		}
		p.Requests = append(p.Requests, strategy)
		if strategy == orchestrator.SoftStop {
			p.StoppedAt = time.Now()
		} else {
			p.KilledAt = time.Now()
		}
		activity.RecordHeartbeat(ctx, p)
		activity.GetLogger(ctx).Info("job stop requested", "jobId", in.Job.ID, "strategy", strategy)
		return nil
	}
	for polls := 0; ; polls++ {
		if polls > 0 {
			if err := a.Budget.Wait(ctx, in.Profile); err != nil {
				return out, err
			}
		}
		var job orchestrator.Job
		err := a.withToken(ctx, in.Profile, func(token string) (err error) {
			job, err = c.Job(ctx, token, f, in.Job.ID)
			return err
		})
		if err != nil {
			return out, classify(err, callKind{cachedToken: true})
		}
		out.Requests, out.StoppedAt, out.FinalStatus = p.Requests, p.StoppedAt, job.State
		switch {
		case orchestrator.IsTerminalJobState(job.State):
			out.Terminal, out.AlreadyFinished, out.Message = true, p.StoppedAt.IsZero(), job.Info
			return out, nil
		case p.StoppedAt.IsZero() && orchestrator.IsStoppingState(job.State):
			// A stop is already under way (a crashed attempt's or a person's): do not repeat it.
			p.StoppedAt = time.Now()
		case p.StoppedAt.IsZero():
			if err := stop(orchestrator.SoftStop); err != nil {
				return out, err
			}
		case p.KilledAt.IsZero() && time.Since(p.StoppedAt) >= grace:
			if err := stop(orchestrator.Kill); err != nil {
				return out, err
			}
		case !p.KilledAt.IsZero() && time.Since(p.KilledAt) >= killGrace:
			out.Message = "still " + job.State + " a minute after Kill; check the robot in Orchestrator"
			return out, nil
		}
		activity.RecordHeartbeat(ctx, p)
		if err := sleepCtx(ctx, interval); err != nil {
			return out, err
		}
		interval = min(interval*3/2, 5*time.Second)
	}
}

// FindJobsInput looks up the jobs started with a reference.
type FindJobsInput struct {
	Profile   string `json:"profile"`
	Folder    string `json:"folder"`
	Reference string `json:"reference"`
}

// OrchFindJobs finds the jobs started with a reference, newest first: how
// a start whose answer was lost is found.
func (a *Orchestrator) OrchFindJobs(ctx context.Context, in FindJobsInput) ([]JobRef, error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return nil, err
	}
	var refs []JobRef
	err = a.withToken(ctx, in.Profile, func(token string) error {
		f, err := c.Folder(ctx, token, in.Folder)
		if err != nil {
			return err
		}
		jobs, err := c.JobsByReference(ctx, token, f, in.Reference)
		if err != nil {
			return err
		}
		refs = refs[:0]
		for _, j := range jobs {
			refs = append(refs, JobRef{ID: j.ID, Key: j.Key, FolderID: f.ID, Folder: f.FullyQualifiedName})
		}
		slices.SortFunc(refs, func(a, b JobRef) int { return cmp.Compare(b.ID, a.ID) })
		return nil
	})
	return refs, classify(err, callKind{cachedToken: true})
}
