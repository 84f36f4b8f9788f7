package reliability

import (
	"context"
	"encoding/base64"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/internal/temporalclient"
	"github.com/rpaflow/rpaflow/test/proc"
	"github.com/rpaflow/rpaflow/test/secretscan"
)

// testSecrets reads every history of every namespace the cases used, as
// raw protobuf bytes through a client without the codec, and every line the
// worker processes wrote, and looks for every secret the simulators issued
// or were configured with.
func testSecrets(t *testing.T) {
	records.Lock()
	recs := append([]*record(nil), records.list...)
	records.Unlock()
	if len(recs) == 0 {
		t.Skip("no case ran")
	}
	// The matcher itself must find a secret, plain and base64-encoded.
	probe := "probe-secret-0123456789abcdef"
	if !secretscan.Contains("x"+probe+"y", probe) || !secretscan.Contains(base64.StdEncoding.EncodeToString([]byte("ab"+probe+"cd")), probe) {
		t.Fatal("the secret matcher misses a planted secret")
	}

	var secrets []string
	seen := map[string]bool{}
	for _, r := range recs {
		for _, sec := range r.secrets() {
			if len(sec) < 8 {
				t.Errorf("%s: secret of %d characters is too short to scan for reliably", r.name, len(sec))
			}
			if !seen[sec] {
				seen[sec] = true
				secrets = append(secrets, sec)
			}
		}
	}
	sort.Strings(secrets)

	histories, events, historyBytes, hits := 0, 0, 0, 0
	for _, r := range recs {
		c, err := client.Dial(client.Options{HostPort: r.hostPort, Namespace: r.namespace,
			DataConverter: temporalclient.DataConverter(nil)})
		if err != nil {
			t.Errorf("%s: dialing %s: %v", r.name, r.hostPort, err)
			continue
		}
		for _, ex := range listExecutions(t, c, r.namespace) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			rawBytes, n, err := secretscan.HistoryBytes(ctx, c, ex.GetWorkflowId(), ex.GetRunId())
			cancel()
			if err != nil {
				t.Errorf("%s: %v", r.name, err) // scan what was read
			}
			raw := string(rawBytes)
			histories++
			events += n
			historyBytes += len(raw)
			for _, sec := range secrets {
				if secretscan.Contains(raw, sec) {
					hits++
					t.Errorf("%s: history of %s/%s holds a secret (%d chars)", r.name, r.namespace, ex.GetWorkflowId(), len(sec))
				}
			}
		}
		c.Close()
	}
	logFiles, logLines := 0, 0
	for _, r := range recs {
		r.mu.Lock()
		logs := append([]string(nil), r.logs...)
		r.mu.Unlock()
		for _, path := range logs {
			text := proc.Read(path)
			logFiles++
			logLines += strings.Count(text, "\n")
			for _, sec := range secrets {
				if secretscan.Contains(text, sec) {
					hits++
					t.Errorf("%s: worker log %s holds a secret (%d chars)", r.name, path, len(sec))
				}
			}
		}
	}
	if histories == 0 || logLines == 0 {
		t.Errorf("nothing scanned: %d histories, %d log lines", histories, logLines)
	}
	t.Logf("reliability: secrets: tried %d secrets against %d histories (%d events, %d bytes) and %d worker logs (%d lines), lost %d",
		len(secrets), histories, events, historyBytes, logFiles, logLines, hits)
}

func listExecutions(t *testing.T, c client.Client, namespace string) []interface {
	GetWorkflowId() string
	GetRunId() string
} {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []interface {
		GetWorkflowId() string
		GetRunId() string
	}
	var token []byte
	for page := 0; page < 100; page++ {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: 1000, NextPageToken: token})
		if err != nil {
			t.Errorf("listing workflows in %s: %v", namespace, err)
			return out
		}
		for _, e := range resp.GetExecutions() {
			out = append(out, e.GetExecution())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return out
}
