package activities

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rpaflow/rpaflow/contract"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/session"
)

// withToken runs call with a token of profile's Control Room session.
func (a *AutomationAnywhere) withToken(ctx context.Context, profile string, call func(token string) error) error {
	ref := session.ControlRoom(profile)
	return withToken(ctx, a.Sessions, ref, func(tok contract.TokenResult) error { return call(tok.Token) })
}

// maxNearNames bounds the names a NotFound suggests.
const maxNearNames = 8

// resolveWorkQueue finds a queue's id: a numeric queue is taken as given;
// a name must match exactly (case-sensitive), and a miss names the queues
// that come close.
func resolveWorkQueue(ctx context.Context, c *aa.Client, token, queue string) (string, error) {
	ref, err := contract.ParseWorkQueue(queue)
	if err != nil || ref.ID != "" {
		return ref.ID, err
	}
	qs, err := c.WorkQueues(ctx, token, ref.Name)
	if err != nil {
		return "", err
	}
	var ids, near []string
	for _, q := range qs {
		if q.Name == ref.Name {
			ids = append(ids, q.ID)
		} else {
			near = append(near, q.Name)
		}
	}
	switch {
	case len(ids) == 1:
		return ids[0], nil
	case len(ids) > 1:
		return "", contract.InvalidInputError("queue", "%q names %d queues (ids %s); give the id instead", ref.Name, len(ids), strings.Join(ids, ", "))
	}
	if len(near) == 0 && len([]rune(ref.Name)) > 3 {
		// Nothing contains the name: try its beginning, which catches typos at the end.
		prefix := string([]rune(ref.Name)[:3])
		if more, err := c.WorkQueues(ctx, token, prefix); err == nil {
			for _, q := range more {
				near = append(near, q.Name)
			}
		}
	}
	slices.Sort(near)
	near = slices.Compact(near)
	if len(near) > maxNearNames {
		near = append(near[:maxNearNames], "…")
	}
	hint := "no queue has a similar name; check the name in Workload Management or give the queue's id"
	if len(near) > 0 {
		hint = "queues with similar names: " + strings.Join(near, ", ") + " (names are matched exactly, case included)"
	}
	return "", contract.NewError(contract.ErrNotFound, fmt.Sprintf("queue: no WLM queue named %q; %s", ref.Name, hint),
		contract.ErrorInfo{Platform: aa.Platform, Op: "wlmQueues", Field: "queue"}, 0)
}

// AAAddWorkItem resolves the queue and adds one work item. WLM has no
// reference to deduplicate on, so an add whose outcome is unknown is
// Ambiguous unless the input is idempotent, and so is a retry that finds
// an earlier attempt's acknowledged "sent" mark.
func (a *AutomationAnywhere) AAAddWorkItem(ctx context.Context, in contract.AddWorkItemInput) (contract.AddWorkItemResult, error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return contract.AddWorkItemResult{}, err
	}
	if err := in.Validate(); err != nil {
		return contract.AddWorkItemResult{}, err
	}
	if m, ok := earlierMark(ctx); ok && !in.Idempotent {
		return contract.AddWorkItemResult{}, ambiguousRetry(ctx, m, aa.Platform, "addWorkItem", "add work item",
			"look in the WLM queue "+strconv.Quote(in.Queue)+" for a work item with this workflow's data")
	}
	var res contract.AddWorkItemResult
	sent := false
	err = a.withToken(ctx, in.Profile, func(token string) error {
		qid, err := resolveWorkQueue(ctx, c, token, in.Queue)
		if err != nil {
			return err
		}
		if !in.Idempotent {
			if _, err := markSent(ctx, a.Marks); err != nil {
				return err
			}
		}
		sent = true
		it, err := c.AddWorkItem(ctx, token, qid, in.Data)
		if err != nil {
			if notRun(err) && !in.Idempotent {
				clearMark(ctx, a.Marks)
			}
			return err
		}
		res = workItemResult(it)
		return nil
	})
	return res, classify(err, callKind{cachedToken: true, unsafe: sent && !in.Idempotent})
}

func workItemResult(it aa.WorkItem) contract.AddWorkItemResult {
	return contract.AddWorkItemResult{ID: it.ID, QueueID: it.QueueID, Status: it.Status, Result: it.Result, Error: it.Error, Data: it.Data}
}

// WaitWorkItemInput waits for a work item to be processed.
type WaitWorkItemInput struct {
	Profile     string        `json:"profile"`
	QueueID     string        `json:"queueId"`
	ID          string        `json:"id"`
	PollInitial time.Duration `json:"pollInitial,omitempty"` // default 2s
	PollMax     time.Duration `json:"pollMax,omitempty"`     // default 30s
}

// AAWaitWorkItem polls the work item by id within the polling budget until
// it is COMPLETED or FAILED (or another terminal status). An item the queue
// does not list yet is polled again, like a new deployment.
func (a *AutomationAnywhere) AAWaitWorkItem(ctx context.Context, in WaitWorkItemInput) (contract.AddWorkItemResult, error) {
	c, err := a.Registry.AA(in.Profile)
	if err != nil {
		return contract.AddWorkItemResult{}, err
	}
	var last *aa.WorkItem
	check := func(ctx context.Context) (string, bool, error) {
		var it *aa.WorkItem
		err := a.withToken(ctx, in.Profile, func(token string) (err error) {
			it, err = c.WorkItem(ctx, token, in.QueueID, in.ID)
			return err
		})
		if err != nil {
			return "", false, classify(err, callKind{cachedToken: true})
		}
		if it == nil {
			return "NOT_LISTED", false, nil
		}
		if last == nil || last.Status != it.Status {
			activity.GetLogger(ctx).Info("work item status", "queueId", in.QueueID, "id", in.ID, "status", it.Status)
		}
		last = it
		return it.Status, aa.IsTerminalWorkItem(it.Status), nil
	}
	o := pollOptions{profile: in.Profile, initial: orDefault(in.PollInitial, 2*time.Second),
		max: orDefault(in.PollMax, 30*time.Second), budget: a.Budget, maxFails: 20}
	if err := pollUntil(ctx, o, check); err != nil {
		return contract.AddWorkItemResult{}, err
	}
	res := workItemResult(*last)
	res.Status = aa.NormalizeWorkItemStatus(res.Status)
	return res, nil
}
