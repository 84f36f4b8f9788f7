package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/plugin"
	"github.com/rpaflow/rpaflow/test/integration/caller"
	"github.com/rpaflow/rpaflow/test/secretscan"
)

// pluginOnSims serves fresh simulators on loopback and builds a plugin whose
// profiles point at them, encrypting with a fresh key.
func pluginOnSims(t *testing.T, so simenv.Options, po plugin.Options) (*simenv.Sims, *plugin.Plugin) {
	t.Helper()
	sims := simenv.New(so)
	srv := httptest.NewServer(sims)
	t.Cleanup(srv.Close)
	profiles, err := simenv.Profiles(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	po.Profiles, po.Encryption = profiles, &plugin.Encryption{Key: plugin.Key{ID: "host", Key: key}}
	p, err := plugin.New(po)
	if err != nil {
		t.Fatal(err)
	}
	return sims, p
}

// A host application adds the plugin to its own client; its worker, on its
// own task queue, then runs rpaflow's workflows beside its own. With a name
// prefix, the host's own StartJob keeps its name; its workflow runs
// DeployAPITask and StartJob as child workflows by the prefixed names.
func TestPluginInAHostWorker(t *testing.T) {
	if devServer == nil {
		t.Skip("no Temporal dev server (run `make test`)")
	}
	ns, err := namespaces.Next()
	if err != nil {
		t.Fatal(err)
	}
	sims, p := pluginOnSims(t, simenv.Options{}, plugin.Options{NamePrefix: "rpa.", IDPrefix: "host-"})
	quiet := quietLogger()
	c, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: ns, Plugins: []client.Plugin{p}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := worker.New(c, "host-queue", worker.Options{})
	w.RegisterWorkflow(caller.ChildSteps)
	w.RegisterWorkflowWithOptions(caller.StartJob, workflow.RegisterOptions{Name: "StartJob"}) // the host's own
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "host-steps", TaskQueue: "host-queue"}, caller.ChildSteps, "rpa.",
		contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: zipTask, BotInput: map[string]json.RawMessage{"iStrZipCode": json.RawMessage(`"10001"`)}},
		contract.StartJobInput{Profile: "orch", Folder: "Shared", Process: "Invoices"})
	if err != nil {
		t.Fatal(err)
	}
	var steps []caller.Outcome
	if err := run.Get(ctx, &steps); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].APITask == nil || steps[0].APITask.BotOutput["State"] != "New York" ||
		steps[1].Job == nil || steps[1].Job.State != contract.JobSuccessful {
		t.Errorf("child steps = %+v", steps)
	}

	own, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "host-own-startjob", TaskQueue: "host-queue"}, "StartJob", "invoices")
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	if err := own.Get(ctx, &msg); err != nil || msg != "host job invoices" {
		t.Errorf("the host's own StartJob = %q, %v; want its own workflow, untouched by rpaflow's", msg, err)
	}

	// Sessions run under the host's ID prefix and their tokens are encrypted.
	if got := sims.AA.Counters().Get("login"); got != 1 {
		t.Errorf("Control Room logins = %d, want 1", got)
	}
	plain, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Namespace: ns, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	secrets := append(sims.AA.IssuedSecrets(), sims.Orchestrator.IssuedSecrets()...)
	for _, id := range []string{"host-" + contract.AASessionID("cr"), "host-" + contract.OrchestratorSessionID("orch"), "host-steps"} {
		raw, n, err := secretscan.HistoryBytes(ctx, plain, id, "")
		if err != nil || n == 0 {
			t.Fatalf("history of %s: %v (%d events)", id, err, n)
		}
		for _, sec := range secrets {
			if secretscan.Contains(string(raw), sec) {
				t.Errorf("history of %s holds a secret in clear (%d chars)", id, len(sec))
			}
		}
	}
}
