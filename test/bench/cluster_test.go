package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rpaflow/rpaflow/test/cluster"
	"github.com/rpaflow/rpaflow/test/devserver"
)

// The cluster's namespaces, one per stack as on the dev server.
var clusterNamespaces = &devserver.Namespaces{Prefix: "bench-cluster", Count: 4}

// startCluster starts the topology `make test-cluster` runs (PostgreSQL and
// Temporal's services as separate processes); the rows bring their own
// in-process worker as they do on the dev server.
func startCluster(ctx context.Context) (*cluster.Cluster, func(), error) {
	tools, err := cluster.EnsureTools(ctx, devserver.FindCLI())
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "rpaflow-bench-cluster-")
	if err != nil {
		return nil, nil, err
	}
	tc, err := cluster.Start(ctx, cluster.Options{Tools: tools, DeployDir: filepath.Join(repoRoot(), "deploy", "temporal"),
		Dir: dir, Namespaces: clusterNamespaces.Names(), PprofBase: envInt("RPAFLOW_BENCH_CLUSTER_PPROF", 0)})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return tc, func() { tc.Stop(); os.RemoveAll(dir) }, nil
}

// sideBySide notes what the cluster costs against the dev server: each
// figure measured on both, as cluster / dev server.
func sideBySide(rep *Report) {
	find := func(row, metric string) (float64, bool) {
		for _, l := range rep.Lines {
			if l.Row == row && strings.HasPrefix(l.Metric, metric) {
				return l.Rpaflow, true
			}
		}
		return 0, false
	}
	var parts []string
	for _, m := range []struct{ row, metric, unit string }{
		{"1 deploy", "throughput,", "runs/s"},
		{"1 deploy", "p50 latency", "ms"},
		{"1 deploy", "p99 latency", "ms"},
		{"4 scale", "refresh lag p99", "of the lifetime"},
		{"4 scale", "share of scheduled renewals", ""},
		{"4 scale", "process CPU per renewal", "ms"},
		{"4 scale", "machine CPU busy", "of all cores"},
	} {
		d, ok1 := find(m.row+" (dev server)", m.metric)
		c, ok2 := find(m.row+" (cluster)", m.metric)
		if !ok1 || !ok2 {
			continue
		}
		ratio := "—"
		if d != 0 {
			ratio = fmt.Sprintf("%.2f", c/d)
		}
		parts = append(parts, fmt.Sprintf("row %s %s: cluster %s vs dev server %s %s (×%s)", m.row[:1], strings.TrimSuffix(m.metric, ","), num(c), num(d), m.unit, ratio))
	}
	rep.Note("cluster vs dev server, same machine, same run (the cluster is PostgreSQL plus five Temporal processes; the worker, simulators and load are the same in-process stack): %s.",
		strings.Join(parts, "; "))
}
