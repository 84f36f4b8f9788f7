package contract

import "time"

// RunEventsWorkflow is the small workflow that joins a platform's
// notification about one run (a UiPath job or queue item, an AA
// deployment) with the workflow waiting on that run. Its ID is derived from
// the run (RunEventsID), so the receiver and the wait find it without a
// lookup, whichever comes first.
const RunEventsWorkflow = "RunEvents"

// Signals of RunEventsWorkflow and of the waits it forwards to.
const (
	// RunEventSignal carries a RunEvent: to RunEventsWorkflow from the
	// receiver, and from there to the registered wait.
	RunEventSignal = "rpaflow.run-event"
	// RunWaiterSignal registers a RunWaiter with RunEventsWorkflow.
	RunWaiterSignal = "rpaflow.run-waiter"
)

// Run subjects: what a RunEventsID names within a profile.
const (
	SubjectJob        = "job"        // a UiPath job, by Id
	SubjectQueueItem  = "queueitem"  // a UiPath queue item, by Id
	SubjectDeployment = "deployment" // an AA deployment, by the callback id rpaflow gave it
)

// RunEventsID is the workflow ID of the RunEventsWorkflow of one run.
func RunEventsID(profile, subject, id string) string {
	return "run-events:" + profile + ":" + subject + ":" + id
}

// RunEvent is a platform's word that a run changed state. It is a hint:
// the wait reads the platform before it acts on it.
type RunEvent struct {
	EventID  string    `json:"eventId"`
	Type     string    `json:"type"`            // job.completed, queueItem.transactionFailed, aa.callback, …
	State    string    `json:"state,omitempty"` // the run's state as the event tells it
	RunID    string    `json:"runId,omitempty"` // the platform's id of the run, as the event tells it
	Terminal bool      `json:"terminal"`        // the state is final
	At       time.Time `json:"at,omitempty"`    // when the platform says the run ended (zero: unknown)
	Received time.Time `json:"received"`        // when the receiver accepted it
}

// RunWaiter is a workflow waiting for the events of one run, until Until.
type RunWaiter struct {
	WorkflowID string    `json:"workflowId"`
	RunID      string    `json:"runId"`
	Until      time.Time `json:"until"`
}

// RunEventsInput starts a RunEventsWorkflow.
type RunEventsInput struct {
	Profile string `json:"profile"`
	Subject string `json:"subject"`
	ID      string `json:"id"`
}

// RunEventsIntakeWorkflow takes in, per profile, events the receiver got
// together in one call (a burst) and hands each to its run's
// RunEventsWorkflow. Its ID is RunEventsIntakeID.
const RunEventsIntakeWorkflow = "RunEventsIntake"

// RunEventsBatchSignal carries a []RoutedRunEvent to RunEventsIntakeWorkflow.
const RunEventsBatchSignal = "rpaflow.run-events-batch"

// RunEventsIntakeID is the workflow ID of a profile's RunEventsIntakeWorkflow.
func RunEventsIntakeID(profile string) string { return "run-events-intake:" + profile }

// RunEventsIntakeInput starts a RunEventsIntakeWorkflow.
type RunEventsIntakeInput struct {
	Profile string `json:"profile"`
}

// RoutedRunEvent is one event for one run of a profile: the run's subject
// and id (what its RunEventsID is made of) and the event.
type RoutedRunEvent struct {
	Subject string   `json:"subject"`
	ID      string   `json:"id"`
	Event   RunEvent `json:"event"`
}
