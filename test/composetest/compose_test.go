// Package composetest validates docker-compose.yml and the Dockerfile without
// Docker: CI machines have no engine, so the compose file is loaded with the
// library Docker Compose itself uses, and the workers' environment is checked
// with rpaflow's own configuration loader.
package composetest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// root is the repository root (tests run in their package directory).
var root = filepath.Join("..", "..")

// load reads docker-compose.yml as `docker compose` would, with the given
// profiles enabled. Interpolation sees an empty environment so the result does
// not depend on the developer's shell; env_file entries are left to serviceEnv
// (the real files are uncommitted).
func load(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SkipResolveEnvironment = true
		o.Profiles = profiles
	})
	if err != nil {
		t.Fatalf("loading docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

var allServices = []string{"postgresql", "temporal-schema-setup", "temporal", "temporal-create-namespace",
	"temporal-ui", "codec-proxy", "worker", "simulator", "starter", "prometheus", "grafana"}

func TestServicesExist(t *testing.T) {
	p := load(t, "tools")
	for _, name := range allServices {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("missing service %q", name)
		}
	}
	for name := range p.Services {
		if !slices.Contains(allServices, name) {
			t.Errorf("service %q is not covered by these tests", name)
		}
	}

	// The starter is a tool: a plain `docker compose up` must not start it.
	if _, err := load(t).GetService("starter"); err == nil {
		t.Error("starter runs without --profile tools; put it under profiles: [tools]")
	}
	if got := service(t, p, "starter").Profiles; !slices.Equal(got, []string{"tools"}) {
		t.Errorf("starter profiles = %v, want [tools]", got)
	}
}

func TestImagesPinned(t *testing.T) {
	p := load(t, "tools")
	for name, s := range p.Services {
		tag := imageTag(s.Image)
		switch {
		case s.Image == "":
			t.Errorf("%s: no image name", name)
		case tag == "" || tag == "latest":
			t.Errorf("%s: image %q is not pinned to a tag", name, s.Image)
		case s.Build == nil && !strings.ContainsAny(tag, "0123456789"):
			t.Errorf("%s: image %q should name a version", name, s.Image)
		}
	}
	// The admin-tools jobs must match the server whose schema they manage.
	server := imageTag(service(t, p, "temporal").Image)
	for _, n := range []string{"temporal-schema-setup", "temporal-create-namespace"} {
		if got := imageTag(service(t, p, n).Image); got != server {
			t.Errorf("%s uses admin-tools %s, the server is %s", n, got, server)
		}
	}
}

// imageTag returns the tag of an image reference ("" when there is none).
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

func TestPorts(t *testing.T) {
	p := load(t, "tools")
	want := map[string]uint32{"temporal": 7233, "temporal-ui": 8080, "codec-proxy": 8082, "simulator": 8090, "prometheus": 9090, "grafana": 3000}
	for name, port := range want {
		s := service(t, p, name)
		i := slices.IndexFunc(s.Ports, func(pc types.ServicePortConfig) bool {
			return pc.Target == port && pc.Published == strconv.Itoa(int(port))
		})
		if i < 0 {
			t.Errorf("%s does not publish %d:%d (ports %+v)", name, port, port, s.Ports)
			continue
		}
		// The codec proxy adds the codec's token and the simulators take demo credentials.
		if ip := s.Ports[i].HostIP; ip != "127.0.0.1" {
			t.Errorf("%s publishes %d on %q; bind it to 127.0.0.1", name, port, ip)
		}
	}
	for _, name := range []string{"worker", "postgresql", "temporal-schema-setup", "temporal-create-namespace", "starter"} {
		if ports := service(t, p, name).Ports; len(ports) > 0 {
			t.Errorf("%s publishes %+v; it must stay internal (worker replicas would also clash)", name, ports)
		}
	}
}

func TestWorkerReplicas(t *testing.T) {
	w := service(t, load(t), "worker")
	if w.Deploy == nil || w.Deploy.Replicas == nil {
		t.Fatal("worker has no deploy.replicas; want 2")
	}
	if n := *w.Deploy.Replicas; n != 2 {
		t.Errorf("worker deploy.replicas = %d, want 2", n)
	}
	if w.ContainerName != "" {
		t.Errorf("worker sets container_name %q; replicas need generated names", w.ContainerName)
	}
	if w.StopGracePeriod == nil || *w.StopGracePeriod < types.Duration(30e9) {
		t.Errorf("worker stop_grace_period = %v; the worker waits up to 30s for activities on SIGTERM", w.StopGracePeriod)
	}
}

// TestStartupOrder checks the chain postgresql (healthy) → schema job
// (completed) → temporal (healthy) → namespace job (completed) → workers.
func TestStartupOrder(t *testing.T) {
	p := load(t, "tools")
	deps := []struct{ service, on, condition string }{
		{"temporal-schema-setup", "postgresql", types.ServiceConditionHealthy},
		{"temporal", "temporal-schema-setup", types.ServiceConditionCompletedSuccessfully},
		{"temporal-create-namespace", "temporal", types.ServiceConditionHealthy},
		{"temporal-ui", "temporal", types.ServiceConditionHealthy},
		{"worker", "temporal-create-namespace", types.ServiceConditionCompletedSuccessfully},
		{"worker", "simulator", types.ServiceConditionStarted},
		{"starter", "worker", types.ServiceConditionStarted},
	}
	for _, d := range deps {
		dep, ok := service(t, p, d.service).DependsOn[d.on]
		if !ok {
			t.Errorf("%s does not depend on %s", d.service, d.on)
			continue
		}
		if dep.Condition != d.condition {
			t.Errorf("%s depends on %s with condition %q, want %q", d.service, d.on, dep.Condition, d.condition)
		}
	}
	// Every service_healthy dependency needs a healthcheck to become healthy.
	for name, s := range p.Services {
		for on, dep := range s.DependsOn {
			if dep.Condition != types.ServiceConditionHealthy {
				continue
			}
			hc := service(t, p, on).HealthCheck
			if hc == nil || hc.Disable || len(hc.Test) == 0 {
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, on, on)
			}
		}
	}
	for _, name := range []string{"postgresql", "temporal", "codec-proxy"} {
		if hc := service(t, p, name).HealthCheck; hc == nil || len(hc.Test) == 0 {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	// One-shot jobs run a script from deploy/ and must not restart forever.
	for _, name := range []string{"temporal-schema-setup", "temporal-create-namespace"} {
		s := service(t, p, name)
		if !strings.HasPrefix(s.Restart, "on-failure") {
			t.Errorf("%s restart = %q; a one-shot job should use on-failure[:n]", name, s.Restart)
		}
		if len(s.Command) == 0 || !strings.HasPrefix(s.Command[len(s.Command)-1], "/scripts/") {
			t.Errorf("%s command = %v; want a script from deploy/temporal/scripts", name, s.Command)
		}
	}
}

// Prometheus loads the shipped alert rules and scrapes the workers; Grafana
// is provisioned with that Prometheus and the shipped dashboard.
func TestObservabilityServices(t *testing.T) {
	p := load(t, "tools")
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	mounts := func(name string) map[string]string {
		out := map[string]string{}
		for _, v := range service(t, p, name).Volumes {
			rel, err := filepath.Rel(abs, v.Source)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.ToSlash(rel)] = v.Target
		}
		return out
	}
	prom := mounts("prometheus")
	if prom["deploy/prometheus/rpaflow-alerts.yml"] != "/etc/prometheus/rpaflow-alerts.yml" || prom["deploy/prometheus/prometheus.yml"] != "/etc/prometheus/prometheus.yml" {
		t.Errorf("prometheus mounts %v", prom)
	}
	cfg, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/etc/prometheus/rpaflow-alerts.yml", "names: [worker]", "port: 8081"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("deploy/prometheus/prometheus.yml lacks %q", want)
		}
	}
	graf := mounts("grafana")
	if graf["deploy/grafana/provisioning"] != "/etc/grafana/provisioning" || graf["deploy/grafana/rpaflow.json"] != "/var/lib/grafana/dashboards/rpaflow.json" {
		t.Errorf("grafana mounts %v", graf)
	}
	ds, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml"))
	if err != nil || !strings.Contains(string(ds), "url: http://prometheus:9090") {
		t.Errorf("grafana data source does not point at the compose Prometheus: %v", err)
	}
	db, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "provisioning", "dashboards", "rpaflow.yml"))
	if err != nil || !strings.Contains(string(db), "path: /var/lib/grafana/dashboards") {
		t.Errorf("grafana dashboard provider does not load the mounted folder: %v", err)
	}
}
