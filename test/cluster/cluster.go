package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/test/proc"
)

// ConfigEnv is the --env of the server configuration: the file
// deploy/temporal/config/<ConfigEnv>.yaml.
const ConfigEnv = "rpaflow"

// The deploy/temporal layout both the harness and docker-compose.yml use.
const (
	ConfigDir         = "config"
	DynamicConfigFile = "dynamicconfig/rpaflow.yaml"
	SchemaScript      = "scripts/setup-postgres.sh"
	NamespaceScript   = "scripts/create-namespace.sh"
)

// Services are the Temporal processes, in start order: one history host
// first on an empty database (several hosts at once race to write the
// cluster metadata), then the rest.
var Services = []string{"history-1", "history-2", "matching", "frontend", "worker"}

// Options configure a cluster.
type Options struct {
	Tools      Tools
	DeployDir  string   // the repository's deploy/temporal
	Dir        string   // where data and logs go (the caller removes it)
	Namespaces []string // registered once the frontend answers
	// PprofBase, when set, serves each service's Go profiles on a loopback
	// port from it, in the order of PprofServices.
	PprofBase int
}

// PprofServices is the order of the services' pprof ports from PprofBase.
var PprofServices = []string{"frontend", "history-1", "history-2", "matching", "worker"}

// Cluster is a running PostgreSQL plus the Temporal services.
type Cluster struct {
	o        Options
	Frontend string // host:port of the frontend's gRPC
	PGPort   int
	pgData   string
	pgLog    string
	asRoot   bool
	pgCred   *syscall.Credential // the postgres user's, when running as root

	mu    sync.Mutex
	pg    *proc.Proc
	procs map[string]*proc.Proc
	ports map[string][3]int // grpc, membership, http
}

// Start starts PostgreSQL, creates the schemas with the compose stack's
// script, starts the services and registers the namespace. On error it
// stops whatever it started.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	c := &Cluster{o: o, procs: map[string]*proc.Proc{}, ports: map[string][3]int{}, asRoot: os.Geteuid() == 0}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	taken := map[int]bool{}
	for _, s := range append([]string{"postgres"}, Services...) {
		var p [3]int
		for i := range p {
			if p[i], err = freePort(taken); err != nil {
				return nil, err
			}
		}
		c.ports[s] = p
	}
	c.PGPort = c.ports["postgres"][0]
	c.Frontend = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports["frontend"][0]))
	if err := c.initPostgres(ctx); err != nil {
		return nil, err
	}
	if err := c.StartPostgres(ctx); err != nil {
		return nil, err
	}
	schema := exec.CommandContext(ctx, "sh", filepath.Join(o.DeployDir, SchemaScript))
	schema.Env = append(os.Environ(), c.dbEnv()...)
	schema.Env = append(schema.Env, "TEMPORAL_SQL_TOOL="+o.Tools.SQLTool)
	if out, err := schema.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", SchemaScript, err, out)
	}
	if err := c.StartService(Services[0]); err != nil {
		return nil, err
	}
	if err := waitListening(ctx, c.ports[Services[0]][0], time.Minute); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", Services[0], err, proc.Tail(c.procs[Services[0]].Log, 3000))
	}
	for _, s := range Services[1:] {
		if err := c.StartService(s); err != nil {
			return nil, err
		}
	}
	if err := c.WaitFrontend(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	for _, name := range o.Namespaces {
		ns := exec.CommandContext(ctx, "sh", filepath.Join(o.DeployDir, NamespaceScript))
		ns.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+c.Frontend, "TEMPORAL_NAMESPACE="+name, "TEMPORAL_CLI="+o.Tools.CLI)
		if out, err := ns.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", NamespaceScript, err, out)
		}
	}
	for _, name := range o.Namespaces {
		if err := c.waitNamespace(ctx, name, time.Minute); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// freePort picks a loopback port ≤ 32767 (membership ports are a smallint
// in Temporal's schema) that nothing listens on now.
func freePort(taken map[int]bool) (int, error) {
	for range 200 {
		p := 20000 + rand.IntN(12000)
		if taken[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		taken[p] = true
		return p, nil
	}
	return 0, errors.New("no free loopback port below 32768")
}

func waitListening(ctx context.Context, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dbEnv is what deploy/temporal's config and schema script read for the database.
func (c *Cluster) dbEnv() []string {
	return []string{"POSTGRES_SEEDS=127.0.0.1", "DB_PORT=" + strconv.Itoa(c.PGPort), "POSTGRES_USER=temporal", "POSTGRES_PWD=temporal"}
}

// ServiceEnv is the environment of one service process: the database, its
// own ports and the frontend's (the cluster metadata names the frontend).
func (c *Cluster) ServiceEnv(name string) []string {
	env := append(c.dbEnv(),
		"LOG_LEVEL=warn",
		"BIND_ON_IP=127.0.0.1",
		"TEMPORAL_BROADCAST_ADDRESS=127.0.0.1",
		"DYNAMIC_CONFIG_FILE_PATH="+filepath.Join(c.o.DeployDir, DynamicConfigFile),
	)
	fe := c.ports["frontend"]
	env = append(env, "FRONTEND_GRPC_PORT="+strconv.Itoa(fe[0]), "FRONTEND_MEMBERSHIP_PORT="+strconv.Itoa(fe[1]),
		"FRONTEND_HTTP_PORT="+strconv.Itoa(fe[2]))
	if c.o.PprofBase > 0 {
		if i := slices.Index(PprofServices, name); i >= 0 {
			env = append(env, "PPROF_PORT="+strconv.Itoa(c.o.PprofBase+i))
		}
	}
	p := c.ports[name]
	prefix := map[string]string{"history-1": "HISTORY", "history-2": "HISTORY", "matching": "MATCHING", "worker": "WORKER"}[name]
	if prefix != "" {
		env = append(env, prefix+"_GRPC_PORT="+strconv.Itoa(p[0]), prefix+"_MEMBERSHIP_PORT="+strconv.Itoa(p[1]))
	}
	return env
}

func serviceKind(name string) string {
	if name == "history-1" || name == "history-2" {
		return "history"
	}
	return name
}

// StartService starts (or restarts) one service process.
func (c *Cluster) StartService(name string) error {
	if _, ok := c.ports[name]; !ok || name == "postgres" {
		return fmt.Errorf("no service %q", name)
	}
	configDir, err := filepath.Abs(filepath.Join(c.o.DeployDir, ConfigDir))
	if err != nil {
		return err
	}
	// --root / with an absolute --config: start joins the two.
	p, err := proc.Start(name, filepath.Join(c.o.Dir, name+".log"), c.ServiceEnv(name), c.o.Tools.Server,
		"--root", "/", "--config", configDir, "--env", ConfigEnv, "--allow-no-auth", "start", "--service", serviceKind(name))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
	return nil
}

// WaitListening waits until a service's gRPC port accepts connections.
func (c *Cluster) WaitListening(ctx context.Context, name string, timeout time.Duration) error {
	if err := waitListening(ctx, c.ports[name][0], timeout); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Service is the process of a service (nil before it started).
func (c *Cluster) Service(name string) *proc.Proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[name]
}

// KillService SIGKILLs one service process.
func (c *Cluster) KillService(name string) error {
	p := c.Service(name)
	if p == nil {
		return fmt.Errorf("no service %q", name)
	}
	return p.Kill()
}

// WaitFrontend waits until the frontend answers its health check.
func (c *Cluster) WaitFrontend(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		cl, err := client.DialContext(ctx, client.Options{HostPort: c.Frontend, Logger: quiet{}})
		if err == nil {
			_, err = cl.CheckHealth(ctx, &client.CheckHealthRequest{})
			cl.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("frontend %s not healthy after %s: %v\n%s", c.Frontend, timeout, last, proc.Tail(c.Service("frontend").Log, 3000))
}

// waitNamespace waits until the frontend's namespace cache knows the namespace.
func (c *Cluster) waitNamespace(ctx context.Context, ns string, timeout time.Duration) error {
	cl, err := client.DialContext(ctx, client.Options{HostPort: c.Frontend, Namespace: ns, Logger: quiet{}})
	if err != nil {
		return err
	}
	defer cl.Close()
	deadline := time.Now().Add(timeout)
	for {
		_, err := cl.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s not usable after %s: %w", ns, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Stop stops the services, then PostgreSQL.
func (c *Cluster) Stop() {
	c.mu.Lock()
	procs := make([]*proc.Proc, 0, len(c.procs))
	for _, p := range c.procs {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Stop(20 * time.Second) }()
	}
	wg.Wait()
	_ = c.stopPostgres()
}

// quiet drops the SDK's log lines of the harness's own short-lived clients.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
