package composetest

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rpaflow/rpaflow/test/cluster"
)

// templateEnv lists the environment variables the server configuration
// template reads ({{ env "NAME" ... }}).
func templateEnv(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "temporal", cluster.ConfigDir, cluster.ConfigEnv+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`env "([A-Z0-9_]+)"`).FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		t.Fatal("the server configuration reads no environment variable; is it still a template?")
	}
	return names
}

// TestTemporalRunsTheTestedConfig fails when docker-compose.yml and the
// cluster harness (`make test-cluster`) drift apart: same server version,
// same configuration file and dynamic config, same schema and namespace
// scripts, and no setting the configuration does not read.
func TestTemporalRunsTheTestedConfig(t *testing.T) {
	p := load(t, "tools")
	srv := service(t, p, "temporal")
	if got, want := imageTag(srv.Image), strings.TrimPrefix(cluster.ServerVersion, "v"); got != want {
		t.Errorf("temporal image %s; the cluster tests run server %s", srv.Image, cluster.ServerVersion)
	}

	// The repository's deploy/temporal, mounted whole.
	abs, err := filepath.Abs(filepath.Join(root, "deploy", "temporal"))
	if err != nil {
		t.Fatal(err)
	}
	mount := ""
	for _, v := range srv.Volumes {
		if v.Type == types.VolumeTypeBind && filepath.Clean(v.Source) == abs {
			mount = v.Target
		}
	}
	if mount == "" {
		t.Fatalf("temporal does not mount ./deploy/temporal (volumes %+v)", srv.Volumes)
	}
	args := append(slices.Clone(srv.Entrypoint), srv.Command...)
	flag := func(name string) string {
		if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
			return args[i+1]
		}
		return ""
	}
	if got, want := flag("--config"), path.Join(mount, cluster.ConfigDir); got != want || flag("--root") != "/" {
		t.Errorf("temporal runs --root %q --config %q, want --root / --config %s (%v)", flag("--root"), got, want, args)
	}
	if got := flag("--env"); got != cluster.ConfigEnv {
		t.Errorf("temporal runs --env %q, want %q (%v)", got, cluster.ConfigEnv, args)
	}
	if !slices.Contains(args, "start") {
		t.Errorf("temporal does not run `start`: %v", args)
	}
	if got, want := ev(srv, "DYNAMIC_CONFIG_FILE_PATH"), path.Join(mount, cluster.DynamicConfigFile); got != want {
		t.Errorf("temporal DYNAMIC_CONFIG_FILE_PATH = %q, want %q", got, want)
	}

	// Every variable compose sets on the server is one the configuration
	// reads, and so is every variable the harness sets.
	read := templateEnv(t)
	for k := range srv.Environment {
		if !slices.Contains(read, k) {
			t.Errorf("temporal sets %s, which deploy/temporal/config does not read", k)
		}
	}
	for _, kv := range (&cluster.Cluster{}).ServiceEnv("history-2") {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(read, k) {
			t.Errorf("the cluster harness sets %s, which deploy/temporal/config does not read", k)
		}
	}
	// The schema job and the server see the same database.
	schema := service(t, p, "temporal-schema-setup")
	for _, k := range []string{"POSTGRES_SEEDS", "DB_PORT", "POSTGRES_USER", "POSTGRES_PWD"} {
		if ev(srv, k) == "" || ev(srv, k) != ev(schema, k) {
			t.Errorf("%s: server %q, schema job %q", k, ev(srv, k), ev(schema, k))
		}
	}

	// The one-shot jobs run the scripts the harness runs.
	for name, script := range map[string]string{"temporal-schema-setup": cluster.SchemaScript, "temporal-create-namespace": cluster.NamespaceScript} {
		s := service(t, p, name)
		if len(s.Command) == 0 || path.Base(s.Command[len(s.Command)-1]) != path.Base(script) {
			t.Errorf("%s runs %v, want deploy/temporal/%s (what the cluster harness runs)", name, s.Command, script)
		}
	}
}
