// Package proc starts the child processes the test suites run: Temporal's
// services, PostgreSQL and rpaflow worker processes, each logging to a file
// and killable, restartable and stoppable the way the suites' faults need.
package proc

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/rpaflow/rpaflow/test/devserver"
)

// Proc is one child process whose output goes to a log file.
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts bin with exactly env (plus PATH and HOME), logging to
// logPath (appended, so a restarted process keeps its predecessor's log).
func Start(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	return StartAs(nil, name, logPath, env, bin, args...)
}

// StartAs is Start as another user when cred is set.
func StartAs(cred *syscall.Credential, name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = f, f
	// A harness that dies (a test binary's timeout panic skips every
	// cleanup) takes its children with it instead of leaving a cluster behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill SIGKILLs the process and waits until it is gone.
func (p *Proc) Kill() error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s did not exit after SIGKILL", p.Name)
	}
}

// Stop sends SIGTERM and waits up to grace, then SIGKILLs.
func (p *Proc) Stop(grace time.Duration) error { return p.StopWith(syscall.SIGTERM, grace) }

// StopWith sends sig and waits up to grace, then SIGKILLs.
func (p *Proc) StopWith(sig syscall.Signal, grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = p.Kill()
		return fmt.Errorf("%s did not stop within %s of %v; killed", p.Name, grace, sig)
	}
}

// WaitLog waits until the log contains want n times (a restarted process
// appends to its predecessor's log), the process exits, or timeout.
func (p *Proc) WaitLog(want string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Count(Read(p.Log), want) >= n {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%s exited before %q:\n%s", p.Name, want, Tail(p.Log, 3000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q within %s:\n%s", p.Name, want, timeout, Tail(p.Log, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Read is the file at path ("" when it cannot be read).
func Read(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// Count is how often s occurs in the file at path.
func Count(path, s string) int { return strings.Count(Read(path), s) }

// Tail is the last n bytes of a file.
func Tail(path string, n int) string {
	s := Read(path)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Worker is one rpaflow worker process.
type Worker struct {
	*Proc
	// HTTPAddr is where the worker serves /healthz and /metrics.
	HTTPAddr string
	// CodecAddr is where it serves /codec.
	CodecAddr string
}

// StartWorker starts the worker binary bin with env (the worker's /metrics
// and /codec each on a free loopback port) and waits until it polls its
// task queue.
func StartWorker(name, logPath, bin string, env map[string]string) (*Worker, error) {
	addr, err := devserver.FreeAddr()
	if err != nil {
		return nil, err
	}
	codecAddr, err := devserver.FreeAddr()
	if err != nil {
		return nil, err
	}
	vars := []string{"RPAFLOW_HTTP_ADDR=" + addr, "RPAFLOW_CODEC_ADDR=" + codecAddr}
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	// The log is appended across restarts: wait for this process's line.
	before := Count(logPath, ready)
	p, err := Start(name, logPath, vars, bin)
	if err != nil {
		return nil, err
	}
	if err := p.WaitLog(ready, before+1, time.Minute); err != nil {
		_ = p.Kill()
		return nil, err
	}
	return &Worker{Proc: p, HTTPAddr: addr, CodecAddr: codecAddr}, nil
}

// ready is the line a worker logs once it polls.
const ready = "worker running"
