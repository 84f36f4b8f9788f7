package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/providers/uipath/automationhub/hubsim"
	"github.com/rpaflow/rpaflow/test/secretscan"
)

// testSecrets scans, after the faults, every log of the cluster (Temporal's
// five processes, PostgreSQL, the workers) and the histories as stored (no
// codec) of every session and every tenth deployment for any token, key or
// password the simulators issued or hold, and the codec key.
func testSecrets(t *testing.T, w *world) {
	secrets := append(w.Sims.AA.IssuedSecrets(), w.Sims.Orchestrator.IssuedSecrets()...)
	secrets = append(secrets, hubsim.DemoToken, hubsim.DemoAppKey, w.env["RPAFLOW_CODEC_KEY"])
	hits := 0
	scan := func(what, text string) {
		for _, sec := range secrets {
			if secretscan.Contains(text, sec) {
				hits++
				t.Errorf("%s holds a secret (%d chars)", what, len(sec))
			}
		}
	}
	logs, _ := filepath.Glob(filepath.Join(workDir, "*.log"))
	logs = append(logs, filepath.Join(workDir, "pg", "postgres.log"))
	lines := 0
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		lines += strings.Count(string(b), "\n")
		scan(filepath.Base(path), string(b))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	plain, err := client.DialContext(ctx, client.Options{HostPort: tc.Frontend, Namespace: namespace, DataConverter: temporalclient.DataConverter(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	histories, bytes, n := 0, 0, 0
	var token []byte
	for page := 0; page < 20; page++ {
		resp, err := plain.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: 1000, NextPageToken: token})
		if err != nil {
			t.Fatalf("listing workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			n++
			if !strings.Contains(id, "session:") && n%10 != 0 {
				continue
			}
			raw, _, err := secretscan.HistoryBytes(ctx, plain, id, e.GetExecution().GetRunId())
			if err != nil {
				t.Errorf("history of %s: %v", id, err) // scan what was read
			}
			histories++
			bytes += len(raw)
			scan("history of "+id, string(raw))
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if histories == 0 || lines == 0 {
		t.Errorf("nothing scanned: %d histories, %d log lines", histories, lines)
	}
	fmt.Printf("cluster: secrets: tried %d secrets against %d log files (%d lines) and %d of %d histories (%d bytes), lost %d\n",
		len(secrets), len(logs), lines, histories, n, bytes, hits)
}
