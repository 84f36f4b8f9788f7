package composetest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stage is one FROM section of the Dockerfile.
type stage struct {
	name, from string
	user       string   // last USER in this stage ("" if none)
	entrypoint string   // last ENTRYPOINT
	runs       []string // RUN instructions, continuation lines joined
}

// parseDockerfile splits the Dockerfile into stages; enough of the syntax for
// these checks (instructions, line continuations, comments).
func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		instr, args, _ := strings.Cut(line, " ")
		args = strings.TrimSpace(args)
		switch strings.ToUpper(instr) {
		case "FROM":
			f := strings.Fields(args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case "USER", "ENTRYPOINT", "RUN":
			if len(stages) == 0 {
				t.Fatalf("Dockerfile: %s before FROM", instr)
			}
			st := &stages[len(stages)-1]
			switch strings.ToUpper(instr) {
			case "USER":
				st.user = args
			case "ENTRYPOINT":
				st.entrypoint = args
			default:
				st.runs = append(st.runs, args)
			}
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if len(stages) == 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	return stages
}

// effective returns the stage called name with the USER and ENTRYPOINT it
// inherits through FROM <earlier stage>.
func effective(stages []stage, i int) stage {
	st := stages[i]
	for j := i - 1; j >= 0; j-- {
		if stages[j].name == "" || stages[j].name != stages[i].from {
			continue
		}
		parent := effective(stages, j)
		if st.user == "" {
			st.user = parent.user
		}
		if st.entrypoint == "" {
			st.entrypoint = parent.entrypoint
		}
		break
	}
	return st
}

func isRoot(user string) bool {
	u, g, _ := strings.Cut(user, ":")
	return u == "" || u == "root" || u == "0" || g == "root" || g == "0"
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	byName := map[string]int{}
	for i, st := range stages {
		if st.name != "" {
			byName[st.name] = i
		}
		if _, isStage := byName[st.from]; !isStage && st.from != "scratch" {
			if tag := imageTag(st.from); tag == "" || tag == "latest" {
				t.Errorf("FROM %s is not pinned to a tag", st.from)
			}
		}
	}

	// The default target (the last stage) is the worker, and it is not root.
	last := effective(stages, len(stages)-1)
	if isRoot(last.user) {
		t.Errorf("the final stage runs as %q; set a non-root USER", last.user)
	}
	if !strings.Contains(last.entrypoint, "worker") {
		t.Errorf("the default image runs %s; want the worker", last.entrypoint)
	}

	// Every target compose builds exists, runs its binary, and is not root.
	p := load(t, "tools")
	for name, s := range p.Services {
		if s.Build == nil {
			continue
		}
		i, ok := byName[s.Build.Target]
		if !ok {
			t.Errorf("%s builds target %q, which the Dockerfile lacks", name, s.Build.Target)
			continue
		}
		st := effective(stages, i)
		if isRoot(st.user) {
			t.Errorf("target %s runs as %q; set a non-root USER", s.Build.Target, st.user)
		}
		if !strings.Contains(st.entrypoint, "/"+name+`"`) {
			t.Errorf("target %s has ENTRYPOINT %s; want the %s binary", s.Build.Target, st.entrypoint, name)
		}
	}

	// Static, reproducible binaries.
	build := strings.Join(stages[0].runs, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "--mount=type=cache"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage's RUN lacks %s", want)
		}
	}
}
