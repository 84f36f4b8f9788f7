package teststack

import (
	"strings"
	"testing"

	"github.com/rpaflow/rpaflow/internal/config"
)

func TestEnvLoadsAndAppliesOptions(t *testing.T) {
	o := Options{HostPort: "127.0.0.1:7233", Namespace: "it-3", TaskQueue: "q", KeyID: "it", LogLevel: "warn",
		Extra: map[string]string{"RPAFLOW_TRACING": "true", "RPAFLOW_EXTRA_URL": SimURLPlaceholder + "/x"}}
	env := Env(o, "http://127.0.0.1:9")
	for k, want := range map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:7233", "TEMPORAL_NAMESPACE": "it-3",
		"RPAFLOW_TASK_QUEUE": "q", "RPAFLOW_CODEC_KEY_ID": "it", "RPAFLOW_LOG_LEVEL": "warn",
		"RPAFLOW_TRACING": "true", "RPAFLOW_EXTRA_URL": "http://127.0.0.1:9/x"} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
	if !strings.Contains(env["RPAFLOW_PROFILES"], "cr") {
		t.Errorf("RPAFLOW_PROFILES = %q: the demo profiles are missing", env["RPAFLOW_PROFILES"])
	}
	if other := Env(o, "http://127.0.0.1:9"); other["RPAFLOW_CODEC_KEY"] == env["RPAFLOW_CODEC_KEY"] {
		t.Error("two environments share a codec key")
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatalf("the environment does not load: %v", err)
	}
	if cfg.TaskQueue != "q" || cfg.LogLevel != "warn" || cfg.Codec.KeyID != "it" || len(cfg.Codec.Key) != 32 || !cfg.Tracing {
		t.Errorf("config: queue %q, log level %q, key %q (%d bytes), tracing %v", cfg.TaskQueue, cfg.LogLevel, cfg.Codec.KeyID, len(cfg.Codec.Key), cfg.Tracing)
	}
}

func TestStartReportsABadConfig(t *testing.T) {
	_, err := Start(Options{HostPort: "127.0.0.1:7233", Namespace: "n", TaskQueue: "q", KeyID: "k", LogLevel: "loud"})
	if err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Fatalf("Start with log level %q: %v, want a config error", "loud", err)
	}
}
