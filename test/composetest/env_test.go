package composetest

import (
	"bytes"
	"encoding/base64"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/simenv"
	"github.com/rpaflow/rpaflow/starter/cli"
)

const simulatorURL = "http://simulator:8090"

// serviceEnv builds the environment a container of s would get: its env_file
// entries (each read from the committed <path>.example, since the real file is
// uncommitted), then `environment:` on top, as Compose does. Every secret's
// <VAR>_FILE must point at a Docker secret mounted into s; it is redirected to
// a temporary file holding a valid placeholder, so config.LoadFrom exercises
// the _FILE path.
func serviceEnv(t *testing.T, p *types.Project, s types.ServiceConfig) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range s.EnvFiles {
		vars, err := dotenv.ReadFile(ef.Path+".example", nil)
		if err != nil {
			t.Fatalf("%s: env_file %s needs a committed example: %v", s.Name, ef.Path, err)
		}
		maps.Copy(env, vars)
	}
	for k, v := range s.Environment {
		if v == nil {
			delete(env, k) // a bare KEY would come from the shell running compose
			continue
		}
		env[k] = *v
	}

	mounted := map[string]bool{} // paths in the container
	for _, sec := range s.Secrets {
		target := sec.Target
		if target == "" {
			target = sec.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		if _, ok := p.Secrets[sec.Source]; !ok {
			t.Errorf("%s mounts undeclared secret %q", s.Name, sec.Source)
		}
		mounted[target] = true
	}
	secret := secretVarPattern()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		name, ok := strings.CutSuffix(k, "_FILE")
		if !ok || !secret.MatchString(name) {
			continue // e.g. TEMPORAL_CONFIG_FILE is a path, not a secret
		}
		if !mounted[env[k]] {
			t.Errorf("%s: %s=%s is not a secret mounted into the service (mounted: %v)", s.Name, k, env[k], slices.Sorted(maps.Keys(mounted)))
			continue
		}
		f := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(f, []byte(placeholder(name)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env[k] = f
	}
	return env
}

// placeholder is a well-formed stand-in for the secret variable name.
func placeholder(name string) string {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))
	switch name {
	case "RPAFLOW_CODEC_KEY":
		return key
	case "RPAFLOW_CODEC_OLD_KEYS":
		return "old=" + key
	}
	return "placeholder-" + strings.ToLower(name)
}

// TestWorkerEnvironment is the check that matters most: a worker container
// gets every variable it needs, and the configuration loader accepts it.
func TestWorkerEnvironment(t *testing.T) {
	p := load(t)
	w := service(t, p, "worker")
	env := serviceEnv(t, p, w)
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatalf("the worker's compose environment does not load:\n%v", err)
	}

	if got := env["TEMPORAL_ADDRESS"]; got != "temporal:7233" {
		t.Errorf("TEMPORAL_ADDRESS = %q, want temporal:7233", got)
	}
	// The default 127.0.0.1:8081 would be unreachable from the proxy and Prometheus.
	if cfg.HTTPAddr != "0.0.0.0:8081" {
		t.Errorf("RPAFLOW_HTTP_ADDR = %q, want 0.0.0.0:8081", cfg.HTTPAddr)
	}
	if cfg.Codec.InsecurePlaintext || cfg.Codec.Key == nil {
		t.Error("the compose workers must encrypt payloads with the codec key secret")
	}
	// The codec listens on the network for the proxy, so it must
	// authenticate (the loader refuses otherwise), with a secret file.
	if cfg.Codec.Addr != "0.0.0.0:8082" || cfg.Codec.AuthToken == "" {
		t.Errorf("codec on %q with auth token %v, want 0.0.0.0:8082 with RPAFLOW_CODEC_AUTH_TOKEN_FILE", cfg.Codec.Addr, cfg.Codec.AuthToken != "")
	}
	if got := ev(w, "RPAFLOW_CODEC_AUTH_TOKEN_FILE"); !strings.HasPrefix(got, "/run/secrets/") {
		t.Errorf("RPAFLOW_CODEC_AUTH_TOKEN_FILE = %q; it should point at a Docker secret", got)
	}
	if !slices.Contains(cfg.Codec.CORSOrigins, "http://localhost:8080") {
		t.Errorf("RPAFLOW_CODEC_CORS_ORIGINS = %v lacks the UI's origin http://localhost:8080", cfg.Codec.CORSOrigins)
	}
	if got := ev(w, "RPAFLOW_CODEC_KEY_FILE"); !strings.HasPrefix(got, "/run/secrets/") {
		t.Errorf("RPAFLOW_CODEC_KEY_FILE = %q; it should point at a Docker secret", got)
	}
	if !slices.Equal(cfg.ProfileNames(), []string{"cr", "orch", "hub"}) {
		t.Errorf("profiles = %v, want the demo profiles cr, orch, hub", cfg.ProfileNames())
	}
	for _, prof := range cfg.Profiles {
		u, err := url.Parse(prof.URL)
		if err != nil || u.Scheme != "http" || u.Host != "simulator:8090" {
			t.Errorf("profile %s URL %q should point at the simulator service", prof.Name, prof.URL)
		}
		if !prof.AllowHTTP {
			t.Errorf("profile %s needs _ALLOW_HTTP=true for the simulator's plain http", prof.Name)
		}
	}

	// Same values as the simulator's own -print-env, so the demo credentials
	// in the example env file are the ones the simulators accept.
	for _, kv := range simenv.WorkerEnv(simulatorURL) {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "_TOKEN_EXPIRES") {
			continue // computed from the current date; optional
		}
		if env[k] != v {
			t.Errorf("%s = %q, the simulator expects %q", k, env[k], v)
		}
	}
}

func TestSimulatorService(t *testing.T) {
	s := service(t, load(t), "simulator")
	want := []string{"-addr", "0.0.0.0:8090", "-public-url", simulatorURL}
	if !slices.Equal(s.Command, want) {
		t.Errorf("simulator command = %v, want %v", s.Command, want)
	}
	if s.Build == nil || s.Build.Target != "simulator" {
		t.Errorf("simulator should build the Dockerfile's simulator target, got %+v", s.Build)
	}
}

// TestStarterEnvironment: the starter reads and writes the workers' payloads,
// so it needs the same connection, task queue and codec key, but no platform
// credentials.
func TestStarterEnvironment(t *testing.T) {
	p := load(t, "tools")
	st := service(t, p, "starter")
	w := service(t, p, "worker")
	env := serviceEnv(t, p, st)
	if _, err := cli.LoadConfig(env); err != nil {
		t.Fatalf("the starter's compose environment does not load:\n%v", err)
	}
	for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "RPAFLOW_TASK_QUEUE", "RPAFLOW_CODEC_KEY_FILE", "RPAFLOW_CODEC_KEY_ID"} {
		if ev(st, k) != ev(w, k) {
			t.Errorf("%s differs: starter %q, worker %q", k, ev(st, k), ev(w, k))
		}
	}
	if !slices.Equal(secretNames(st), []string{"codec_key"}) || !slices.Contains(secretNames(w), "codec_key") {
		t.Errorf("starter secrets %v, worker secrets %v; both need the codec key, the starter nothing else", secretNames(st), secretNames(w))
	}
	if len(st.EnvFiles) > 0 {
		t.Errorf("starter reads %v; platform credentials belong to the workers only", st.EnvFiles)
	}
}

func secretNames(s types.ServiceConfig) []string {
	var out []string
	for _, sec := range s.Secrets {
		out = append(out, sec.Source)
	}
	slices.Sort(out)
	return out
}

// TestNoCommittedSecrets: secret values come only from git-ignored files.
func TestNoCommittedSecrets(t *testing.T) {
	p := load(t, "tools")
	secret := secretVarPattern()
	for name, s := range p.Services {
		for k, v := range s.Environment {
			if secret.MatchString(k) && v != nil && *v != "" {
				t.Errorf("%s sets secret %s inline; use env_file or a *_FILE Docker secret", name, k)
			}
		}
		for _, ef := range s.EnvFiles {
			checkIgnored(t, ef.Path)
		}
	}
	if len(p.Secrets) == 0 {
		t.Error("no Docker secrets declared; the codec key should be one")
	}
	for name, sec := range p.Secrets {
		if sec.File == "" {
			t.Errorf("secret %s is not file-based", name)
			continue
		}
		checkIgnored(t, sec.File)
	}
	example, err := os.ReadFile(filepath.Join(root, "deploy", "rpaflow.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(example), "RPAFLOW_CODEC_KEY=") {
		t.Error("rpaflow.env.example must not carry a codec key")
	}
}

// secretVarPattern matches every secret variable config.Variables documents,
// per-profile ones for any profile name.
func secretVarPattern() *regexp.Regexp {
	var alts []string
	for _, v := range config.Variables() {
		if !v.Secret {
			continue
		}
		q := regexp.QuoteMeta(v.Name)
		alts = append(alts, strings.Replace(q, regexp.QuoteMeta("RPAFLOW_<NAME>_"), "RPAFLOW_[A-Z0-9_]+_", 1))
	}
	return regexp.MustCompile("^(" + strings.Join(alts, "|") + ")$")
}

// checkIgnored fails unless path (absolute, inside deploy/) is listed in
// deploy/.gitignore, itself or through its directory.
func checkIgnored(t *testing.T, path string) {
	t.Helper()
	deploy, err := filepath.Abs(filepath.Join(root, "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(deploy, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Errorf("%s holds secrets outside deploy/, where deploy/.gitignore cannot cover it", path)
		return
	}
	ignore, err := os.ReadFile(filepath.Join(deploy, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	rel = "/" + filepath.ToSlash(rel)
	for _, line := range strings.Split(string(ignore), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && (rel == line || strings.HasSuffix(line, "/") && strings.HasPrefix(rel, line)) {
			return
		}
	}
	t.Errorf("deploy%s holds secrets but deploy/.gitignore does not list it", rel)
}

// TestCodecReachableFromBrowser: the UI's codec endpoint is fetched by the
// browser, so it must be a published host port that leads to a worker.
func TestCodecReachableFromBrowser(t *testing.T) {
	p := load(t)
	ui := service(t, p, "temporal-ui")
	if got := ev(ui, "TEMPORAL_ADDRESS"); got != "temporal:7233" {
		t.Errorf("temporal-ui TEMPORAL_ADDRESS = %q", got)
	}
	endpoint := ev(ui, "TEMPORAL_CODEC_ENDPOINT")
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() != "localhost" || u.Path != "/codec" {
		t.Fatalf("TEMPORAL_CODEC_ENDPOINT = %q, want http://localhost:<published port>/codec", endpoint)
	}
	proxy := service(t, p, "codec-proxy")
	published := slices.ContainsFunc(proxy.Ports, func(pc types.ServicePortConfig) bool { return pc.Published == u.Port() })
	if !published {
		t.Errorf("codec endpoint port %s is not published by codec-proxy (%+v)", u.Port(), proxy.Ports)
	}

	// The proxy forwards /codec to the worker service's codec port, with the
	// codec's token from the secret both mount.
	conf := ""
	for _, v := range proxy.Volumes {
		if strings.HasPrefix(v.Target, "/etc/nginx/templates/") {
			b, err := os.ReadFile(v.Source)
			if err != nil {
				t.Fatal(err)
			}
			conf = string(b)
		}
	}
	_, port, _ := strings.Cut(ev(service(t, p, "worker"), "RPAFLOW_CODEC_ADDR"), ":")
	if !slices.Contains(secretNames(proxy), "codec_auth_token") || !slices.Contains(secretNames(service(t, p, "worker")), "codec_auth_token") {
		t.Errorf("codec-proxy and worker must both mount the codec_auth_token secret")
	}
	for _, want := range []string{"listen " + u.Port() + ";", "location /codec", "worker:" + port, "resolver 127.0.0.11",
		`proxy_set_header Authorization "Bearer ${CODEC_AUTH_TOKEN}"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("codec-proxy config lacks %q", want)
		}
	}
}

// TestMountedFilesExist: every bind mount and script comes from this repository.
func TestMountedFilesExist(t *testing.T) {
	p := load(t, "tools")
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", name, v.Source, err)
			}
		}
	}
	for _, f := range []string{"setup-postgres.sh", "create-namespace.sh"} {
		if _, err := os.Stat(filepath.Join(root, "deploy", "temporal", "scripts", f)); err != nil {
			t.Error(err)
		}
	}
	dc, err := os.ReadFile(filepath.Join(root, "deploy", "temporal", "dynamicconfig", "rpaflow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dc), "frontend.enableExecuteMultiOperation:") {
		t.Error("dynamic config does not enable Update-With-Start (frontend.enableExecuteMultiOperation)")
	}
	// DYNAMIC_CONFIG_FILE_PATH is checked by TestTemporalRunsTheTestedConfig.
}

// ev returns the value of k in s's environment: section ("" if unset).
func ev(s types.ServiceConfig, k string) string {
	if v := s.Environment[k]; v != nil {
		return *v
	}
	return ""
}
