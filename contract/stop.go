package contract

import "time"

// Why a run was stopped.
const (
	StopCancelled = "cancelled" // the workflow was cancelled
	StopTimedOut  = "timedOut"  // the input's timeout (or the workflow's own timeout) was reached
)

// DefaultStopGrace is how long a stopped run is watched before it is
// killed (StartJob) or reported as still stopping (DeployBot).
const DefaultStopGrace = 2 * time.Minute

// RunStop is what the platform said when a cancelled or timed-out
// DeployBot or StartJob stopped its run. It is the details of the
// workflow's Canceled failure (CanceledError.Details; not for deployments a
// Nexus operation started, whose callers could not decode them) or of its
// TimedOut application error (ApplicationError.Details).
type RunStop struct {
	Reason string `json:"reason"` // cancelled | timedOut
	// RunID is the deployment id (DeployBot) or the job id (StartJob) as text;
	// empty when no run was created.
	RunID       string `json:"runId,omitempty"`
	ExecutionID string `json:"executionId,omitempty"` // AA: the activity entry the stop named
	// Requests are the stop requests sent, in order: "stop" (AA), "SoftStop", "Kill" (UiPath).
	Requests []string `json:"requests,omitempty"`
	// AlreadyFinished: the run had ended before a stop was needed.
	AlreadyFinished bool `json:"alreadyFinished"`
	// FinalStatus is the platform's last status: RUN_ABORTED, COMPLETED, Stopped, Successful, …
	FinalStatus string `json:"finalStatus,omitempty"`
	// Terminal: FinalStatus will not change again. False means the run was
	// still stopping when the grace ran out.
	Terminal  bool      `json:"terminal"`
	StoppedAt time.Time `json:"stoppedAt,omitzero"` // when the first stop request was answered
	Message   string    `json:"message,omitempty"`
}
