package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/simenv"
	aa "github.com/rpaflow/rpaflow/providers/automationanywhere"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/session"
	"github.com/rpaflow/rpaflow/test/gate"
	"github.com/rpaflow/rpaflow/test/proc"
	"github.com/rpaflow/rpaflow/test/teststack"
)

const (
	queue = "rpaflow"
	// Several single-session Control Room users, one profile each: a second
	// login of any of them would end its first session.
	aaUsers = 6
	// Tokens short enough to be renewed during every scenario, long enough
	// (renewal at 45 s, 15 s before expiry) to ride out a failover.
	tokenLifetime = time.Minute
	taskLatency   = 4 * time.Second
	workers       = 3
)

func aaProfile(i int) string { return fmt.Sprintf("a%d", i+1) }
func aaUser(i int) string    { return fmt.Sprintf("cluster-user-%d", i+1) }
func aaKey(i int) string     { return fmt.Sprintf("clusterApiKey%02d%s", i+1, strings.Repeat("0", 25)) }

// world is the cluster's rpaflow side: simulators behind a counting gate,
// three worker processes and a client with the codec.
type world struct {
	t       *testing.T
	Sims    *simenv.Sims
	Gate    *gate.Gate
	SimURL  string
	Client  client.Client
	Reads   *session.Temporal
	env     map[string]string
	mu      sync.Mutex
	workers [workers]*proc.Worker
}

func newWorld(t *testing.T) *world {
	ao := aasim.DefaultOptions()
	ao.TokenLifetime = tokenLifetime
	ao.APITasks = append(ao.APITasks, aasim.APITask{FileID: 4711, Path: echoTaskPath, ConcurrencyLimit: 1000,
		Inputs: []string{"key"}, Latency: taskLatency,
		Run: func(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
			return map[string]botvalue.Value{"State": botvalue.Str("ran:" + in["key"].String)}, nil
		}})
	extra := map[string]string{"RPAFLOW_LOG_FORMAT": "json"}
	profiles := []string{"cr", "orch", "hub"}
	for i := range aaUsers {
		ao.Users = append(ao.Users, aasim.User{ID: 100 + i, Username: aaUser(i), APIKey: aaKey(i)})
		p := aaProfile(i)
		profiles = append(profiles, p)
		for k, v := range map[string]string{"KIND": "automationanywhere", "URL": teststack.SimURLPlaceholder, "ALLOW_HTTP": "true",
			"USERNAME": aaUser(i), "API_KEY": aaKey(i)} {
			extra[config.EnvVar(p, k)] = v
		}
	}
	extra["RPAFLOW_PROFILES"] = strings.Join(profiles, ",")
	sims := simenv.New(simenv.Options{AA: &ao, OrchestratorTokenLifetime: tokenLifetime})
	g := gate.New(sims, "key")
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	w := &world{t: t, Sims: sims, Gate: g, SimURL: srv.URL}
	w.env = teststack.Env(teststack.Options{HostPort: tc.Frontend, Namespace: namespace, TaskQueue: queue, KeyID: "cluster",
		LogLevel: "info", Extra: extra}, srv.URL)

	var err error
	if w.Client, err = teststack.Dial(w.env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Client.Close)
	w.Reads = &session.Temporal{Client: w.Client, TaskQueue: queue}
	for i := range workers {
		w.startWorker(i)
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for i := range workers {
			if p := w.worker(i); p != nil {
				wg.Add(1)
				go func() { defer wg.Done(); _ = p.Stop(45 * time.Second) }()
			}
		}
		wg.Wait()
	})
	return w
}

const echoTaskPath = `Automation Anywhere\Bots\Cluster Echo Task`

func (w *world) worker(i int) *proc.Worker {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.workers[i]
}

// startWorker starts worker slot i (again) and waits until it polls.
func (w *world) startWorker(i int) {
	t := w.t
	t.Helper()
	name := fmt.Sprintf("rpaflow-worker-%d", i+1)
	p, err := proc.StartWorker(name, filepath.Join(workDir, name+".log"), workerBin, w.env)
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.workers[i] = p
	w.mu.Unlock()
}

// codecEndpoint is a live worker's /codec.
func (w *world) codecEndpoint() string {
	for i := range workers {
		if p := w.worker(i); p != nil && !p.Exited() {
			return "http://" + p.CodecAddr + "/codec"
		}
	}
	w.t.Fatal("no live worker for the codec endpoint")
	return ""
}

// cli runs the temporal CLI against the cluster and returns stdout.
func (w *world) cli(ctx context.Context, args ...string) (string, error) {
	args = append(args, "--address", tc.Frontend, "--namespace", namespace)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, temporalCLI, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("temporal %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// errType is the application error type inside err ("" if none).
func errType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}

// sessionWorkerPid is the process id of the worker that completed the
// session's latest workflow task (the SDK's default identity is pid@host).
func (w *world) sessionWorkerPid(ctx context.Context, id string) (int, error) {
	it := w.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	pid := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return 0, err
		}
		if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			p, _, _ := strings.Cut(a.GetIdentity(), "@")
			pid, _ = strconv.Atoi(p)
		}
	}
	if pid == 0 {
		return 0, fmt.Errorf("%s: no completed workflow task", id)
	}
	return pid, nil
}

// checkLogins fails unless every cluster user logged in once, apart from
// logins the session was forced into: its token expired before the
// session could renew it. AA cannot refresh an expired token, so then the
// only way on is a login. Such a login is allowed only with the evidence:
// its session logged it with reason "expired", and its history has no
// workflow task that started at or after the renewal's due time and
// completed before the expiry (such a task runs the loop, which
// refreshes), so Temporal could not run the session while the token could
// still be refreshed.
// It returns how many users failed and how many forced logins there were.
func (w *world) checkLogins(t *testing.T) (bad, forced int) {
	expired, err := expiredLogins()
	if err != nil {
		t.Errorf("the sessions' logins, from the workers' logs: %v", err)
	}
	for i := range aaUsers {
		n := w.Gate.Logins(aaUser(i))
		allowed := 0
		for _, l := range expired[aaProfile(i)] {
			if err := w.sessionCouldNotRun(l); err != nil {
				t.Errorf("profile %s logged in again (generation %d) after its token expired, but not because Temporal could not run its session: %v",
					aaProfile(i), l.Generation, err)
				continue
			}
			allowed++
		}
		if n != 1+allowed {
			bad++
			t.Errorf("Control Room user %s logged in %d times, want 1 in total (plus %d forced by a token that expired while Temporal could not run its session)",
				aaUser(i), n, allowed)
			continue
		}
		forced += allowed
	}
	return bad, forced
}

// renewal is a session's log line of a new token; an expiredLogin one of
// a login after its token expired.
type renewal struct {
	Profile        string    `json:"profile"`
	Generation     int       `json:"generation"`
	Outcome        string    `json:"outcome"`
	Expiry         time.Time `json:"expiry"`
	WorkerID       string    `json:"WorkerID"`
	Reason         string    `json:"reason"`
	PreviousExpiry string    `json:"previousExpiry"`
	RenewalDue     string    `json:"renewalDue"`
}

type expiredLogin = renewal

// expiredLogins reads the workers' logs for the logins the sessions made
// because their token had expired, one per profile and generation (a
// workflow task that logged one and was then lost runs it again). A login
// is not forced if the worker that made it had renewed the token before
// (the same generation, logged by a workflow task whose completion the
// server lost): it holds that token and must use it.
func expiredLogins() (map[string][]expiredLogin, error) {
	files, err := filepath.Glob(filepath.Join(workDir, "rpaflow-worker-*.log"))
	if err != nil {
		return nil, err
	}
	var all []renewal
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for line := range bytes.Lines(b) {
			if !bytes.Contains(line, []byte(`"session token renewed"`)) {
				continue
			}
			var r renewal
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, fmt.Errorf("%s: %v", f, err)
			}
			all = append(all, r)
		}
	}
	seen := map[string]map[int]bool{}
	out := map[string][]expiredLogin{}
	for _, l := range all {
		if l.Reason != "expired" {
			continue
		}
		for _, r := range all {
			exp, _ := time.Parse(time.RFC3339Nano, l.PreviousExpiry)
			if r.Reason != "expired" && r.Profile == l.Profile && r.Generation == l.Generation && r.WorkerID == l.WorkerID &&
				r.Expiry.After(exp) && !r.Expiry.Equal(l.Expiry) { // the same expiry: this login's own token, reused
				return nil, fmt.Errorf("profile %s: worker %s logged in (generation %d) after the token expired at %s although it had renewed it (%s, valid until %s) in a workflow task whose completion was lost",
					l.Profile, l.WorkerID, l.Generation, l.PreviousExpiry, r.Outcome, r.Expiry.Format(time.RFC3339))
			}
		}
		if seen[l.Profile] == nil {
			seen[l.Profile] = map[int]bool{}
		}
		if !seen[l.Profile][l.Generation] {
			seen[l.Profile][l.Generation] = true
			out[l.Profile] = append(out[l.Profile], l)
		}
	}
	return out, nil
}

// sessionCouldNotRun checks, in the session's history, that no workflow
// task that started at or after the renewal's due time completed before
// the token's expiry.
func (w *world) sessionCouldNotRun(l expiredLogin) error {
	due, err := time.Parse(time.RFC3339Nano, l.RenewalDue)
	if err != nil {
		return fmt.Errorf("renewalDue %q: %v", l.RenewalDue, err)
	}
	exp, err := time.Parse(time.RFC3339Nano, l.PreviousExpiry)
	if err != nil {
		return fmt.Errorf("previousExpiry %q: %v", l.PreviousExpiry, err)
	}
	if !due.Before(exp) {
		return fmt.Errorf("its renewal was due at %s, not before the expiry at %s", due.Format(time.RFC3339Nano), l.PreviousExpiry)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := w.Client.GetWorkflowHistory(ctx, contract.AASessionID(l.Profile), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	started := map[int64]time.Time{} // workflow task started event → its time, the workflow's now
	first := true
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return err
		}
		at := ev.GetEventTime().AsTime()
		if first && at.After(due) {
			return fmt.Errorf("the session's run began at %s, after the renewal was due: its history does not cover it", at.Format(time.RFC3339Nano))
		}
		first = false
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
			started[ev.GetEventId()] = at
		}
		// A task that started at or after the due time ran the loop's
		// refresh; completed before the expiry, the session had its chance.
		if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil && at.Before(exp) {
			if s, ok := started[a.GetStartedEventId()]; ok && !s.Before(due) {
				return fmt.Errorf("a workflow task started at %s and completed at %s, after the renewal was due (%s) and before the token expired (%s)",
					s.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), l.RenewalDue, l.PreviousExpiry)
			}
		}
	}
	return nil
}

// consumers read every cluster session's token the way rpaflow's readers
// do, every 2 s until ctx ends, and check each with the Control Room.
type consumers struct {
	served, expired, rejected, errs atomic.Int32
	firstErr                        atomic.Value
	wg                              sync.WaitGroup
}

func (w *world) startConsumers(ctx context.Context) *consumers {
	c := &consumers{}
	for i := range aaUsers {
		hc, err := aa.New(aa.Options{BaseURL: w.SimURL, Username: aaUser(i), APIKey: aaKey(i), AllowHTTP: true})
		if err != nil {
			w.t.Fatal(err)
		}
		ref := session.ControlRoom(aaProfile(i))
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for ctx.Err() == nil {
				rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				res, err := w.Reads.Token(rctx, ref, 5*time.Second)
				at := time.Now()
				ok := false
				if err == nil {
					ok, err = hc.Validate(rctx, res.Token)
				}
				cancel()
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					// Unavailable during a failover is expected; a bad token is not.
					c.errs.Add(1)
					c.firstErr.CompareAndSwap(nil, err.Error())
				default:
					c.served.Add(1)
					if !res.Expiry.After(at) {
						c.expired.Add(1)
					}
					if !ok {
						c.rejected.Add(1)
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
			}
		}()
	}
	return c
}
