package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Capacity pools. A profile may declare pools (RPAFLOW_<NAME>_POOLS); a
// deployment that falls in a pool draws a slot from the pool's workflow
// (one per profile and pool) before it calls the platform and gives it back
// when the platform run is over.
const (
	// PoolWorkflow keeps one pool's leases and queue.
	PoolWorkflow = "CapacityPool"
	// UpdatePoolAcquire queues a deployment (idempotent per holder run);
	// it answers at once, granted or queued. A queued holder is granted
	// later by the SignalPoolGrant signal.
	UpdatePoolAcquire = "acquire"
	// SignalPoolAcquire queues deployments too ([]PoolAcquireRequest;
	// idempotent per holder run), without an answer: every grant comes by
	// SignalPoolGrant. A signal is not limited by the server's cap on a
	// workflow's in-flight updates, and a pool takes in all signals that
	// wait in one task.
	SignalPoolAcquire = "poolAcquire"
	// SignalPoolGrant is sent by the pool to a queued holder's run.
	SignalPoolGrant = "poolGrant"
	// SignalPoolRelease gives a slot back, or leaves the queue.
	SignalPoolRelease = "poolRelease"
	// PoolAPITask is the pool of a Control Room profile that limits API
	// Task executions (DeployAPITask).
	PoolAPITask = "apitask"
)

// PoolID is the workflow ID of a profile's pool.
func PoolID(profile, pool string) string { return "rpaflow-pool:" + profile + ":" + pool }

// Admission priorities: 1 is served first, as on Temporal's own scale.
const (
	MinAdmissionPriority     = 1
	MaxAdmissionPriority     = 5
	DefaultAdmissionPriority = 3
)

// Admission is how a deployment waits for a pool slot. It is ignored when
// the deployment falls in no pool.
type Admission struct {
	// Priority 1 (first) to 5; default 3.
	Priority int `json:"priority,omitempty"`
	// FairnessKey shares the slots of one priority round-robin (or by the
	// pool's weights) between keys, FIFO within a key; default the
	// profile. Through Nexus the default is the endpoint's task queue, and
	// a key given lives under it ("<queue>/<key>").
	FairnessKey string `json:"fairnessKey,omitempty"`
	// Pool picks the pool when the default is ambiguous (a DeployBot on a
	// profile with several runner pools) or to draw from another one.
	Pool string `json:"pool,omitempty"`
}

// Validate checks the values that need no configuration; an unknown pool
// is reported by the deployment, which knows the profile's pools.
func (a *Admission) Validate() error {
	if a == nil {
		return nil
	}
	if a.Priority != 0 && (a.Priority < MinAdmissionPriority || a.Priority > MaxAdmissionPriority) {
		return InvalidInputError("admission.priority", "%d is out of range; give 1 (served first) to 5, or leave it out for 3", a.Priority)
	}
	if len(a.FairnessKey) > 200 {
		return InvalidInputError("admission.fairnessKey", "is %d characters long; give at most 200", len(a.FairnessKey))
	}
	return nil
}

// PriorityOr returns the priority, or the default when unset.
func (a *Admission) PriorityOr() int {
	if a == nil || a.Priority == 0 {
		return DefaultAdmissionPriority
	}
	return a.Priority
}

// TaskPriority is the Temporal task priority of a deployment with this
// admission, on the same scale: a priority-1 deployment's workflow and
// activity tasks are dispatched ahead of a backlog of others, as its pool
// request is. Without a priority it is unset (inherited, or Temporal's
// default, which is 3 too).
func (a *Admission) TaskPriority() temporal.Priority {
	if a == nil || a.Priority == 0 {
		return temporal.Priority{}
	}
	return temporal.Priority{PriorityKey: a.Priority}
}

// StartPriority is the Temporal priority to start a deployment input with:
// its admission's (TaskPriority). in is a deployment input (value or
// pointer) or its JSON object; anything else has none.
func StartPriority(in any) temporal.Priority {
	var a *Admission
	switch v := in.(type) {
	case DeployAPITaskInput:
		a = v.Admission
	case *DeployAPITaskInput:
		a = v.Admission
	case DeployBotInput:
		a = v.Admission
	case *DeployBotInput:
		a = v.Admission
	case StartJobInput:
		a = v.Admission
	case *StartJobInput:
		a = v.Admission
	case map[string]json.RawMessage:
		var x Admission
		if json.Unmarshal(v["admission"], &x) == nil {
			a = &x
		}
	}
	if a.Validate() != nil {
		return temporal.Priority{} // the deployment reports it
	}
	return a.TaskPriority()
}

// PoolTaskPriority is the Temporal priority of the pools' own workflows:
// every grant goes through a pool's workflow task, so it must not wait
// behind a backlog of deployments' tasks.
var PoolTaskPriority = temporal.Priority{PriorityKey: MinAdmissionPriority}

// PoolConfig is one pool of a profile.
type PoolConfig struct {
	Name  string `json:"name"`
	Limit int    `json:"limit"`
	// Weights share slots between fairness keys (default weight 1), in
	// the order configured.
	Weights []KeyWeight `json:"weights,omitempty"`
}

// KeyWeight is one fairness key's weight.
type KeyWeight struct {
	Key    string `json:"key"`
	Weight int    `json:"weight"`
}

// Weight returns key's weight (1 when not configured).
func (c PoolConfig) Weight(key string) int {
	for _, w := range c.Weights {
		if w.Key == key {
			return w.Weight
		}
	}
	return 1
}

// ParsePools reads RPAFLOW_<NAME>_POOLS: comma-separated entries
// name=limit, each optionally followed by ;weights=key:w|key:w, e.g.
// "apitask=2" or "apitask=10;weights=orders:2|billing:1,Finance/Invoices=3".
// Names may hold any character but ',', ';', '=' and control characters;
// keys any but ',', ';', '|' and ':'.
func ParsePools(raw string) ([]PoolConfig, error) {
	var out []PoolConfig
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	for i, entry := range strings.Split(raw, ",") {
		parts := strings.Split(entry, ";")
		name, limit, ok := strings.Cut(parts[0], "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("entry %d %q is not name=limit; write e.g. apitask=2", i+1, strings.TrimSpace(entry))
		}
		if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("pool %q has a control character in its name; remove it", name)
		}
		n, err := strconv.Atoi(strings.TrimSpace(limit))
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("pool %q: limit %q is not a number from 1 to 10000", name, strings.TrimSpace(limit))
		}
		if slices.ContainsFunc(out, func(c PoolConfig) bool { return c.Name == name }) {
			return nil, fmt.Errorf("pool %q is listed twice; list each pool once", name)
		}
		c := PoolConfig{Name: name, Limit: n}
		for _, opt := range parts[1:] {
			k, v, _ := strings.Cut(opt, "=")
			if strings.TrimSpace(k) != "weights" {
				return nil, fmt.Errorf("pool %q: option %q is not known; the only option is weights=key:w|key:w", name, strings.TrimSpace(opt))
			}
			for _, kw := range strings.Split(v, "|") {
				key, w, ok := strings.Cut(kw, ":")
				key = strings.TrimSpace(key)
				wn, err := strconv.Atoi(strings.TrimSpace(w))
				if !ok || key == "" || err != nil || wn < 1 || wn > 1000 {
					return nil, fmt.Errorf("pool %q: weight %q is not key:weight with a weight from 1 to 1000", name, strings.TrimSpace(kw))
				}
				if slices.ContainsFunc(c.Weights, func(x KeyWeight) bool { return x.Key == key }) {
					return nil, fmt.Errorf("pool %q: key %q has two weights; give one", name, key)
				}
				c.Weights = append(c.Weights, KeyWeight{Key: key, Weight: wn})
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// PoolInput starts a pool workflow; State carries it across continue-as-new.
type PoolInput struct {
	Profile string     `json:"profile"`
	Pool    PoolConfig `json:"pool"`
	State   *PoolState `json:"state,omitempty"`
}

// PoolHolder is the run of a deployment that holds or waits for slots.
type PoolHolder struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

// PoolAcquireRequest is the acquire update's argument.
type PoolAcquireRequest struct {
	Holder   PoolHolder `json:"holder"`
	Priority int        `json:"priority"`
	Key      string     `json:"key"`
	Slots    int        `json:"slots"`
	// Pool is the requesting worker's configuration of the pool; the pool
	// follows the latest one it is sent.
	Pool PoolConfig `json:"pool"`
	// Round is the refusals the holder has had (acquire signal): a pool
	// that queues it afresh grants that round.
	Round int `json:"round,omitempty"`
}

// PoolAcquireResult answers the acquire update.
type PoolAcquireResult struct {
	Granted bool `json:"granted"`
	// Position is the number of requests ahead in the queue (when queued).
	Position int `json:"position,omitempty"`
	// Round counts the capacity refusals of this holder: a grant signal of
	// an earlier round is stale.
	Round int `json:"round,omitempty"`
}

// Release outcomes.
const (
	ReleaseDone      = "done"      // the platform run is over
	ReleaseCancelled = "cancelled" // left the queue, or gave the slot back unused
	ReleaseRefused   = "refused"   // the platform said it had no capacity: requeue at the head
	// ReleasePending keeps the slot: the run is on the platform but waits
	// there for capacity (a job Pending for a robot), so the pool shrinks.
	ReleasePending = "pending"
)

// PoolRelease is the release signal's argument.
type PoolRelease struct {
	Holder  PoolHolder `json:"holder"`
	Outcome string     `json:"outcome"`
}

// PoolGrant is the grant signal's argument.
type PoolGrant struct {
	Pool  string `json:"pool"`
	Round int    `json:"round,omitempty"`
}

// PoolRequest is a holder's place in a pool, queued or granted.
type PoolRequest struct {
	Holder    PoolHolder `json:"holder"`
	Priority  int        `json:"priority"`
	Key       string     `json:"key"`
	Slots     int        `json:"slots"`
	Seq       int64      `json:"seq"`
	Enqueued  time.Time  `json:"enqueued"`
	Granted   time.Time  `json:"granted,omitzero"`
	NotBefore time.Time  `json:"notBefore,omitzero"`
	Refusals  int        `json:"refusals,omitempty"`
	// Pending: the holder's run waits on the platform for capacity.
	Pending bool `json:"pending,omitempty"`
}

// PoolClock is the fair-share clock of one key at one priority.
type PoolClock struct {
	Priority int    `json:"priority"`
	Key      string `json:"key"`
	V        int64  `json:"v"`
}

// PoolState is a pool's whole state.
type PoolState struct {
	Config    PoolConfig    `json:"config"`
	Effective int           `json:"effective"`
	Seq       int64         `json:"seq"`
	Holders   []PoolRequest `json:"holders,omitempty"`
	Waiting   []PoolRequest `json:"waiting,omitempty"`
	Clocks    []PoolClock   `json:"clocks,omitempty"`
	Virtual   []int64       `json:"virtual,omitempty"` // per priority, the start tag of the last grant
	Counts    PoolCounts    `json:"counts"`
}

// PoolCounts are a pool's totals since it started.
type PoolCounts struct {
	Granted   int64 `json:"granted"`
	Released  int64 `json:"released"`
	Refused   int64 `json:"refused"`   // capacity refusals the platform answered
	Pending   int64 `json:"pending"`   // runs the platform took but left waiting for capacity
	Cancelled int64 `json:"cancelled"` // left the queue before a grant
	Reclaimed int64 `json:"reclaimed"` // given back because the holder's run had ended
}

// PoolStatusInput asks for a pool's status (the Nexus poolStatus operation).
type PoolStatusInput struct {
	Profile string `json:"profile"`
	Pool    string `json:"pool"`
}

// Validate checks the input.
func (in PoolStatusInput) Validate() error {
	if err := ValidateProfile(in.Profile); err != nil {
		return err
	}
	if strings.TrimSpace(in.Pool) == "" {
		return InvalidInputError("pool", "is empty; give a pool name from RPAFLOW_%s_POOLS, e.g. %q", strings.ToUpper(strings.ReplaceAll(in.Profile, "-", "_")), PoolAPITask)
	}
	return nil
}

// PoolStatus answers the pool's status query.
type PoolStatus struct {
	Profile   string `json:"profile"`
	Pool      string `json:"pool"`
	Limit     int    `json:"limit"`
	Effective int    `json:"effective"` // below Limit after capacity refusals
	InUse     int    `json:"inUse"`
	Holders   int    `json:"holders"`
	// PlatformPending are the holders whose run the platform left waiting
	// for capacity, until the run ends (they hold their slots).
	PlatformPending int            `json:"platformPending,omitempty"`
	Waiting         int            `json:"waiting"`
	Oldest          time.Time      `json:"oldestWaitSince,omitzero"`
	Queues          []PoolKeyQueue `json:"queues,omitempty"`
	Counts          PoolCounts     `json:"counts"`
}

// PoolKeyQueue is the queue of one fairness key at one priority.
type PoolKeyQueue struct {
	Priority int       `json:"priority"`
	Key      string    `json:"key"`
	Waiting  int       `json:"waiting"`
	Oldest   time.Time `json:"oldestWaitSince"`
}
