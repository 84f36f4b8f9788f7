package activities

import (
	"cmp"
	"context"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

// WaitQueueItemInput waits for a queue item's transaction to end.
type WaitQueueItemInput struct {
	Profile string `json:"profile"`
	Folder  string `json:"folder"`
	// ID is the added item; 0 for a duplicate reference, whose item is
	// then found by Reference.
	ID        int64  `json:"id,omitempty"`
	Reference string `json:"reference,omitempty"`
	// Last is the item's last retry known, read instead of ID (0: none).
	Last        int64         `json:"last,omitempty"`
	PollInitial time.Duration `json:"pollInitial,omitempty"` // default 2s
	PollMax     time.Duration `json:"pollMax,omitempty"`     // default 30s
}

// maxRetryHops bounds following a Retried chain (Orchestrator retries an
// item a handful of times at most).
const maxRetryHops = 50

// QueueItemRef is what OrchAddQueueItem reports: the item added (or
// found), and, when the profile learns of ended runs from events, how its
// wait does.
type QueueItemRef struct {
	contract.AddQueueItemResult
	Events *EventPlan `json:"events,omitempty"`
}

// OrchWaitQueueItem polls a queue item within the worker's polling budget
// until its transaction ends, following Retried items to their last retry.
// The answer carries the final status, the output of a Successful item and
// the exception of a failed one; the workflow decides what is a failure.
func (a *Orchestrator) OrchWaitQueueItem(ctx context.Context, in WaitQueueItemInput) (contract.QueueItemFailure, error) {
	read, err := a.queueItemReader(in)
	if err != nil {
		return contract.QueueItemFailure{}, err
	}
	var item orchestrator.QueueItemState
	check := func(ctx context.Context) (string, bool, error) {
		it, err := read(ctx)
		if err != nil {
			return "", false, err
		}
		item = it
		return item.Status, orchestrator.IsTerminalQueueItem(item.Status), nil
	}
	o := pollOptions{profile: in.Profile, initial: orDefault(in.PollInitial, 2*time.Second),
		max: orDefault(in.PollMax, 30*time.Second), budget: a.Budget, maxFails: 20}
	if err := pollUntil(ctx, o, check); err != nil {
		return contract.QueueItemFailure{}, err
	}
	return queueItemResult(in, item), nil
}

// OrchCheckQueueItem reads the queue item once (from its last retry known,
// in.Last), within the poll budget: the wait's reconciliation and its
// confirmation of an event. A Retried item is followed to its last retry,
// whose id the answer's FinalID names, ended or not.
func (a *Orchestrator) OrchCheckQueueItem(ctx context.Context, in WaitQueueItemInput) (Check[contract.QueueItemFailure], error) {
	read, err := a.queueItemReader(in)
	if err != nil {
		return Check[contract.QueueItemFailure]{}, err
	}
	item, err := checkOnce(ctx, a.Budget, in.Profile, read)
	if err != nil {
		return Check[contract.QueueItemFailure]{}, err
	}
	return Check[contract.QueueItemFailure]{Done: orchestrator.IsTerminalQueueItem(item.Status), State: item.Status, End: item.End,
		Result: queueItemResult(in, item)}, nil
}

// queueItemReader reads the item (found by reference when in.ID is 0),
// following Retried items to their last retry, with errors classified.
// It keeps the folder and the id it reached between reads.
func (a *Orchestrator) queueItemReader(in WaitQueueItemInput) (func(context.Context) (orchestrator.QueueItemState, error), error) {
	c, err := a.Registry.Orchestrator(in.Profile)
	if err != nil {
		return nil, err
	}
	var f orchestrator.Folder
	id, hops := cmp.Or(in.Last, in.ID), 0
	return func(ctx context.Context) (orchestrator.QueueItemState, error) {
		var item orchestrator.QueueItemState
		err := a.withToken(ctx, in.Profile, func(token string) error {
			if f.ID == 0 {
				var err error
				if f, err = c.Folder(ctx, token, in.Folder); err != nil {
					return err
				}
			}
			if id == 0 {
				found, ok, err := c.QueueItemByReference(ctx, token, f, in.Reference)
				if err != nil {
					return err
				}
				if !ok {
					return notFoundByReference(in.Reference)
				}
				id = found.ID
			}
			it, err := c.QueueItem(ctx, token, f, id)
			if err != nil {
				return err
			}
			if it.Status == orchestrator.QueueItemRetried && hops < maxRetryHops {
				last, err := c.LastRetry(ctx, token, f, id)
				if err != nil {
					return err
				}
				if last.ID != 0 && last.ID != id {
					hops++
					activity.GetLogger(ctx).Info("queue item retried; following its last retry", "id", id, "retry", last.ID)
					id, it = last.ID, last
				}
			}
			item = it
			return nil
		})
		if err != nil {
			return orchestrator.QueueItemState{}, classify(err, callKind{cachedToken: true})
		}
		return item, nil
	}, nil
}

// queueItemResult is what a wait reports of item, the state of the item
// in.ID (or found by in.Reference) or of its last retry.
func queueItemResult(in WaitQueueItemInput, item orchestrator.QueueItemState) contract.QueueItemFailure {
	out := contract.QueueItemFailure{AddQueueItemResult: contract.AddQueueItemResult{ID: in.ID, Key: item.Key, Status: item.Status,
		Reference: item.Reference, Duplicate: in.ID == 0, Output: item.Output}}
	if out.ID == 0 {
		out.ID = item.ID
	}
	if item.ID != out.ID {
		out.FinalID = item.ID
	}
	if e := item.Exception; e != nil {
		out.Reason, out.Type = e.Reason, e.Type
	}
	return out
}

func notFoundByReference(ref string) error {
	return contract.NewError(contract.ErrNotFound, "no queue item with reference "+strconv.Quote(ref)+
		" in the folder; Orchestrator reported it as a duplicate, so check the queue's items", contract.ErrorInfo{Field: "reference"}, 0)
}
