// Package cluster runs rpaflow's production topology on one machine for
// tests: PostgreSQL (persistence and visibility), Temporal's frontend,
// matching, worker and two history services as separate processes, all on
// loopback, configured by deploy/temporal (the files docker-compose.yml
// uses). It is test plumbing: the worker never imports it.
//
// The package's tests are the cluster scenarios: three rpaflow worker
// processes on one task queue under faults, against in-process platform
// simulators whose counters the checks read. `make test-cluster` runs them
// (RPAFLOW_CLUSTER=1); elsewhere they skip.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ServerVersion is the Temporal server the pinned CLI (v1.5.1) embeds, so the
// dev server and the cluster run the same server code.
const ServerVersion = "v1.29.1"

// Tools are the binaries a cluster needs.
type Tools struct {
	Server   string // go.temporal.io/server/cmd/server
	SQLTool  string // go.temporal.io/server/cmd/tools/sql (temporal-sql-tool)
	CLI      string // the temporal CLI (make temporal-cli)
	PGBinDir string // initdb, postgres, pg_isready
}

func gobin() (string, error) {
	if b := os.Getenv("GOBIN"); b != "" {
		return b, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOPATH: %w", err)
	}
	gopath, _, _ := strings.Cut(strings.TrimSpace(string(out)), string(os.PathListSeparator))
	return filepath.Join(gopath, "bin"), nil
}

// EnsureTools finds the binaries, installing what is missing: the Temporal
// server and SQL tool with `go install` (cached in GOPATH/bin), PostgreSQL
// with apt-get when running as root. The CLI must already be built.
func EnsureTools(ctx context.Context, cli string) (Tools, error) {
	bin, err := gobin()
	if err != nil {
		return Tools{}, err
	}
	t := Tools{Server: filepath.Join(bin, "server"), SQLTool: filepath.Join(bin, "sql"), CLI: cli}
	for path, pkg := range map[string]string{t.Server: "go.temporal.io/server/cmd/server", t.SQLTool: "go.temporal.io/server/cmd/tools/sql"} {
		if _, err := os.Stat(path); err == nil {
			continue
		}
		cmd := exec.CommandContext(ctx, "go", "install", pkg+"@"+ServerVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			return Tools{}, fmt.Errorf("go install %s@%s: %v\n%s", pkg, ServerVersion, err, out)
		}
	}
	if t.CLI == "" {
		return Tools{}, errors.New("no temporal CLI: run `make temporal-cli`")
	}
	if t.PGBinDir = pgBinDir(); t.PGBinDir == "" {
		if os.Geteuid() != 0 {
			return Tools{}, errors.New("PostgreSQL is not installed (initdb not found): apt-get install postgresql")
		}
		if err := aptInstall(ctx, "postgresql"); err != nil {
			return Tools{}, err
		}
		if t.PGBinDir = pgBinDir(); t.PGBinDir == "" {
			return Tools{}, errors.New("initdb not found after installing postgresql")
		}
	}
	return t, nil
}

// pgBinDir finds the directory of initdb: Debian keeps it off PATH, under
// /usr/lib/postgresql/<major>/bin.
func pgBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[len(dirs)-1])
}

func aptInstall(ctx context.Context, pkgs ...string) error {
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	install := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	if run(install...) == nil {
		return nil
	}
	if err := run("update"); err != nil {
		return err
	}
	return run(install...)
}
