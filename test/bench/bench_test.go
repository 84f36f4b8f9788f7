package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// benchCommand is how to reproduce the table; printed on its first line.
const benchCommand = "make bench  (go test -run '^$' -bench . -benchtime 1x -timeout 30m ./test/bench/...)"

// BenchmarkRPAflow runs the rows of RPAFLOW_BENCH_ROWS once (default: rows
// 1 to 6 and 8; row 7, the mass cancellation, and row 9, events against
// polling, run only when listed), side by side on one dev server, and
// prints one table (also written as JSON under bench-results/).
// RPAFLOW_BENCH_ROWS=1,3 gives a quicker look.
func BenchmarkRPAflow(b *testing.B) {
	rows := map[string]bool{}
	for _, r := range strings.Split(envStr("RPAFLOW_BENCH_ROWS", "1,2,3,4,5,6,8"), ",") {
		rows[strings.TrimSpace(r)] = true
	}
	rep := &Report{Command: benchCommand, Started: time.Now(), Params: map[string]string{},
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	// RPAFLOW_BENCH_SERVER=cluster runs rows 1 and 4 on the dev server and on
	// the cluster of `make test-cluster` (test/cluster), side by side.
	onCluster := envStr("RPAFLOW_BENCH_SERVER", "dev") == "cluster"
	if onCluster {
		rows = map[string]bool{"1": rows["1"] || !rows["4"], "4": rows["4"] || !rows["1"]}
		rep.Params["RPAFLOW_BENCH_SERVER"] = "cluster"
	}
	needServer := rows["1"] || rows["3"] || rows["4"] || rows["5"] || rows["6"] || rows["7"] || rows["8"] || rows["9"] || rows["10"]
	run := &runner{rep: rep, namespaces: namespaces}
	if needServer {
		ds, err := startDevServer(ctx)
		if err != nil {
			b.Fatalf("starting the Temporal dev server: %v", err)
		}
		defer func() { _ = ds.Stop() }()
		run.hostPort = ds.FrontendHostPort()
	}
	runners := []*runner{run}
	if onCluster {
		tc, stop, err := startCluster(ctx)
		if err != nil {
			b.Fatalf("starting the cluster: %v", err)
		}
		defer stop()
		run.label = " (dev server)"
		runners = append(runners, &runner{rep: rep, namespaces: clusterNamespaces, hostPort: tc.Frontend, label: " (cluster)"})
	}
	for _, r := range []struct {
		id string
		f  func(*runner, context.Context) error
	}{
		{"1", (*runner).deployments}, {"2", (*runner).providerCalls}, {"3", (*runner).durability}, {"4", (*runner).scale}, {"5", (*runner).polling},
		{"6", (*runner).nexusCalls}, {"7", (*runner).cancellation}, {"8", (*runner).capacity}, {"9", (*runner).events}, {"10", (*runner).tenantBudget},
	} {
		if !rows[r.id] {
			continue
		}
		for _, on := range runners {
			t := time.Now()
			if err := r.f(on, ctx); err != nil {
				rep.Note("row %s%s FAILED: %v", r.id, on.label, err)
				b.Errorf("row %s%s: %v", r.id, on.label, err)
			}
			fmt.Fprintf(os.Stderr, "bench: row %s%s took %s\n", r.id, on.label, time.Since(t).Round(time.Second))
		}
	}
	if onCluster {
		sideBySide(rep)
	}
	rep.Duration = time.Since(rep.Started).Round(time.Second).String()
	fmt.Println()
	fmt.Println(rep.Markdown())
	path, err := rep.WriteJSON(repoRoot() + "/bench-results")
	if err != nil {
		b.Error(err)
	} else {
		fmt.Println("written:", path)
	}
}

func envStr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}
