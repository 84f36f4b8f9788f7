package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/starter/cli"
)

// starter runs the starter's command line in-process with the stack's
// environment and client (the same code path as `go run ./starter`, minus
// the dial).
func (s *stack) starter(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	env := map[string]string{}
	for _, kv := range s.Config.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var out, errb bytes.Buffer
	r := &cli.Runner{
		Stdout: &out,
		Stderr: &errb,
		Env:    env,
		Connect: func(ctx context.Context, cfg *config.Config, _ zerolog.Logger) (cli.Conn, error) {
			opts, err := temporalclient.Options(cfg, nil, nil)
			if err != nil {
				return cli.Conn{}, err
			}
			return cli.Conn{Client: s.Client, Schedules: s.Client.ScheduleClient(), DataConverter: opts.DataConverter}, nil
		},
	}
	code = r.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func (s *stack) describeSchedule(t *testing.T, id string) cli.ScheduleView {
	t.Helper()
	code, stdout, stderr := s.starter(t, "schedule", "describe", "--id", id, "--json")
	if code != cli.ExitOK {
		t.Fatalf("describe %s: exit %d\n%s%s", id, code, stdout, stderr)
	}
	var o cli.Output
	var v cli.ScheduleView
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatalf("describe output: %v\n%s", err, stdout)
	}
	if err := json.Unmarshal(o.Result, &v); err != nil {
		t.Fatalf("describe result: %v\n%s", err, stdout)
	}
	return v
}

// A schedule created with the starter runs DeployAPITask every 2 seconds:
// the runs complete with the zip code's state, share one login, are named
// <schedule>-<time>; pausing stops new runs and deleting removes it.
func TestScheduleDeployAPITask(t *testing.T) {
	s := newStack(t, stackOptions{})
	const id = "it-zip-every-2s"
	code, stdout, stderr := s.starter(t, "schedule", "create", "--id", id, "--workflow", "deploy-api-task", "--profile", "cr",
		"--interval", "2s", "--note", "integration test", "--input", `{"botRepositoryPath":"`+strings.ReplaceAll(zipTask, `\`, `\\`)+`","botInput":{"iStrZipCode":"95134"}}`)
	if code != cli.ExitOK {
		t.Fatalf("create: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Cleanup(func() { s.starter(t, "schedule", "delete", "--id", id) })

	runID := regexp.MustCompile(`^` + regexp.QuoteMeta(id) + `-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
	completed := map[string]bool{}
	deadline := time.Now().Add(90 * time.Second)
	for len(completed) < 2 && time.Now().Before(deadline) {
		for _, a := range s.describeSchedule(t, id).Info.RecentActions {
			if completed[a.WorkflowID] {
				continue
			}
			if !runID.MatchString(a.WorkflowID) {
				t.Fatalf("run workflow ID %q is not <schedule>-<time>", a.WorkflowID)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			var res contract.DeployAPITaskResult
			err := s.Client.GetWorkflow(ctx, a.WorkflowID, a.RunID).Get(ctx, &res)
			cancel()
			if err != nil {
				t.Fatalf("scheduled run %s: %v", a.WorkflowID, err)
			}
			if got := res.BotOutput["State"]; got != "California" {
				t.Fatalf("scheduled run %s: botOutput.State = %v, want California", a.WorkflowID, got)
			}
			completed[a.WorkflowID] = true
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(completed) < 2 {
		t.Fatalf("%d scheduled runs completed within 90s, want at least 2", len(completed))
	}
	if got := s.Sims.AA.Counters().Get("login"); got != 1 {
		t.Errorf("logins = %d for %d scheduled runs, want 1 (one shared session)", got, len(completed))
	}

	// Listing is eventually consistent: wait for the schedule to appear.
	listed := false
	for end := time.Now().Add(20 * time.Second); !listed && time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		_, stdout, _ := s.starter(t, "schedule", "list")
		listed = strings.Contains(stdout, id) && strings.Contains(stdout, "DeployAPITask")
	}
	if !listed {
		t.Errorf("schedule list does not show %s", id)
	}

	if code, stdout, stderr := s.starter(t, "schedule", "pause", "--id", id, "--note", "maintenance"); code != cli.ExitOK {
		t.Fatalf("pause: exit %d\n%s%s", code, stdout, stderr)
	}
	paused := s.describeSchedule(t, id)
	if !paused.State.Paused || paused.State.Note != "maintenance" {
		t.Errorf("after pause: state %+v", paused.State)
	}
	time.Sleep(5 * time.Second) // two and a half intervals
	after := s.describeSchedule(t, id)
	if after.Info.NumActions != paused.Info.NumActions {
		t.Errorf("paused schedule took %d more actions", after.Info.NumActions-paused.Info.NumActions)
	}

	if code, stdout, stderr := s.starter(t, "schedule", "delete", "--id", id); code != cli.ExitOK {
		t.Fatalf("delete: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = s.starter(t, "schedule", "describe", "--id", id)
	if code != cli.ExitUsage || !strings.Contains(stderr, "no schedule "+id) {
		t.Errorf("describe after delete: exit %d, stderr %q", code, stderr)
	}
}
