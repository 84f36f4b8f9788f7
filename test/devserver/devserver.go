// Package devserver starts the Temporal dev server that the integration,
// reliability and benchmark suites run against. It is test plumbing: the
// worker never imports it.
package devserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.yaml.in/yaml/v3"
)

// FindCLI returns the temporal binary: RPAFLOW_TEMPORAL_CLI, else
// `temporal` on PATH, else $(go env GOPATH)/bin/temporal (where `make
// temporal-cli` installs it); "" when there is none.
func FindCLI() string {
	if p := os.Getenv("RPAFLOW_TEMPORAL_CLI"); p != "" {
		return p
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "temporal")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// handedOut are the addresses FreeAddr returned: the kernel may offer a
// port again once its probe closed, and two servers of one test (a UI and
// a worker) must not be given the same one.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// FreeAddr returns a loopback host:port that nothing listened on a moment
// ago and that it has not returned before in this process.
func FreeAddr() (string, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("finding a free loopback port: %w", err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr, nil
		}
	}
	return "", fmt.Errorf("finding a free loopback port: 100 tries gave ports already handed out")
}

// Namespaces is a numbered set of namespaces, Prefix-1 … Prefix-Count,
// registered when the server starts and handed out one per stack: session
// workflow IDs are per profile, so stacks sharing a namespace would share
// (and strand) sessions.
type Namespaces struct {
	Prefix string
	Count  int
	next   atomic.Int32
}

// Names lists every namespace of the set.
func (n *Namespaces) Names() []string {
	out := make([]string, 0, n.Count)
	for i := 1; i <= n.Count; i++ {
		out = append(out, fmt.Sprintf("%s-%d", n.Prefix, i))
	}
	return out
}

// Next hands out the next unused namespace.
func (n *Namespaces) Next() (string, error) {
	i := int(n.next.Add(1))
	if i > n.Count {
		return "", fmt.Errorf("all %d %s-* namespaces are in use: raise the namespaces count", n.Count, n.Prefix)
	}
	return fmt.Sprintf("%s-%d", n.Prefix, i), nil
}

// Options tune a dev server.
type Options struct {
	// CLI is the temporal binary; "" means FindCLI().
	CLI string
	// Namespaces are registered besides "default".
	Namespaces []string
	// LogLevel is the server's own log level; "" means "error".
	LogLevel string
	// DBFilename persists the server's state in a file (so it survives a
	// restart); "" keeps it in memory.
	DBFilename string
	// HostPort is the frontend address; "" means a free loopback port.
	HostPort string
	// UIPort, if set, serves the Temporal UI on 127.0.0.1:UIPort (else the
	// server is headless); UICodecEndpoint is the codec URL the UI's
	// browser calls ("" for none).
	UIPort          string
	UICodecEndpoint string
	// HTTPPort, if set, serves the HTTP API (Nexus endpoints included) on
	// 127.0.0.1:HTTPPort; else the server picks a free port and does not say.
	HTTPPort string
}

// ErrNoCLI says no temporal binary was found.
var ErrNoCLI = errors.New("no temporal binary: set RPAFLOW_TEMPORAL_CLI or run `make temporal-cli`")

// Start starts a dev server; the caller stops it.
func Start(ctx context.Context, o Options) (*testsuite.DevServer, error) {
	opts, err := serverOptions(o)
	if err != nil {
		return nil, err
	}
	return testsuite.StartDevServer(ctx, opts)
}

func serverOptions(o Options) (testsuite.DevServerOptions, error) {
	if o.CLI == "" {
		if o.CLI = FindCLI(); o.CLI == "" {
			return testsuite.DevServerOptions{}, ErrNoCLI
		}
	}
	if o.LogLevel == "" {
		o.LogLevel = "error"
	}
	if o.HostPort == "" {
		addr, err := FreeAddr()
		if err != nil {
			return testsuite.DevServerOptions{}, err
		}
		o.HostPort = addr
	}
	args, err := DynamicConfigArgs()
	if err != nil {
		return testsuite.DevServerOptions{}, err
	}
	for _, ns := range o.Namespaces {
		args = append(args, "--namespace", ns)
	}
	if o.HTTPPort != "" {
		args = append(args, "--http-port", o.HTTPPort)
	}
	if o.UICodecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", o.UICodecEndpoint)
	}
	return testsuite.DevServerOptions{
		EnableUI:      o.UIPort != "",
		UIPort:        o.UIPort,
		ExistingPath:  o.CLI,
		LogLevel:      o.LogLevel,
		DBFilename:    o.DBFilename,
		ClientOptions: &client.Options{HostPort: o.HostPort, Namespace: "default"},
		ExtraArgs:     args,
	}, nil
}

// DynamicConfigFile is the server configuration rpaflow recommends, which
// the compose stack and the cluster test mount; every dev server started
// here runs it too.
func DynamicConfigFile() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "temporal", "dynamicconfig", "rpaflow.yaml")
}

// DynamicConfigArgs turns DynamicConfigFile's settings without constraints
// into the dev server's --dynamic-config-value arguments, in key order.
func DynamicConfigArgs() ([]string, error) {
	raw, err := os.ReadFile(DynamicConfigFile())
	if err != nil {
		return nil, fmt.Errorf("reading the recommended dynamic config: %w", err)
	}
	var dc map[string][]struct {
		Value       any            `yaml:"value"`
		Constraints map[string]any `yaml:"constraints"`
	}
	if err := yaml.Unmarshal(raw, &dc); err != nil {
		return nil, fmt.Errorf("%s: %w", DynamicConfigFile(), err)
	}
	keys := make([]string, 0, len(dc))
	for k := range dc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var args []string
	for _, k := range keys {
		for _, v := range dc[k] {
			if len(v.Constraints) > 0 {
				continue // the dev server's flag takes no constraints
			}
			j, err := json.Marshal(v.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", DynamicConfigFile(), k, err)
			}
			args = append(args, "--dynamic-config-value", k+"="+string(j))
		}
	}
	return args, nil
}
