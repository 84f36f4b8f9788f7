package activities_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/providers/automationanywhere/aasim"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

func startJob(t *testing.T, o *orchEnv, process, ref string) activities.JobRef {
	t.Helper()
	env := orchActivityEnv(o)
	val, err := env.ExecuteActivity(o.orch.OrchStartJob, contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: process, Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	var job activities.JobRef
	if err := val.Get(&job); err != nil {
		t.Fatal(err)
	}
	return job
}

func stopJob(t *testing.T, o *orchEnv, job activities.JobRef, grace time.Duration) contract.RunStop {
	t.Helper()
	env := orchActivityEnv(o)
	val, err := env.ExecuteActivity(o.orch.OrchStopJob, activities.StopJobInput{Profile: "orch", Job: job,
		Reason: contract.StopCancelled, Grace: grace, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var s contract.RunStop
	if err := val.Get(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOrchStopJob(t *testing.T) {
	t.Run("SoftStop ends it Stopped", func(t *testing.T) {
		o := newOrchEnv(t, 300*time.Millisecond, &activities.Budget{PerMinute: 60000})
		job := startJob(t, o, "LongRunning", "")
		s := stopJob(t, o, job, time.Minute)
		c := o.sim.Counters()
		if s.FinalStatus != "Stopped" || !s.Terminal || s.AlreadyFinished || len(s.Requests) != 1 || s.Requests[0] != "SoftStop" ||
			c.Get("stopJobs.SoftStop") != 1 || c.Get("stopJobs.Kill") != 0 || o.sim.Running() != 0 {
			t.Fatalf("stop %+v, counters %v", s, c.Snapshot())
		}
	})
	t.Run("Kill after the grace", func(t *testing.T) {
		o := newOrchEnv(t, 300*time.Millisecond, &activities.Budget{PerMinute: 60000})
		job := startJob(t, o, "Stubborn", "")
		s := stopJob(t, o, job, 200*time.Millisecond)
		c := o.sim.Counters()
		if s.FinalStatus != "Stopped" || !s.Terminal || len(s.Requests) != 2 || s.Requests[1] != "Kill" ||
			c.Get("stopJobs.SoftStop") != 1 || c.Get("stopJobs.Kill") != 1 {
			t.Fatalf("stop %+v, counters %v", s, c.Snapshot())
		}
	})
	t.Run("already finished", func(t *testing.T) {
		o := newOrchEnv(t, 300*time.Millisecond, &activities.Budget{PerMinute: 60000})
		job := startJob(t, o, "Invoices", "")
		o.clock.Advance(time.Minute)
		s := stopJob(t, o, job, time.Minute)
		if s.FinalStatus != "Successful" || !s.AlreadyFinished || len(s.Requests) != 0 || o.sim.Counters().Get("stopJobs.SoftStop") != 0 {
			t.Fatalf("stop %+v", s)
		}
	})
	t.Run("a stop under way is not repeated", func(t *testing.T) {
		// What a retried attempt meets after a worker crash.
		o := newOrchEnv(t, 300*time.Millisecond, &activities.Budget{PerMinute: 60000})
		job := startJob(t, o, "LongRunning", "")
		o.clock.Advance(time.Second)
		tok, err := o.client.Authenticate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := o.client.StopJobs(context.Background(), tok.Value, orchestrator.Folder{ID: 1, FullyQualifiedName: "Shared"}, orchestrator.SoftStop, job.ID); err != nil {
			t.Fatal(err)
		}
		s := stopJob(t, o, job, time.Minute)
		if s.FinalStatus != "Stopped" || o.sim.Counters().Get("stopJobs.SoftStop") != 1 {
			t.Fatalf("stop %+v, counters %v", s, o.sim.Counters().Snapshot())
		}
	})
}

func TestOrchFindJobs(t *testing.T) {
	o := newOrchEnv(t, 0, nil)
	a, b := startJob(t, o, "LongRunning", "PO-7"), startJob(t, o, "LongRunning", "PO-7")
	startJob(t, o, "LongRunning", "other")
	env := orchActivityEnv(o)
	val, err := env.ExecuteActivity(o.orch.OrchFindJobs, activities.FindJobsInput{Profile: "orch", Folder: "Shared", Reference: "PO-7"})
	if err != nil {
		t.Fatal(err)
	}
	var refs []activities.JobRef
	if err := val.Get(&refs); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].ID != b.ID || refs[1].ID != a.ID || refs[0].Folder != "Shared" {
		t.Fatalf("found %+v", refs)
	}
}

func stopDeployment(t *testing.T, e *aaEnv, id string) contract.RunStop {
	t.Helper()
	val, err := e.activityEnv(t).ExecuteActivity(e.cr.AAStopDeployment, activities.StopDeploymentInput{Profile: "cr",
		DeploymentID: id, Reason: contract.StopTimedOut, Grace: 20 * time.Second, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var s contract.RunStop
	if err := val.Get(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAAStopDeployment(t *testing.T) {
	e := newAAEnv(t, aaSetup{sim: func(o *aasim.Options) {
		o.Bots[0].Deployed, o.Bots[0].Running = 0, 0 // the invoice bot ends at once
	}})
	deploy := func(bot int64) string {
		val, err := e.activityEnv(t).ExecuteActivity(e.cr.AADeployBot, activities.DeployInput{DeployBotInput: contract.DeployBotInput{
			Profile: "cr", BotID: bot, RunAsUserIDs: []int64{aasim.DemoUserID}}})
		if err != nil {
			t.Fatal(err)
		}
		var id string
		if err := val.Get(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	long := deploy(aasim.LongBotID)
	s := stopDeployment(t, e, long)
	c := e.sim.Counters()
	if s.FinalStatus != "RUN_ABORTED" || !s.Terminal || s.AlreadyFinished || s.ExecutionID == "" || s.ExecutionID == long ||
		s.Reason != contract.StopTimedOut || c.Get("activity.manage.stop") != 1 || e.sim.Running() != 0 {
		t.Fatalf("stop %+v, counters %v", s, c.Snapshot())
	}
	s = stopDeployment(t, e, deploy(aasim.InvoiceBotID))
	if s.FinalStatus != "COMPLETED" || !s.AlreadyFinished || len(s.Requests) != 0 || c.Get("activity.manage.stop") != 1 {
		t.Fatalf("stop %+v, counters %v", s, c.Snapshot())
	}
}

// A stop the Control Room refuses (400) is asked again until the grace
// ends, then reported as not terminal; a 403 fails as Forbidden.
func TestAAStopDeploymentRefused(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden} {
		e := newAAEnv(t, aaSetup{wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v3/activity/manage" {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(`{"code":"refused","message":"not now"}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}})
		val, err := e.activityEnv(t).ExecuteActivity(e.cr.AADeployBot, activities.DeployInput{DeployBotInput: contract.DeployBotInput{
			Profile: "cr", BotID: aasim.LongBotID, RunAsUserIDs: []int64{aasim.DemoUserID}}})
		if err != nil {
			t.Fatal(err)
		}
		var id string
		_ = val.Get(&id)
		val, err = e.activityEnv(t).ExecuteActivity(e.cr.AAStopDeployment, activities.StopDeploymentInput{Profile: "cr",
			DeploymentID: id, Reason: contract.StopCancelled, Grace: 300 * time.Millisecond, Poll: 20 * time.Millisecond})
		if status == http.StatusForbidden {
			wantClass(t, err, contract.ErrForbidden)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var s contract.RunStop
		if err := val.Get(&s); err != nil {
			t.Fatal(err)
		}
		if s.Terminal || len(s.Requests) != 0 || !strings.Contains(s.Message, "when the stop grace ran out") || e.sim.Running() != 1 {
			t.Fatalf("stop %+v", s)
		}
	}
}
