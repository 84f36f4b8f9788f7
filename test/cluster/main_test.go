// The cluster scenarios: rpaflow on its production topology, under faults
// (a Temporal cluster on PostgreSQL started by this package, configured by
// deploy/temporal like docker-compose.yml). `make test-cluster` runs them
// (RPAFLOW_CLUSTER=1); elsewhere they skip.
package cluster_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/test/cluster"
	"github.com/rpaflow/rpaflow/test/devserver"
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
		fmt.Println("cluster: skipped (set RPAFLOW_CLUSTER=1, or run `make test-cluster`)")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if temporalCLI = devserver.FindCLI(); temporalCLI == "" {
		fmt.Fprintln(os.Stderr, "cluster: no temporal CLI: run `make temporal-cli`")
		return 1
	}
	tools, err := cluster.EnsureTools(ctx, temporalCLI)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
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
			fmt.Println("cluster: logs and data kept in", workDir)
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
	deployDir, err := filepath.Abs(filepath.Join("..", "..", "deploy", "temporal"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start := time.Now()
	tc, err = cluster.Start(ctx, cluster.Options{Tools: tools, DeployDir: deployDir, Dir: workDir, Namespaces: []string{namespace}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster: starting the cluster:", err)
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
