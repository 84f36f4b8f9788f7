// Package clustertest runs rpaflow on its production topology, under
// faults: a Temporal cluster on PostgreSQL (internal/cluster, configured by
// deploy/temporal like docker-compose.yml) with three rpaflow worker
// processes on one task queue, against in-process platform simulators whose
// counters the checks read. `make test-cluster` runs it (RPAFLOW_CLUSTER=1);
// elsewhere it skips.
package clustertest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/internal/cluster"
	"github.com/rpaflow/rpaflow/internal/devserver"
)

var (
	temporalCLI string
	workerBin   string
	workDir     string
	tc          *cluster.Cluster
)

const namespace = "rpaflow-cluster"

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	if os.Getenv("RPAFLOW_CLUSTER") != "1" || testing.Short() {
		fmt.Println("clustertest: skipped (set RPAFLOW_CLUSTER=1, or run `make test-cluster`)")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if temporalCLI = devserver.FindCLI(); temporalCLI == "" {
		fmt.Fprintln(os.Stderr, "clustertest: no temporal CLI: run `make temporal-cli`")
		return 1
	}
	tools, err := cluster.EnsureTools(ctx, temporalCLI)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest:", err)
		return 1
	}
	// Directly under the temp dir: PostgreSQL runs as another user when
	// the tests run as root and must reach its data directory.
	if workDir, err = os.MkdirTemp("", "rpaflow-cluster-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	keep := os.Getenv("RPAFLOW_CLUSTER_KEEP") == "1"
	defer func() {
		if keep {
			fmt.Println("clustertest: logs and data kept in", workDir)
			return
		}
		os.RemoveAll(workDir)
	}()
	workerBin = filepath.Join(workDir, "rpaflow-worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", workerBin, "github.com/rpaflow/rpaflow/worker")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the worker: %v\n%s", err, out)
		return 1
	}
	deployDir, err := filepath.Abs(filepath.Join("..", "deploy", "temporal"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start := time.Now()
	tc, err = cluster.Start(ctx, cluster.Options{Tools: tools, DeployDir: deployDir, Dir: workDir, Namespaces: []string{namespace}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest: starting the cluster:", err)
		keep = true
		return 1
	}
	defer tc.Stop()
	fmt.Printf("cluster: PostgreSQL and 5 Temporal processes up in %s (frontend %s)\n", time.Since(start).Round(time.Second), tc.Frontend)
	code := m.Run()
	if code != 0 {
		keep = true
	}
	return code
}
