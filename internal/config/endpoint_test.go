package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The starter may name the worker's codec endpoint instead of holding the
// key; the worker may not, and a key, when present, wins.
func TestCodecEndpoint(t *testing.T) {
	noKey := func() map[string]string {
		env := validEnv()
		delete(env, "RPAFLOW_CODEC_KEY")
		delete(env, "RPAFLOW_CODEC_OLD_KEYS")
		env["RPAFLOW_CODEC_ENDPOINT"] = "http://127.0.0.1:8081/codec/"
		return env
	}

	cfg, err := LoadClient(noKey())
	if err != nil {
		t.Fatalf("client with endpoint, no key: %v", err)
	}
	if cfg.Codec.Endpoint != "http://127.0.0.1:8081/codec" || cfg.Codec.Key != nil || cfg.Codec.AuthToken != "codec-auth-token-1-0123456789abcdef" {
		t.Errorf("codec = endpoint %q, key %d bytes, auth token set %v", cfg.Codec.Endpoint, len(cfg.Codec.Key), cfg.Codec.AuthToken != "")
	}

	withKey := validEnv()
	withKey["RPAFLOW_CODEC_ENDPOINT"] = "http://127.0.0.1:8081/codec"
	if cfg, err := LoadClient(withKey); err != nil || cfg.Codec.Endpoint != "" || string(cfg.Codec.Key) != string(activeKey) {
		t.Errorf("client with key and endpoint: the key must win: %v, endpoint %q", err, cfg.Codec.Endpoint)
	}

	// The worker serves the codec: it needs the key itself.
	_, err = LoadFrom(noKey())
	var ce *Error
	if !errors.As(err, &ce) || !slices.ContainsFunc(ce.Problems, func(p string) bool { return strings.Contains(p, "RPAFLOW_CODEC_KEY is not set") }) {
		t.Errorf("worker with only an endpoint: %v", err)
	}

	for _, ok := range []string{"http://localhost:8082/codec", "http://[::1]:8082/codec", "http://127.0.0.2:8082/codec", "https://codec.example.com/codec"} {
		env := noKey()
		env["RPAFLOW_CODEC_ENDPOINT"] = ok
		if _, err := LoadClient(env); err != nil {
			t.Errorf("RPAFLOW_CODEC_ENDPOINT=%s: %v", ok, err)
		}
	}
	for name, tc := range map[string]struct {
		change func(map[string]string)
		want   string
	}{
		"not a URL":    {func(e map[string]string) { e["RPAFLOW_CODEC_ENDPOINT"] = "127.0.0.1:8081/codec" }, "RPAFLOW_CODEC_ENDPOINT=\"127.0.0.1:8081/codec\" is not an http(s) URL"},
		"other scheme": {func(e map[string]string) { e["RPAFLOW_CODEC_ENDPOINT"] = "ftp://h/codec" }, "is not an http(s) URL"},
		"with query":   {func(e map[string]string) { e["RPAFLOW_CODEC_ENDPOINT"] = "https://h/codec?x=1" }, "without query"},
		"http off loopback": {func(e map[string]string) { e["RPAFLOW_CODEC_ENDPOINT"] = "http://codec.example.com:8082/codec" },
			`sends payloads and the codec's credentials in clear to codec.example.com; use https://`},
		"http to a loopback look-alike": {func(e map[string]string) { e["RPAFLOW_CODEC_ENDPOINT"] = "http://127.0.0.1.example.com/codec" }, "in clear"},
		"and plaintext":                 {func(e map[string]string) { e["RPAFLOW_INSECURE_PLAINTEXT"] = "true" }, "RPAFLOW_CODEC_ENDPOINT and RPAFLOW_INSECURE_PLAINTEXT=true are both set"},
		"neither": {func(e map[string]string) { delete(e, "RPAFLOW_CODEC_ENDPOINT") },
			"set RPAFLOW_CODEC_ENDPOINT to the worker's codec endpoint"},
	} {
		env := noKey()
		tc.change(env)
		_, err := LoadClient(env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}
