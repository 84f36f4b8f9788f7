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
const benchCommand = "make bench  (go test -run '^$' -bench . -benchtime 1x -timeout 30m ./bench/...)"

// BenchmarkRPAflow runs every row once, side by side on one dev server, and
// prints one table (also written as JSON under bench-results/). Rows can be
// chosen with RPAFLOW_BENCH_ROWS=1,3 for a quicker look.
func BenchmarkRPAflow(b *testing.B) {
	rows := map[string]bool{}
	for _, r := range strings.Split(envStr("RPAFLOW_BENCH_ROWS", "1,2,3,4,5,6"), ",") {
		rows[strings.TrimSpace(r)] = true
	}
	rep := &Report{Command: benchCommand, Started: time.Now(), Params: map[string]string{},
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	needServer := rows["1"] || rows["3"] || rows["4"] || rows["5"] || rows["6"]
	var run *runner
	if needServer {
		ds, err := startDevServer(ctx)
		if err != nil {
			b.Fatalf("starting the Temporal dev server: %v", err)
		}
		defer func() { _ = ds.Stop() }()
		run = &runner{ds: ds, rep: rep}
	} else {
		run = &runner{rep: rep}
	}
	for _, r := range []struct {
		id string
		f  func(context.Context) error
	}{
		{"1", run.deployments}, {"2", run.providerCalls}, {"3", run.durability}, {"4", run.scale}, {"5", run.polling},
		{"6", run.nexusCalls}, {"7", run.cancellation},
	} {
		if !rows[r.id] {
			continue
		}
		t := time.Now()
		if err := r.f(ctx); err != nil {
			rep.Note("row %s FAILED: %v", r.id, err)
			b.Errorf("row %s: %v", r.id, err)
		}
		fmt.Fprintf(os.Stderr, "bench: row %s took %s\n", r.id, time.Since(t).Round(time.Second))
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
