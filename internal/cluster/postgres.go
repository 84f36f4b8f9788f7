package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
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
		// The postgres user must reach its directory through the harness's dir.
		if err := os.Chmod(c.o.Dir, 0o755); err != nil {
			return err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	return c.pg(ctx, "initdb", "-D", c.pgData, "-U", "temporal", "--auth=trust", "-E", "UTF8", "--no-sync")
}

// pg runs one PostgreSQL program (as the postgres user when root).
func (c *Cluster) pg(ctx context.Context, prog string, args ...string) error {
	bin := filepath.Join(c.o.Tools.PGBinDir, prog)
	var cmd *exec.Cmd
	if c.asRoot {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", pgUser, "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Dir = filepath.Dir(c.pgData)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s%s", prog, args, err, out, Tail(c.pgLog, 2000))
	}
	return nil
}

func (c *Cluster) pgCtl(ctx context.Context, args ...string) error {
	return c.pg(ctx, "pg_ctl", append([]string{"-D", c.pgData}, args...)...)
}

// StartPostgres starts the database on its loopback port and waits until it
// accepts connections. Enough connections for five Temporal processes'
// pools (30 each) plus the tools; fsync off because the data is thrown
// away and the machine is small (a clean stop still writes everything).
func (c *Cluster) StartPostgres(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=300 -c fsync=off", c.PGPort, c.pgData)
	return c.pgCtl(ctx, "start", "-w", "-t", "60", "-l", c.pgLog, "-o", opts)
}

// RestartPostgres stops the database (fast: open connections are cut),
// keeps it down for down, and starts it again on the same port.
func (c *Cluster) RestartPostgres(ctx context.Context, down time.Duration) error {
	if err := c.pgCtl(ctx, "stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return c.StartPostgres(ctx)
}
