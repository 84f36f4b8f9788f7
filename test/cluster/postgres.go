package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rpaflow/rpaflow/test/proc"
)

// PostgreSQL refuses to run as root, so as root the harness runs it as the
// postgres user that Debian's package creates.
const pgUser = "postgres"

// initPostgres creates a throwaway database cluster whose superuser is
// "temporal", trusted on loopback only.
func (c *Cluster) initPostgres(ctx context.Context) error {
	dir := filepath.Join(c.o.Dir, "pg")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	c.pgData = filepath.Join(dir, "data")
	c.pgLog = filepath.Join(dir, "postgres.log")
	if c.asRoot {
		u, err := user.Lookup(pgUser)
		if err != nil {
			return fmt.Errorf("running as root needs the %s user (apt-get install postgresql): %w", pgUser, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.pgCred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The postgres user must reach its directory through the harness's dir.
		if err := os.Chmod(c.o.Dir, 0o755); err != nil {
			return err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.o.Tools.PGBinDir, "initdb"),
		"-D", c.pgData, "-U", "temporal", "--auth=trust", "-E", "UTF8", "--no-sync")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.pgCred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// StartPostgres starts the database as a child process (so it dies with
// the harness) on its loopback port and waits until it accepts
// connections. Enough connections for five Temporal processes' pools (30
// each) plus the tools; fsync off because the data is thrown away and the
// machine is small (a clean stop still writes everything).
func (c *Cluster) StartPostgres(ctx context.Context) error {
	p, err := proc.StartAs(c.pgCred, "postgres", c.pgLog, nil, filepath.Join(c.o.Tools.PGBinDir, "postgres"),
		"-D", c.pgData, "-p", strconv.Itoa(c.PGPort), "-c", "listen_addresses=127.0.0.1", "-k", c.pgData,
		"-c", "max_connections=300", "-c", "fsync=off")
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pg = p
	c.mu.Unlock()
	deadline := time.Now().Add(time.Minute)
	for {
		ready := exec.CommandContext(ctx, filepath.Join(c.o.Tools.PGBinDir, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(c.PGPort), "-t", "2")
		if ready.Run() == nil {
			return nil
		}
		if p.Exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("PostgreSQL not ready on port %d:\n%s", c.PGPort, proc.Tail(c.pgLog, 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopPostgres is PostgreSQL's fast shutdown (SIGINT): open connections
// are cut, everything is written.
func (c *Cluster) stopPostgres() error {
	c.mu.Lock()
	p := c.pg
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.StopWith(syscall.SIGINT, time.Minute)
}

// RestartPostgres stops the database (fast: open connections are cut),
// keeps it down for down, and starts it again on the same port.
func (c *Cluster) RestartPostgres(ctx context.Context, down time.Duration) error {
	if err := c.stopPostgres(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return c.StartPostgres(ctx)
}
