package cluster

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The Makefile's cluster-tools and the harness install the same server.
func TestMakefileBuildsTheServerVersion(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TEMPORAL_SERVER_VERSION\s*:=\s*(\S+)`).FindSubmatch(b)
	if m == nil || string(m[1]) != ServerVersion {
		t.Errorf("Makefile TEMPORAL_SERVER_VERSION = %q, harness ServerVersion = %s", m, ServerVersion)
	}
}

func TestFreePortFitsASmallint(t *testing.T) {
	taken := map[int]bool{}
	for range 20 {
		p, err := freePort(taken)
		if err != nil {
			t.Fatal(err)
		}
		if p > 32767 {
			t.Fatalf("port %d does not fit Temporal's smallint membership column", p)
		}
	}
	if len(taken) != 20 {
		t.Errorf("%d distinct ports for 20 picks", len(taken))
	}
}

// Two hosts of one service get their own ports; everyone gets the frontend's.
func TestServiceEnv(t *testing.T) {
	c := &Cluster{o: Options{DeployDir: "/d"}, PGPort: 5, ports: map[string][3]int{
		"frontend": {1, 2, 3}, "history-1": {11, 12, 0}, "history-2": {21, 22, 0}}}
	h2 := c.ServiceEnv("history-2")
	for _, want := range []string{"HISTORY_GRPC_PORT=21", "HISTORY_MEMBERSHIP_PORT=22", "FRONTEND_GRPC_PORT=1", "DB_PORT=5",
		"DYNAMIC_CONFIG_FILE_PATH=/d/dynamicconfig/rpaflow.yaml"} {
		if !slices.Contains(h2, want) {
			t.Errorf("history-2 env lacks %s: %s", want, strings.Join(h2, " "))
		}
	}
	if slices.Contains(c.ServiceEnv("history-1"), "HISTORY_GRPC_PORT=21") {
		t.Error("history-1 got history-2's port")
	}
}
