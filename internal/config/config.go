// Package config loads rpaflow's configuration from the environment.
//
// Every problem is collected and reported at once (see Error), each naming the
// variable, what is wrong with its value and what to do. Secret values never
// appear in messages.
package config

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"

	"github.com/rpaflow/rpaflow/profile"

	"github.com/rpaflow/rpaflow/internal/codec"
)

// Kind and Profile are the public profile types; the aliases keep this
// package's loader code short.
type (
	Kind    = profile.Kind
	Profile = profile.Profile
)

// The supported platforms.
const (
	KindAA           = profile.KindAA
	KindOrchestrator = profile.KindOrchestrator
	KindHub          = profile.KindHub
)

// Kinds lists the supported platforms in documentation order.
var Kinds = profile.Kinds

// Config is rpaflow's validated configuration.
type Config struct {
	TaskQueue string
	HTTPAddr  string
	// EventsAddr is the events receiver's listen address (RPAFLOW_EVENTS_ADDR); "" is none.
	EventsAddr string
	LogLevel   string
	LogFormat  string
	Codec      Codec
	Tracing    bool
	Profiles   []Profile
	// NexusQueues limit Nexus callers by task queue (RPAFLOW_NEXUS_QUEUES);
	// empty: the Nexus service on TaskQueue with every profile.
	NexusQueues []profile.NexusQueue
	// Warnings are problems that do not stop the worker (a secret file
	// others may read); the worker logs them at start.
	Warnings []string
	// PollBudgetPerMinute bounds status calls per profile (RPAFLOW_POLL_BUDGET_PER_MINUTE).
	PollBudgetPerMinute int
	// TemporalAPIKey is TEMPORAL_API_KEY or the content of TEMPORAL_API_KEY_FILE.
	TemporalAPIKey string

	env map[string]string
	// rawSecrets are secrets as configured, when Profiles hold them normalized.
	rawSecrets []string
}

// Codec configures payload encryption and the /codec endpoint.
type Codec struct {
	Key               []byte
	KeyID             string
	OldKeys           []codec.Key
	InsecurePlaintext bool
	// AuthToken is the static bearer token of the codec endpoint.
	AuthToken string
	// Addr is the codec endpoint's listen address (the worker's).
	Addr string
	// OIDC, if Issuer is set, verifies the Temporal UI users' access tokens.
	OIDC OIDC
	// CORSOrigins may call the codec endpoint from a browser.
	CORSOrigins []string
	// SealKey, if set, seals platform tokens instead of the key derived
	// from Key; SealOldKeys still open.
	SealKey     []byte
	SealKeyID   string
	SealOldKeys []Key
	// NexusKey, if set, encrypts what crosses to Nexus callers.
	NexusKey   []byte
	NexusKeyID string
	// Endpoint is a worker's codec endpoint for client tools without a key
	// (RPAFLOW_CODEC_ENDPOINT); set only by LoadClient.
	Endpoint string

	// base64 forms, kept for redaction
	encoded []string
}

// Encryption is the payload encryption these settings describe (Key is
// empty in plaintext mode and for a client that uses a codec endpoint).
func (c Codec) Encryption() codec.Encryption {
	e := codec.Encryption{Key: codec.Key{ID: c.KeyID, Key: c.Key}, OldKeys: c.OldKeys}
	if len(c.NexusKey) > 0 {
		e.BoundaryKey = &codec.Key{ID: c.NexusKeyID, Key: c.NexusKey}
	}
	if len(c.SealKey) > 0 {
		e.SealKey = &codec.Key{ID: c.SealKeyID, Key: c.SealKey}
	}
	e.OldSealKeys = c.SealOldKeys
	return e
}

// OIDC configures the codec endpoint's access-token verification.
type OIDC struct {
	Issuer, Audience string
	// Claim and Value: a claim the token must carry (Value, or a list
	// containing it); Claim empty for none.
	Claim, Value string
}

// Key is a codec key (the one key type: codec.Key).
type Key = codec.Key

// Load reads the configuration from the process environment.
func Load() (*Config, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return LoadFrom(env)
}

// LoadOption changes what LoadFrom reads.
type LoadOption func(*loadOptions)

type loadOptions struct {
	withoutProfiles bool
}

// WithoutProfiles loads everything but the platform profiles, for client
// tools such as the starter: RPAFLOW_PROFILES and RPAFLOW_<NAME>_* are not
// read, so credentials that exist only on the worker's host are neither
// required nor loaded (Profiles and their secrets stay empty). The
// connection, task queue, log and codec settings are validated exactly as
// for the worker.
func WithoutProfiles() LoadOption {
	return func(o *loadOptions) { o.withoutProfiles = true }
}

// LoadClient reads the configuration of a client tool from env: LoadFrom
// with WithoutProfiles.
func LoadClient(env map[string]string) (*Config, error) {
	return LoadFrom(env, WithoutProfiles())
}

// LoadFrom reads the configuration from env. On failure the error is an
// *Error listing every problem found.
func LoadFrom(env map[string]string, opts ...LoadOption) (*Config, error) {
	if env == nil {
		env = map[string]string{}
	}
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	var p problems
	cfg := &Config{env: env}

	var g globalEnv
	p.parse(&g, env, "")
	var t temporalEnv
	p.parse(&t, env, "")
	cfg.TemporalAPIKey = t.APIKey

	cfg.TaskQueue = strings.TrimSpace(g.TaskQueue)
	if cfg.TaskQueue == "" {
		p.add("RPAFLOW_TASK_QUEUE is blank; unset it to use the default task queue \"rpaflow\" or set a name")
	}
	cfg.HTTPAddr = g.HTTPAddr
	cfg.EventsAddr = strings.TrimSpace(g.EventsAddr)
	cfg.LogLevel = strings.ToLower(strings.TrimSpace(g.LogLevel))
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, cfg.LogLevel) {
		p.addf("RPAFLOW_LOG_LEVEL=%q is not a log level; use debug, info, warn or error", g.LogLevel)
	}
	cfg.LogFormat = strings.ToLower(strings.TrimSpace(g.LogFormat))
	if cfg.LogFormat != "json" && cfg.LogFormat != "console" {
		p.addf("RPAFLOW_LOG_FORMAT=%q is not a log format; use json or console", g.LogFormat)
	}
	cfg.Tracing = p.boolean("RPAFLOW_TRACING", g.Tracing)
	if n, err := strconv.Atoi(strings.TrimSpace(g.PollBudget)); err != nil || n < 1 {
		p.addf("RPAFLOW_POLL_BUDGET_PER_MINUTE=%q is not a positive whole number; set the status calls allowed per minute per profile, e.g. 60", g.PollBudget)
	} else {
		cfg.PollBudgetPerMinute = n
	}
	cfg.Codec = loadCodec(&p, g, o.withoutProfiles)
	if !o.withoutProfiles {
		loadCodecServer(&p, g, &cfg.Codec)
	}

	if !o.withoutProfiles {
		for _, name := range profileNames(&p, g.Profiles) {
			cfg.Profiles = append(cfg.Profiles, loadProfile(&p, env, name))
		}
		cfg.NexusQueues = nexusQueues(&p, g.NexusQueues, cfg.ProfileNames())
	}

	if err := p.err(); err != nil {
		return nil, err
	}
	cfg.rawSecrets = p.raw
	cfg.Warnings = p.warnings
	return cfg, nil
}

// Profile returns the profile called name.
func (c *Config) Profile(name string) (Profile, bool) {
	for _, p := range c.Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// ProfileNames returns the configured profile names in RPAFLOW_PROFILES order.
func (c *Config) ProfileNames() []string {
	names := make([]string, len(c.Profiles))
	for i, p := range c.Profiles {
		names[i] = p.Name
	}
	return names
}

// Secrets returns every configured secret value, for log redaction.
func (c *Config) Secrets() []string {
	var out []string
	add := func(s ...string) {
		for _, v := range s {
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	for _, p := range c.Profiles {
		add(p.Secrets()...)
	}
	add(c.rawSecrets...)
	add(c.Codec.encoded...)
	add(c.Codec.AuthToken, c.TemporalAPIKey)
	return out
}

// LookupEnv returns a variable of the environment the configuration was loaded
// from; together with Environ it lets Temporal's envconfig read the same
// environment (tests load from a map, not the process).
func (c *Config) LookupEnv(key string) (string, bool) {
	v, ok := c.env[key]
	return v, ok
}

// Environ returns the environment the configuration was loaded from, as
// KEY=value strings.
func (c *Config) Environ() []string {
	out := make([]string, 0, len(c.env))
	for k, v := range c.env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// EnvVar names a per-profile variable: EnvVar("my-cr", "URL") is RPAFLOW_MY_CR_URL.
func EnvVar(profile, suffix string) string {
	return profilePrefix(profile) + suffix
}

func profilePrefix(profile string) string {
	return "RPAFLOW_" + strings.ToUpper(strings.ReplaceAll(profile, "-", "_")) + "_"
}

// parse fills the string struct v with caarlos0/env, then resolves the
// <VAR>_FILE variant of each secret field.
func (p *problems) parse(v any, envMap map[string]string, prefix string) {
	if err := env.ParseWithOptions(v, env.Options{Environment: envMap, Prefix: prefix}); err != nil {
		// Only string fields without required/file options: this cannot fail
		// unless the structs above are changed.
		p.addf("internal error reading the environment: %v", err)
		return
	}
	rv := reflect.ValueOf(v).Elem()
	for _, f := range fieldsOf(rv.Type()) {
		if !f.secret {
			continue
		}
		name := prefix + f.name
		field := rv.Field(f.index)
		path := envMap[name+fileSuffix]
		if path == "" {
			continue
		}
		if field.String() != "" {
			p.addf("%s and %s are both set; set only one of them", name, name+fileSuffix)
			continue
		}
		if w := filePermissionWarning(name+fileSuffix, path); w != "" {
			p.warnings = append(p.warnings, w)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			p.addf("%s=%q cannot be read (%v); point it at a readable file holding %s", name+fileSuffix, path, pathErr(err), name)
			continue
		}
		field.SetString(trimNewline(string(b)))
	}
}

// trimNewline drops one trailing LF or CRLF: editors and `echo` add one, and
// it is never part of the secret.
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}

// pathErr strips the path from an *os.PathError (the caller prints it once).
func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// nexusQueues parses RPAFLOW_NEXUS_QUEUES: queue=profile|profile entries
// separated by ';'.
func nexusQueues(p *problems, raw string, profiles []string) []profile.NexusQueue {
	const name = "RPAFLOW_NEXUS_QUEUES"
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	var out []profile.NexusQueue
	for i, entry := range strings.Split(raw, ";") {
		queue, list, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok {
			p.addf("%s entry %d (%q) is not queue=profile|profile; e.g. rpaflow-orders=cr|orch", name, i+1, entry)
			return nil
		}
		q := profile.NexusQueue{TaskQueue: strings.TrimSpace(queue)}
		if strings.TrimSpace(list) != "" {
			for _, pr := range strings.Split(list, "|") {
				q.Profiles = append(q.Profiles, strings.TrimSpace(pr))
			}
		}
		out = append(out, q)
	}
	if err := profile.CheckNexusQueues(out, profiles); err != nil {
		p.addf("%s: %v", name, err)
		return nil
	}
	return out
}

// filePermissionWarning warns of a secret file that group or others may
// read (a mounted Kubernetes secret is 0644 unless defaultMode says otherwise).
func filePermissionWarning(variable, path string) string {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s=%q is readable by group or others (mode %v); restrict it with chmod 600 %s (or defaultMode: 0600 on a Kubernetes secret volume)",
		variable, path, fi.Mode().Perm(), path)
}
