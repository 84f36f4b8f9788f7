package integration

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"

	"github.com/rpaflow/rpaflow/test/guide"
)

// readmeRecipes returns the commands of README.md's recipe blocks: a
// `<!-- recipe: NAME -->` line followed by a ```sh block.
func readmeRecipes(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := guide.Read("../..")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- recipe: ([a-z-]+) -->\n```sh\n(.*?)```")
	out := map[string][]string{}
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		args, err := shellWords(m[2])
		if err != nil {
			t.Fatalf("recipe %s: %v", m[1], err)
		}
		if len(args) == 0 || args[0] != "temporal" {
			t.Fatalf("recipe %s is not one temporal command: %q", m[1], args)
		}
		if _, dup := out[m[1]]; dup {
			t.Fatalf("recipe %s appears twice", m[1])
		}
		out[m[1]] = args
	}
	return out
}

// shellWords splits one POSIX shell command the way sh would for the
// subset the README uses: single and double quotes, backslash-newline
// continuations, # comments at line start. Anything else (variables,
// pipes, several commands) is refused so a recipe cannot mean something
// else in a real shell.
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	flush := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	commands := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++ // continuation
		case c == '\n':
			flush()
			if len(words) > 0 && !strings.HasSuffix(strings.TrimRight(s[:i], " "), "\\") {
				commands++
			}
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !in:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i--
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			in = true
			i += end + 1
		case c == '"':
			in = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated double quote")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '$' || s[i] == '`' {
					return nil, fmt.Errorf("expansion inside double quotes is not supported")
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
		case strings.IndexByte("$`|&;<>()*?~", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q is not supported in a recipe", c)
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	flush()
	if commands > 1 {
		return nil, fmt.Errorf("a recipe block must hold one command, found %d", commands)
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	got, err := shellWords("temporal a --x 'y \\\\ \"z\"' \\\n  --q \"ExecutionStatus='Failed'\" # note\n")
	want := []string{"temporal", "a", "--x", `y \\ "z"`, "--q", "ExecutionStatus='Failed'"}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("shellWords = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"temporal $X", "temporal a | b", "temporal 'open", "temporal a\ntemporal b\n"} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q) accepted", bad)
		}
	}
}

// forStack points a recipe at s: its task queue and codec endpoint (s.cli
// adds the address and namespace).
func forStack(t *testing.T, s *stack, args []string) []string {
	t.Helper()
	out := append([]string(nil), args[1:]...)
	for i := 0; i+1 < len(out); i++ {
		switch out[i] {
		case "--address", "--namespace":
			t.Fatalf("recipe %q sets %s; the README's recipes rely on the defaults", args, out[i])
		case "--task-queue":
			if out[i+1] != contract.DefaultTaskQueue {
				t.Fatalf("recipe uses task queue %q, want the default %q", out[i+1], contract.DefaultTaskQueue)
			}
			out[i+1] = s.TaskQueue
		case "--codec-endpoint":
			if out[i+1] != "http://127.0.0.1:8082/codec" {
				t.Fatalf("recipe uses codec endpoint %q, want the worker's default", out[i+1])
			}
			out[i+1] = s.codecEndpoint()
		}
	}
	return out
}

// Every Temporal CLI recipe in README.md runs as written (task queue,
// codec endpoint, address and namespace pointed at a test stack) and does
// what the README says.
func TestREADMERecipes(t *testing.T) {
	recipes := readmeRecipes(t)
	for _, name := range []string{"start", "result", "execute", "query", "update", "list-failed", "schedule-create", "schedule-trigger", "schedule-delete"} {
		if recipes[name] == nil {
			t.Fatalf("README.md has no recipe %q", name)
		}
	}
	s := newStack(t, stackOptions{})
	run := func(name string) string {
		t.Helper()
		out, err := s.cli(forStack(t, s, recipes[name])...)
		if err != nil {
			t.Fatalf("recipe %s: %v", name, err)
		}
		return out
	}

	if out := run("start"); !strings.Contains(out, "zip-95134") {
		t.Errorf("start: output does not name the workflow:\n%s", out)
	}
	if out := run("result"); !strings.Contains(out, "California") {
		t.Errorf("result: no California in\n%s", out)
	}
	if out := run("execute"); !strings.Contains(out, "New York") {
		t.Errorf("execute: no New York in\n%s", out)
	}
	if out := run("query"); !strings.Contains(out, `"state"`) || !strings.Contains(out, `"profile": "cr"`) && !strings.Contains(out, `"profile":"cr"`) {
		t.Errorf("query status: no decoded status in\n%s", out)
	}
	// The token answer is sealed: the CLI refuses it, as the README says.
	out, err := s.cli(forStack(t, s, recipes["update"])...)
	requireSealed(t, "update token", out, err, s.Sims.AA.IssuedSecrets())
	if err == nil || !strings.Contains(err.Error(), "payload encoding is not supported") {
		t.Errorf("update token: %v, want the CLI's refusal the README quotes", err)
	}

	// A deliberately failed run (unknown profile: InvalidInput, not retried).
	if _, err := s.cli("workflow", "execute", "--type", contract.DeployAPITaskWorkflow, "--task-queue", s.TaskQueue,
		"--workflow-id", "it-deliberately-failed", "--input", `{"profile":"nope","botRepositoryPath":"x"}`,
		"--codec-endpoint", s.codecEndpoint()); err == nil {
		t.Fatal("the deliberately failed run succeeded")
	}
	var listed string
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
		if listed = run("list-failed"); strings.Contains(listed, "it-deliberately-failed") {
			break
		}
	}
	if !strings.Contains(listed, "it-deliberately-failed") {
		t.Errorf("list failed runs does not show it-deliberately-failed:\n%s", listed)
	}
	for _, ok := range []string{"zip-95134", "zip-10001"} {
		if strings.Contains(listed, ok) {
			t.Errorf("list failed runs shows the successful %s:\n%s", ok, listed)
		}
	}

	// Schedule recipes: create, trigger one run, check it completes, delete.
	run("schedule-create")
	run("schedule-trigger")
	h := s.Client.ScheduleClient().GetHandle(context.Background(), "zip-95134-hourly")
	var action *client.ScheduleWorkflowExecution
	for end := time.Now().Add(30 * time.Second); action == nil && time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
		d, err := h.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Info.RecentActions) > 0 {
			action = d.Info.RecentActions[0].StartWorkflowResult
		}
	}
	if action == nil {
		t.Fatal("schedule trigger started no run within 30s")
	}
	if !strings.HasPrefix(action.WorkflowID, "zip-95134-hourly-") {
		t.Errorf("scheduled run ID %q is not <schedule>-<time>", action.WorkflowID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res contract.DeployAPITaskResult
	if err := s.Client.GetWorkflow(ctx, action.WorkflowID, action.FirstExecutionRunID).Get(ctx, &res); err != nil || res.BotOutput["State"] != "California" {
		t.Errorf("scheduled run %s: %v, output %v", action.WorkflowID, err, res.BotOutput)
	}
	run("schedule-delete")
	if _, err := h.Describe(context.Background()); err == nil {
		t.Error("the schedule still exists after the delete recipe")
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}
