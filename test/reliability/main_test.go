// Package reliability runs rpaflow through the failures it is built to
// survive: a worker SIGKILLed mid-call, a platform outage longer than a
// token's lifetime, a Temporal server restart, bad input of every kind, and
// a final scan of every history and worker log for secrets.
//
// The worker runs as a separate process (built once in TestMain) so it can
// be killed; the platform simulators run in-process so their counters are
// readable. `go test ./test/reliability` runs the short form (part of `make
// test`); RPAFLOW_RELIABILITY=long (`make test-reliability`) runs more
// workflows and longer outages.
package reliability

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/rpaflow/rpaflow/test/devserver"
)

var (
	temporalCLI string
	workerBin   string
	starterBin  string
	sharedHTTP  string // the shared dev server's HTTP API (Nexus endpoints), host:port
	workDir     string // worker binary, worker logs, the restart case's database
	shared      *testsuite.DevServer
	long        = os.Getenv("RPAFLOW_RELIABILITY") == "long"
)

// namespaces on the shared dev server, one per case that uses it.
var namespaces = &devserver.Namespaces{Prefix: "rel", Count: 10}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	temporalCLI = devserver.FindCLI()
	if temporalCLI == "" || testing.Short() {
		if os.Getenv("RPAFLOW_REQUIRE_INTEGRATION") == "1" && !testing.Short() {
			fmt.Fprintln(os.Stderr, "reliability tests required but no temporal binary: set RPAFLOW_TEMPORAL_CLI or run `make temporal-cli`")
			return 1
		}
		fmt.Println("reliability: skipped (no temporal binary or -short)")
		return m.Run()
	}
	var err error
	if workDir, err = os.MkdirTemp("", "rpaflow-reliability-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)

	workerBin = filepath.Join(workDir, "worker")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	starterBin = filepath.Join(workDir, "starter")
	for bin, pkg := range map[string]string{workerBin: "github.com/rpaflow/rpaflow/worker", starterBin: "github.com/rpaflow/rpaflow/starter"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
			return 1
		}
	}

	if sharedHTTP, err = devserver.FreeAddr(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, httpPort, _ := strings.Cut(sharedHTTP, ":")
	shared, err = devserver.Start(ctx, devserver.Options{CLI: temporalCLI, LogLevel: "error", Namespaces: namespaces.Names(), HTTPPort: httpPort})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Temporal dev server:", err)
		return 1
	}
	defer shared.Stop()
	return m.Run()
}

// pick returns the short or the long value.
func pick[T any](short, longer T) T {
	if long {
		return longer
	}
	return short
}
