package config

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

// The codec endpoint's own settings: where it listens and whom it lets in.
func TestCodecServerSettings(t *testing.T) {
	env := validEnv()
	env["RPAFLOW_CODEC_ADDR"] = "0.0.0.0:8082"
	env["RPAFLOW_CODEC_OIDC_ISSUER"] = "https://login.example.com/realms/temporal"
	env["RPAFLOW_CODEC_OIDC_AUDIENCE"] = "temporal-ui"
	env["RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM"] = "groups = rpaflow-readers"
	env["RPAFLOW_CODEC_CORS_ORIGINS"] = "https://temporal.example.com, http://localhost:8080/"
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Codec
	if c.Addr != "0.0.0.0:8082" || c.OIDC != (OIDC{Issuer: "https://login.example.com/realms/temporal", Audience: "temporal-ui", Claim: "groups", Value: "rpaflow-readers"}) ||
		!slices.Equal(c.CORSOrigins, []string{"https://temporal.example.com", "http://localhost:8080"}) {
		t.Errorf("codec settings %+v", c)
	}
	def, err := LoadFrom(validEnv())
	if err != nil || def.Codec.Addr != "127.0.0.1:8082" || def.Codec.CORSOrigins != nil {
		t.Errorf("defaults: %+v %v", def, err)
	}
	// loopback needs no authentication; the UI's local origin may be listed
	for _, addr := range []string{"127.0.0.1:8082", "[::1]:8082", "localhost:0"} {
		env := validEnv()
		delete(env, "RPAFLOW_CODEC_AUTH_TOKEN")
		env["RPAFLOW_CODEC_ADDR"] = addr
		if _, err := LoadFrom(env); err != nil {
			t.Errorf("%s without auth: %v", addr, err)
		}
	}
	// an http issuer on loopback is for tests and the local stack
	env = validEnv()
	env["RPAFLOW_CODEC_OIDC_ISSUER"] = "http://127.0.0.1:5556"
	env["RPAFLOW_CODEC_OIDC_AUDIENCE"] = "temporal-ui"
	if _, err := LoadFrom(env); err != nil {
		t.Errorf("http issuer on loopback: %v", err)
	}
}

func TestCodecServerProblems(t *testing.T) {
	cases := map[string]struct {
		set  map[string]string
		want string
	}{
		"off loopback without auth": {map[string]string{"RPAFLOW_CODEC_ADDR": "0.0.0.0:8082", "RPAFLOW_CODEC_AUTH_TOKEN": ""},
			"RPAFLOW_CODEC_ADDR=0.0.0.0:8082 is not a loopback address and the codec endpoint decrypts payloads: require authentication with RPAFLOW_CODEC_OIDC_ISSUER"},
		"all interfaces without auth": {map[string]string{"RPAFLOW_CODEC_ADDR": ":8082", "RPAFLOW_CODEC_AUTH_TOKEN": ""}, "is not a loopback address"},
		"short static token":          {map[string]string{"RPAFLOW_CODEC_AUTH_TOKEN": "short-token"}, "RPAFLOW_CODEC_AUTH_TOKEN is 11 characters; the codec endpoint needs at least 32"},
		"bad address":                 {map[string]string{"RPAFLOW_CODEC_ADDR": "8082"}, `RPAFLOW_CODEC_ADDR="8082" is not host:port`},
		"http issuer off loopback": {map[string]string{"RPAFLOW_CODEC_OIDC_ISSUER": "http://login.example.com", "RPAFLOW_CODEC_OIDC_AUDIENCE": "ui"},
			"uses http off loopback"},
		"issuer not a URL":        {map[string]string{"RPAFLOW_CODEC_OIDC_ISSUER": "login.example.com", "RPAFLOW_CODEC_OIDC_AUDIENCE": "ui"}, "is not an issuer URL"},
		"issuer without audience": {map[string]string{"RPAFLOW_CODEC_OIDC_ISSUER": "https://login.example.com"}, "RPAFLOW_CODEC_OIDC_AUDIENCE is not set"},
		"audience without issuer": {map[string]string{"RPAFLOW_CODEC_OIDC_AUDIENCE": "ui"}, "set without RPAFLOW_CODEC_OIDC_ISSUER"},
		"claim without value": {map[string]string{"RPAFLOW_CODEC_OIDC_ISSUER": "https://login.example.com", "RPAFLOW_CODEC_OIDC_AUDIENCE": "ui", "RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM": "groups"},
			`RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM="groups" is not claim=value`},
		"claim without issuer": {map[string]string{"RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM": "groups=x"}, "RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM is set without"},
		"wildcard origin":      {map[string]string{"RPAFLOW_CODEC_CORS_ORIGINS": "*"}, `RPAFLOW_CODEC_CORS_ORIGINS entry "*" is not an origin`},
		"origin with path":     {map[string]string{"RPAFLOW_CODEC_CORS_ORIGINS": "http://localhost:8080/ui"}, "is not an origin"},
		"seal key id clash":    {map[string]string{"RPAFLOW_SEAL_KEY": activeB64, "RPAFLOW_SEAL_KEY_ID": "k1"}, "RPAFLOW_SEAL_KEY_ID is blank or equal to a codec key id"},
		"seal key malformed":   {map[string]string{"RPAFLOW_SEAL_KEY": "nope!"}, "RPAFLOW_SEAL_KEY is not standard base64"},
		"old seal key reused":  {map[string]string{"RPAFLOW_SEAL_KEY": activeB64, "RPAFLOW_SEAL_OLD_KEYS": "seal=" + oldB64}, "RPAFLOW_SEAL_OLD_KEYS entry 1 reuses the id of RPAFLOW_SEAL_KEY_ID"},
	}
	for name, c := range cases {
		env := validEnv()
		for k, v := range c.set {
			if v == "" {
				delete(env, k)
			} else {
				env[k] = v
			}
		}
		_, err := LoadFrom(env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
			continue
		}
		for _, s := range append(testSecrets, "short-token") {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error echoes a secret", name)
			}
		}
	}
	// The starter serves no codec: its listener settings are not read.
	env := validEnv()
	env["RPAFLOW_CODEC_ADDR"] = "0.0.0.0:8082"
	delete(env, "RPAFLOW_CODEC_AUTH_TOKEN")
	if _, err := LoadClient(env); err != nil {
		t.Errorf("client: %v", err)
	}
}

func TestSealKeys(t *testing.T) {
	seal := bytes.Repeat([]byte{9}, 32)
	env := validEnv()
	env["RPAFLOW_SEAL_KEY"] = base64.StdEncoding.EncodeToString(seal)
	env["RPAFLOW_SEAL_OLD_KEYS"] = "seal0=" + oldB64
	cfg, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg.Codec.SealKey, seal) || cfg.Codec.SealKeyID != "seal" || len(cfg.Codec.SealOldKeys) != 1 || cfg.Codec.SealOldKeys[0].ID != "seal0" {
		t.Errorf("seal keys %+v", cfg.Codec)
	}
	if !slices.Contains(cfg.Secrets(), env["RPAFLOW_SEAL_KEY"]) {
		t.Error("the seal key is not redacted from logs")
	}
}
