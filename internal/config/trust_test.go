package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/profile"
)

func TestLoadFromNexusQueues(t *testing.T) {
	env := validEnv()
	env["RPAFLOW_NEXUS_QUEUES"] = " rpaflow-orders = cr|orch ; rpaflow-billing=orch"
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	want := []profile.NexusQueue{{TaskQueue: "rpaflow-orders", Profiles: []string{"cr", "orch"}}, {TaskQueue: "rpaflow-billing", Profiles: []string{"orch"}}}
	if !reflect.DeepEqual(cfg.NexusQueues, want) {
		t.Errorf("NexusQueues = %+v, want %+v", cfg.NexusQueues, want)
	}
	delete(env, "RPAFLOW_NEXUS_QUEUES")
	if cfg, err := LoadFrom(env); err != nil || cfg.NexusQueues != nil {
		t.Errorf("unset: %+v, %v; want no queues (the Nexus service on the task queue with every profile)", cfg.NexusQueues, err)
	}
}

// Every malformed value is refused at start, naming the variable and the problem.
func TestLoadFromNexusQueuesProblems(t *testing.T) {
	for value, want := range map[string]string{
		"rpaflow-orders":                    `entry 1 ("rpaflow-orders") is not queue=profile|profile`,
		"rpaflow-orders=":                   `task queue "rpaflow-orders" allows no profile`,
		"=cr":                               "a task queue name is empty",
		"a=cr;a=orch":                       `task queue "a" is listed twice`,
		"a=cr;":                             `entry 2 ("") is not queue=profile|profile`,
		"a=cr|nope":                         `allows profile "nope", which is not configured`,
		"a=cr||orch":                        "profile 2 is empty",
		"a=cr|cr":                           `lists profile "cr" twice`,
		"a:b=cr":                            `task queue "a:b" contains ':'`,
		"a b=cr":                            `contains ' '`,
		strings.Repeat("q", 201) + "=cr":    "longer than 200 characters",
		"rpaflow-orders=cr;rpaflow-b=orch|": "profile 2 is empty",
	} {
		env := validEnv()
		env["RPAFLOW_NEXUS_QUEUES"] = value
		_, err := LoadFrom(env)
		if err == nil || !strings.Contains(err.Error(), "RPAFLOW_NEXUS_QUEUES: ") && !strings.Contains(err.Error(), "RPAFLOW_NEXUS_QUEUES entry") || !strings.Contains(err.Error(), want) {
			t.Errorf("RPAFLOW_NEXUS_QUEUES=%q: %v; want a problem naming the variable and %q", value, err, want)
		}
	}
}

// A secret file group or others may read loads, with a warning naming the
// file and the fix; a private one loads without.
func TestLoadFromSecretFileModeWarning(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	private := filepath.Join(dir, "private")
	for p, mode := range map[string]os.FileMode{open: 0o644, private: 0o600} {
		if err := os.WriteFile(p, []byte("file-secret-value\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // the umask may have narrowed it
			t.Fatal(err)
		}
	}
	env := validEnv()
	delete(env, "RPAFLOW_CR_API_KEY")
	delete(env, "TEMPORAL_API_KEY")
	env["RPAFLOW_CR_API_KEY_FILE"] = open
	env["TEMPORAL_API_KEY_FILE"] = private
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "RPAFLOW_CR_API_KEY_FILE") || !strings.Contains(cfg.Warnings[0], open) ||
		!strings.Contains(cfg.Warnings[0], "chmod 600") || strings.Contains(cfg.Warnings[0], "file-secret-value") {
		t.Errorf("warnings = %q, want one naming RPAFLOW_CR_API_KEY_FILE, %s and chmod 600, without the secret", cfg.Warnings, open)
	}
}
