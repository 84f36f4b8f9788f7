package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpaflow/rpaflow/internal/codec"
	"github.com/rpaflow/rpaflow/test/devserver"

	"github.com/rpaflow/rpaflow/test/guide"
)

// localStack is scripts/localstack.sh (what `make run` runs) on free
// loopback ports, with its own state folder and freshly built binaries.
type localStack struct {
	bin, state string
	printed    []string // what the script printed up to "Press Ctrl-C"
}

func startLocalStack(t *testing.T) *localStack {
	t.Helper()
	if temporalCLI == "" || testing.Short() {
		t.Skip("no temporal binary or -short")
	}
	ls := &localStack{bin: filepath.Join(t.TempDir(), "bin"), state: filepath.Join(t.TempDir(), "state")}
	build := exec.Command("go", "build", "-o", ls.bin+"/", "./worker", "./starter", "./simulator")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the binaries: %v\n%s", err, out)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TEMPORAL=" + temporalCLI,
		"RPAFLOW_LOCAL_STATE=" + ls.state, "RPAFLOW_LOCAL_BIN=" + ls.bin}
	for _, name := range []string{"TEMPORAL", "UI", "SIM", "HTTP", "CODEC"} {
		addr, err := devserver.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, "RPAFLOW_LOCAL_"+name+"_PORT="+addr[strings.LastIndexByte(addr, ':')+1:])
	}
	cmd := exec.Command("bash", "scripts/localstack.sh")
	cmd.Dir = "../.."
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// The script's trap stops what it started; the group kill is the fallback.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Error("scripts/localstack.sh did not stop within 30s of SIGTERM")
		}
		if t.Failed() {
			for _, f := range []string{"worker.log", "temporal.log"} {
				b, _ := os.ReadFile(filepath.Join(ls.state, f))
				t.Logf("%s:\n%s", f, tail(string(b), 4000))
			}
		}
	})

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(4 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("scripts/localstack.sh ended before it was ready; it printed:\n%s", strings.Join(ls.printed, "\n"))
			}
			ls.printed = append(ls.printed, l)
			if l == "Press Ctrl-C to stop." {
				go func() { // keep draining so the script never blocks on its pipe
					for range lines {
					}
				}()
				return ls
			}
		case <-timeout:
			t.Fatalf("scripts/localstack.sh not ready after 4 minutes; it printed:\n%s", strings.Join(ls.printed, "\n"))
		}
	}
}

// tryCommands returns the commands under "Try:", continuation lines joined.
func (ls *localStack) tryCommands(t *testing.T) []string {
	t.Helper()
	var out []string
	in := false
	var cur strings.Builder
	for _, l := range ls.printed {
		switch {
		case l == "Try:":
			in = true
		case !in || l == "Press Ctrl-C to stop.":
		case cur.Len() > 0 || strings.HasPrefix(l, "  "):
			cur.WriteString(l + "\n")
			if !strings.HasSuffix(l, `\`) {
				out = append(out, strings.TrimSpace(cur.String()))
				cur.Reset()
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("scripts/localstack.sh printed no commands under Try:\n%s", strings.Join(ls.printed, "\n"))
	}
	return out
}

// sh runs one command as a person pastes it: bash, from the repository, with
// only PATH and HOME (plus prefix, e.g. sourcing the stack's env file).
func (ls *localStack) sh(t *testing.T, prefix, command string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", prefix+command)
	cmd.Dir = "../.."
	cmd.Env = []string{"PATH=" + ls.bin + ":" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %v\nstdout:\n%s\nstderr:\n%s", command, err, tail(out.String(), 3000), tail(errOut.String(), 3000))
	}
	return out.String(), nil
}

// Every command `make run` prints under "Try:" works when pasted and does
// what its line says; the README's starter examples work after sourcing the
// env file the script writes. Nobody but the worker holds the codec key.
func TestLocalStackPrintedCommands(t *testing.T) {
	ls := startLocalStack(t)
	printed := strings.Join(ls.printed, "\n")
	for _, want := range []string{`"State": "California"`, `"state"`} {
		if !strings.Contains(printed, want) && !strings.Contains(printed, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("the demo output lacks %s:\n%s", want, printed)
		}
	}

	// A token, to check that the histories do not show it: only a holder of
	// the worker's key reads it; through the codec endpoint the starter refuses.
	if out, err := ls.sh(t, ". "+ls.state+"/env && ", "starter session token --profile cr --json"); err == nil || !strings.Contains(out+err.Error(), "worker-only key") {
		t.Errorf("starter session token through the codec endpoint: %v\n%s", err, tail(out, 500))
	}
	tokOut, err := ls.sh(t, ". "+ls.state+"/env && RPAFLOW_CODEC_KEY_ID=local-dev RPAFLOW_CODEC_KEY_FILE="+ls.state+"/codec.key ", "starter session token --profile cr --json")
	if err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`"token":\s*"([^"]+)"`).FindStringSubmatch(tokOut)
	if token == nil {
		t.Fatalf("starter session token printed no token (%d bytes)", len(tokOut))
	}

	checks := []struct {
		match func(string) bool
		check func(out string) error
	}{
		{func(c string) bool { return strings.Contains(c, "workflow execute") }, contains("New York")},
		{func(c string) bool { return strings.Contains(c, "--type status") }, contains(`"state"`)},
		{func(c string) bool {
			return strings.Contains(c, "workflow show") && !strings.Contains(c, "--codec-endpoint")
		},
			func(out string) error {
				if strings.Contains(out, token[1]) || strings.Contains(out, "loggedIn") {
					return fmt.Errorf("the history without the codec shows the session token or a decoded renewal")
				}
				return contains(base64.StdEncoding.EncodeToString([]byte("binary/encrypted")))(out)
			}},
		{func(c string) bool {
			return strings.Contains(c, "workflow show") && strings.Contains(c, "--codec-endpoint")
		},
			func(out string) error {
				if strings.Contains(out, token[1]) {
					return fmt.Errorf("the history through the codec shows the session token")
				}
				if err := contains("ControlRoomSession")(out); err != nil {
					return err
				}
				return contains(base64.StdEncoding.EncodeToString([]byte(codec.EncodingSealed)))(out)
			}},
		{func(c string) bool { return strings.Contains(c, "starter start-job") }, contains("Successful")},
		{func(c string) bool { return strings.Contains(c, "starter session status") }, contains(`"state"`)},
	}
	for _, c := range ls.tryCommands(t) {
		n := 0
		for _, ch := range checks {
			if !ch.match(c) {
				continue
			}
			n++
			out, err := ls.sh(t, "", c)
			if err != nil {
				t.Errorf("printed command failed: %v", err)
			} else if err := ch.check(out); err != nil {
				t.Errorf("printed command %s: %v\n%s", c, err, tail(out, 2000))
			}
		}
		if n != 1 {
			t.Errorf("printed command %q matches %d checks, want 1: add a check for it", c, n)
		}
	}

	// README.md's starter examples, in order, as a person runs them after
	// `. .local/env`.
	blocks := readmeStarterBlocks(t)
	ran := 0
	defer func() { t.Logf("ran %d printed commands and %d README starter examples", len(ls.tryCommands(t)), ran) }()
	for _, b := range blocks {
		for _, c := range b {
			ran++
			out, err := ls.sh(t, ". "+ls.state+"/env && ", c)
			if err != nil {
				t.Errorf("README starter example failed: %v", err)
				continue
			}
			switch {
			case strings.Contains(c, "deploy-api-task") && strings.Contains(c, "--wait"):
				err = contains("California")(out)
			case strings.Contains(c, "start-job") && strings.Contains(c, "--wait"):
				err = contains("Successful")(out)
			case strings.Contains(c, "session status"):
				err = contains(`"state"`)(out)
			case strings.Contains(c, "schedule describe"):
				err = contains("zip-95134")(out)
			}
			if err != nil {
				t.Errorf("README starter example %s: %v\n%s", c, err, tail(out, 2000))
			}
		}
	}
}

func contains(want string) func(string) error {
	return func(out string) error {
		if !strings.Contains(out, want) {
			return fmt.Errorf("output lacks %q", want)
		}
		return nil
	}
}

// readmeStarterBlocks returns README.md's ```sh blocks made of starter
// commands, each as its commands (continuations joined, comments kept for
// bash to drop).
func readmeStarterBlocks(t *testing.T) [][]string {
	t.Helper()
	raw, err := guide.Read("../..")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
		if !strings.HasPrefix(m[1], "starter ") {
			continue
		}
		var cmds []string
		var cur strings.Builder
		for _, l := range strings.Split(strings.TrimRight(m[1], "\n"), "\n") {
			cur.WriteString(l + "\n")
			if !strings.HasSuffix(strings.TrimRight(l, " "), `\`) {
				cmds = append(cmds, cur.String())
				cur.Reset()
			}
		}
		out = append(out, cmds)
	}
	if len(out) < 2 {
		t.Fatalf("README.md has %d starter example blocks, want the starter CLI's and the schedules'", len(out))
	}
	return out
}
