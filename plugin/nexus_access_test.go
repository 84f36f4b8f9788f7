package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/profile"
)

func accessProfiles() []profile.Profile {
	return []profile.Profile{
		{Name: "cr", Kind: profile.KindAA, URL: "https://cr.example.com", Username: "u", APIKey: "aa-key-1"},
		{Name: "cr-secret-team", Kind: profile.KindAA, URL: "https://cr2.example.com", Username: "u", APIKey: "aa-key-2"},
		{Name: "orch", Kind: profile.KindOrchestrator, URL: "https://orch.example.com", ClientID: "id", ClientSecret: "orch-secret-1"},
		{Name: "billing-orch", Kind: profile.KindOrchestrator, URL: "https://orch2.example.com", ClientID: "id", ClientSecret: "orch-secret-2"},
	}
}

// A caller may use only its endpoint queue's profiles: anything else is
// Forbidden naming that profile and queue and no other profile; a kind
// mismatch lists only the queue's profiles.
func TestNexusAccessByQueue(t *testing.T) {
	p, err := New(Options{Profiles: accessProfiles(), TaskQueue: "rpaflow", NexusQueues: []profile.NexusQueue{
		{TaskQueue: "rpaflow-orders", Profiles: []string{"cr", "orch"}},
		{TaskQueue: "rpaflow-billing", Profiles: []string{"billing-orch"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	others := []string{"cr-secret-team", "billing-orch"}
	for _, c := range []struct {
		queue, profile string
		kind           profile.Kind
		want           contract.ErrorType
		msg            string
	}{
		{"rpaflow-orders", "cr", profile.KindAA, "", ""},
		{"rpaflow-orders", "orch", "", "", ""},
		{"rpaflow-orders", "billing-orch", profile.KindOrchestrator, contract.ErrForbidden, `profile "billing-orch" is not allowed on Nexus task queue "rpaflow-orders"`},
		{"rpaflow-orders", "cr-secret-team", profile.KindAA, contract.ErrForbidden, `profile "cr-secret-team" is not allowed on Nexus task queue "rpaflow-orders"`},
		{"rpaflow-orders", "nope", profile.KindAA, contract.ErrForbidden, `profile "nope" is not allowed`},
		{"rpaflow-orders", "orch", profile.KindAA, contract.ErrInvalidInput, "automationanywhere profiles this endpoint may use: cr"},
		{"rpaflow-billing", "orch", profile.KindOrchestrator, contract.ErrForbidden, `on Nexus task queue "rpaflow-billing"`},
		{"rpaflow", "cr", profile.KindAA, contract.ErrForbidden, `on Nexus task queue "rpaflow"`}, // the main queue is not listed
	} {
		err := p.nexusAccess(c.queue, c.profile, c.kind)
		if got := contract.TypeOf(err); got != c.want || c.msg != "" && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s on %s: %v (%s), want %s containing %q", c.profile, c.queue, err, got, c.want, c.msg)
			continue
		}
		if err == nil {
			continue
		}
		for _, o := range others {
			if o != c.profile && strings.Contains(err.Error(), o) {
				t.Errorf("%s on %s: the refusal names another profile %q: %v", c.profile, c.queue, o, err)
			}
		}
		if c.want == contract.ErrForbidden && contract.ErrForbidden.Retryable(true) {
			t.Error("Forbidden is retryable")
		}
	}
}

// Without queues every profile serves every caller, as before.
func TestNexusAccessWithoutQueues(t *testing.T) {
	p, err := New(Options{Profiles: accessProfiles(), Nexus: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.nexusAccess("rpaflow", "cr-secret-team", profile.KindAA); err != nil {
		t.Error(err)
	}
	err = p.nexusAccess("rpaflow", "nope", profile.KindOrchestrator)
	if contract.TypeOf(err) != contract.ErrInvalidInput || !strings.Contains(err.Error(), "billing-orch, orch") {
		t.Errorf("unknown profile: %v, want InvalidInput listing the Orchestrator profiles", err)
	}
}

func TestNexusQueuesOptionsChecked(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Profiles: accessProfiles(), NexusQueues: []profile.NexusQueue{{TaskQueue: "q", Profiles: []string{"cr"}}}}, "TaskQueue is empty"},
		{Options{Profiles: accessProfiles(), TaskQueue: "rpaflow", NexusQueues: []profile.NexusQueue{{TaskQueue: "q", Profiles: []string{"zz"}}}}, `allows profile "zz", which is not configured`},
		{Options{Profiles: accessProfiles(), TaskQueue: "rpaflow", NexusQueues: []profile.NexusQueue{{TaskQueue: "q", Profiles: []string{"cr"}}, {TaskQueue: "q", Profiles: []string{"orch"}}}}, "listed twice"},
	} {
		if _, err := New(c.o); err == nil || !strings.Contains(err.Error(), "NexusQueues") && !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.o.NexusQueues, err, c.want)
		}
	}
}

// sessionStatus carries no platform text across the boundary.
func TestCrossingStatusDropsLastError(t *testing.T) {
	st := crossingStatus(contract.SessionStatus{Profile: "cr", State: "backoff", LastError: "user bot-runner@acme refused by cr.internal", LastErrorType: contract.ErrUnavailable,
		Expiry: time.Unix(100, 0), ConsecutiveFailures: 2})
	if st.LastError != "" || st.LastErrorType != contract.ErrUnavailable || st.ConsecutiveFailures != 2 || st.Profile != "cr" {
		t.Errorf("crossing status = %+v", st)
	}
}

// Across Nexus a pool's status keeps its totals but lists only the
// caller's own fairness keys: its endpoint's queue and the keys under it.
func TestCrossingPoolStatusShowsOnlyTheCallersKeys(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	st := contract.PoolStatus{Profile: "cr", Pool: "apitask", Limit: 4, InUse: 4, Holders: 4, Waiting: 9, Oldest: at,
		Queues: []contract.PoolKeyQueue{
			{Priority: 1, Key: "rpaflow-orders/urgent", Waiting: 1, Oldest: at},
			{Priority: 3, Key: "rpaflow-orders", Waiting: 2, Oldest: at},
			{Priority: 3, Key: "rpaflow-orders-eu", Waiting: 1, Oldest: at},
			{Priority: 3, Key: "rpaflow-billing", Waiting: 3, Oldest: at},
			{Priority: 3, Key: "cr", Waiting: 2, Oldest: at},
		}}
	got := crossingPoolStatus(st, "rpaflow-orders")
	var keys []string
	for _, q := range got.Queues {
		keys = append(keys, q.Key)
	}
	if strings.Join(keys, ",") != "rpaflow-orders/urgent,rpaflow-orders" || got.Waiting != 9 || got.InUse != 4 || !got.Oldest.Equal(at) {
		t.Errorf("orders sees keys %v, totals waiting %d in use %d; want its two keys and the totals", keys, got.Waiting, got.InUse)
	}
	if got := crossingPoolStatus(st, "rpaflow-audit"); got.Queues != nil || got.Waiting != 9 {
		t.Errorf("a caller with nothing queued sees %+v, want no queues and the totals", got)
	}
	if st.Queues[4].Key != "cr" {
		t.Error("crossingPoolStatus changed the status it was given")
	}
}
