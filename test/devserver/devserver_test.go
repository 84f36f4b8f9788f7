package devserver

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fakeBinary writes an executable file named temporal in a fresh directory.
func fakeBinary(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "temporal")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// goOnlyPath is a PATH with the go tool but no temporal binary.
func goOnlyPath(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	dir := filepath.Dir(goBin)
	if _, err := os.Stat(filepath.Join(dir, "temporal")); err == nil {
		t.Skip("temporal sits next to the go tool")
	}
	return dir
}

func TestFindCLIOrder(t *testing.T) {
	goDir := goOnlyPath(t)
	pathDir, onPath := fakeBinary(t)
	gopath := t.TempDir()
	if err := os.MkdirAll(filepath.Join(gopath, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	inGopath := filepath.Join(gopath, "bin", "temporal")
	if err := os.WriteFile(inGopath, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOPATH", gopath)

	t.Setenv("RPAFLOW_TEMPORAL_CLI", "/explicit/temporal")
	t.Setenv("PATH", pathDir+string(os.PathListSeparator)+goDir)
	if got := FindCLI(); got != "/explicit/temporal" {
		t.Errorf("with RPAFLOW_TEMPORAL_CLI set: %q, want the variable's value", got)
	}
	t.Setenv("RPAFLOW_TEMPORAL_CLI", "")
	if got := FindCLI(); got != onPath {
		t.Errorf("with temporal on PATH: %q, want %q", got, onPath)
	}
	t.Setenv("PATH", goDir)
	if got := FindCLI(); got != inGopath {
		t.Errorf("with temporal only in GOPATH/bin: %q, want %q", got, inGopath)
	}
	if err := os.Remove(inGopath); err != nil {
		t.Fatal(err)
	}
	if got := FindCLI(); got != "" {
		t.Errorf("with no temporal anywhere: %q, want \"\"", got)
	}
}

func TestFreeAddrIsListenableLoopback(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr() = %q: want 127.0.0.1:<port>", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on the free address %s: %v", addr, err)
	}
	l.Close()
}

func TestNamespacesNamesAndExhaustion(t *testing.T) {
	ns := &Namespaces{Prefix: "it", Count: 3}
	if got, want := ns.Names(), []string{"it-1", "it-2", "it-3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, want := range ns.Names() {
		got, err := ns.Next()
		if err != nil || got != want {
			t.Fatalf("Next() = %q, %v; want %q", got, err, want)
		}
	}
	if got, err := ns.Next(); err == nil || !strings.Contains(err.Error(), "raise the namespaces count") {
		t.Fatalf("Next() past the count = %q, %v; want an error saying to raise the constant", got, err)
	}
}

func TestServerOptions(t *testing.T) {
	_, cli := fakeBinary(t)
	got, err := serverOptions(Options{CLI: cli, Namespaces: []string{"a-1", "a-2"}, DBFilename: "x.db", HostPort: "127.0.0.1:7999"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ExistingPath != cli || got.LogLevel != "error" || got.DBFilename != "x.db" ||
		got.ClientOptions.HostPort != "127.0.0.1:7999" || got.ClientOptions.Namespace != "default" {
		t.Errorf("options not carried over: %+v (client %+v)", got, *got.ClientOptions)
	}
	dyn, err := DynamicConfigArgs()
	if err != nil {
		t.Fatal(err)
	}
	if want := append(slices.Clone(dyn), "--namespace", "a-1", "--namespace", "a-2"); !reflect.DeepEqual(got.ExtraArgs, want) {
		t.Errorf("ExtraArgs = %v, want %v", got.ExtraArgs, want)
	}

	got, err = serverOptions(Options{CLI: cli, LogLevel: "never"})
	if err != nil {
		t.Fatal(err)
	}
	if got.LogLevel != "never" || !strings.HasPrefix(got.ClientOptions.HostPort, "127.0.0.1:") || !reflect.DeepEqual(got.ExtraArgs, dyn) {
		t.Errorf("defaults: log level %q, host %q, args %v; want never, a loopback port, %v", got.LogLevel, got.ClientOptions.HostPort, got.ExtraArgs, dyn)
	}
}

// The dev servers run the recommended configuration: task priority and
// eager activities on.
func TestDynamicConfigArgs(t *testing.T) {
	args, err := DynamicConfigArgs()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"matching.useNewMatcher=true", "system.enableActivityEagerExecution=true", "frontend.enableExecuteMultiOperation=true"} {
		i := slices.Index(args, want)
		if i < 1 || args[i-1] != "--dynamic-config-value" {
			t.Errorf("args %v lack --dynamic-config-value %s", args, want)
		}
	}
}

func TestStartWithoutCLI(t *testing.T) {
	t.Setenv("RPAFLOW_TEMPORAL_CLI", "")
	t.Setenv("PATH", goOnlyPath(t))
	t.Setenv("GOPATH", t.TempDir())
	if _, err := Start(t.Context(), Options{}); !errors.Is(err, ErrNoCLI) {
		t.Fatalf("Start with no temporal binary: %v, want ErrNoCLI", err)
	}
}
