package config

import (
	"reflect"
	"strings"
)

// The structs below are the single table of rpaflow's environment variables:
// caarlos0/env reads them, Variables() documents them, and secretFields finds
// the values that also accept <VAR>_FILE and must be redacted. Values are kept
// as strings so that validation can report every problem with a message that
// names the variable (caarlos0's own parse errors name Go fields instead).

// globalEnv holds the process-wide variables.
type globalEnv struct {
	TaskQueue         string `env:"RPAFLOW_TASK_QUEUE" envDefault:"rpaflow" doc:"Temporal task queue the worker polls and the starter uses."`
	HTTPAddr          string `env:"RPAFLOW_HTTP_ADDR" envDefault:"127.0.0.1:8081" doc:"Listen address of the worker's /healthz and /metrics (no codec here)."`
	CodecAddr         string `env:"RPAFLOW_CODEC_ADDR" envDefault:"127.0.0.1:8082" doc:"Listen address of the worker's codec endpoint /codec (temporal --codec-endpoint http://127.0.0.1:8082/codec). Off loopback the worker requires RPAFLOW_CODEC_AUTH_TOKEN or RPAFLOW_CODEC_OIDC_ISSUER."`
	LogLevel          string `env:"RPAFLOW_LOG_LEVEL" envDefault:"info" doc:"Log level: debug, info, warn or error."`
	LogFormat         string `env:"RPAFLOW_LOG_FORMAT" envDefault:"json" doc:"Log format: json or console."`
	Profiles          string `env:"RPAFLOW_PROFILES" doc:"Comma-separated platform profile names (lower case letters, digits and '-'), e.g. cr,orch,hub. Required by the worker; the starter ignores the profiles."`
	CodecKey          string `env:"RPAFLOW_CODEC_KEY" secret:"true" doc:"AES-256 payload encryption key: standard base64 of 32 random bytes (head -c 32 /dev/urandom | base64)."`
	CodecKeyID        string `env:"RPAFLOW_CODEC_KEY_ID" envDefault:"default" doc:"Key id written into each encrypted payload's metadata; change it when rotating keys."`
	CodecOldKeys      string `env:"RPAFLOW_CODEC_OLD_KEYS" secret:"true" doc:"Retired keys still accepted for decryption: comma-separated id=base64key pairs."`
	InsecurePlaintext string `env:"RPAFLOW_INSECURE_PLAINTEXT" envDefault:"false" doc:"Set to true to run without payload encryption (development only); the only way to run without RPAFLOW_CODEC_KEY."`
	NexusKey          string `env:"RPAFLOW_NEXUS_CODEC_KEY" secret:"true" doc:"Optional AES-256 key (standard base64 of 32 bytes) for what crosses to Nexus callers: operation inputs, results and failures. Callers then decode with this key; unset, those payloads are readable by a caller's default converter. Session payloads always stay under RPAFLOW_CODEC_KEY."`
	NexusKeyID        string `env:"RPAFLOW_NEXUS_CODEC_KEY_ID" envDefault:"nexus" doc:"Key id written into payloads encrypted with RPAFLOW_NEXUS_CODEC_KEY; it must differ from RPAFLOW_CODEC_KEY_ID."`
	CodecAuthToken    string `env:"RPAFLOW_CODEC_AUTH_TOKEN" secret:"true" doc:"Static bearer token (at least 32 characters) the codec endpoint accepts from the CLI and scripts (Authorization: Bearer <token>); the starter sends it to RPAFLOW_CODEC_ENDPOINT."`
	CodecOIDCIssuer   string `env:"RPAFLOW_CODEC_OIDC_ISSUER" doc:"OIDC issuer URL whose access tokens the codec endpoint accepts (the Temporal UI forwards its user's with codec passAccessToken); https, or http on loopback only."`
	CodecOIDCAudience string `env:"RPAFLOW_CODEC_OIDC_AUDIENCE" doc:"Audience (aud) an access token must carry; required with RPAFLOW_CODEC_OIDC_ISSUER."`
	CodecOIDCClaim    string `env:"RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM" doc:"Optional claim=value an access token must carry, e.g. groups=rpaflow-readers (a list claim must contain the value)."`
	CodecCORSOrigins  string `env:"RPAFLOW_CODEC_CORS_ORIGINS" doc:"Comma-separated browser origins allowed to call the codec endpoint, e.g. the Temporal UI's http://localhost:8080; none by default (browsers are refused)."`
	SealKey           string `env:"RPAFLOW_SEAL_KEY" secret:"true" doc:"Optional worker-only key (standard base64 of 32 bytes) that seals platform tokens inside the encrypted payloads; the codec endpoint never opens them. Default: derived from RPAFLOW_CODEC_KEY."`
	SealKeyID         string `env:"RPAFLOW_SEAL_KEY_ID" envDefault:"seal" doc:"Key id of RPAFLOW_SEAL_KEY; it must differ from the codec key ids."`
	SealOldKeys       string `env:"RPAFLOW_SEAL_OLD_KEYS" secret:"true" doc:"Retired seal keys still accepted for opening: comma-separated id=base64key pairs."`
	CodecEndpoint     string `env:"RPAFLOW_CODEC_ENDPOINT" doc:"Starter only: URL of a worker's codec endpoint (e.g. http://127.0.0.1:8082/codec) to encode and decode payloads through instead of holding RPAFLOW_CODEC_KEY; sends RPAFLOW_CODEC_AUTH_TOKEN as the bearer token when set. A key, when also set, wins; the worker ignores this variable."`
	EventsAddr        string `env:"RPAFLOW_EVENTS_ADDR" doc:"Listen address of the events receiver (UiPath webhooks, AA deploy callbacks), e.g. 127.0.0.1:8083 behind your HTTPS ingress; unset: no receiver."`
	PollBudget        string `env:"RPAFLOW_POLL_BUDGET_PER_MINUTE" envDefault:"60" doc:"Status calls (job, deployment and activity status) per minute per profile across every wait on this worker; UiPath allows 100 job reads per minute per tenant."`
	NexusQueues       string `env:"RPAFLOW_NEXUS_QUEUES" doc:"Nexus callers by endpoint: queue=profile|profile entries separated by ';', e.g. rpaflow-orders=cr|orch;rpaflow-billing=orch. Each listed queue (one Nexus endpoint per calling team) serves only its profiles; RPAFLOW_TASK_QUEUE then serves Nexus only if listed. Unset: Nexus on RPAFLOW_TASK_QUEUE with every profile."`
	Tracing           string `env:"RPAFLOW_TRACING" envDefault:"false" doc:"Set to true to add the OpenTelemetry tracing interceptor to the Temporal client."`
}

// temporalEnv lists Temporal's standard connection variables. The SDK's
// envconfig package applies them; rpaflow reads only the API key itself (for
// redaction and the _FILE variant).
type temporalEnv struct {
	Address       string `env:"TEMPORAL_ADDRESS" envDefault:"localhost:7233" doc:"Temporal frontend host:port."`
	Namespace     string `env:"TEMPORAL_NAMESPACE" envDefault:"default" doc:"Temporal namespace."`
	APIKey        string `env:"TEMPORAL_API_KEY" secret:"true" doc:"Temporal Cloud API key; enables TLS unless TEMPORAL_TLS=false."`
	TLS           string `env:"TEMPORAL_TLS" doc:"true or false to force TLS on or off."`
	TLSClientCert string `env:"TEMPORAL_TLS_CLIENT_CERT_PATH" doc:"Path of the mTLS client certificate (PEM)."`
	TLSClientKey  string `env:"TEMPORAL_TLS_CLIENT_KEY_PATH" doc:"Path of the mTLS client key (PEM)."`
	TLSServerCA   string `env:"TEMPORAL_TLS_SERVER_CA_CERT_PATH" doc:"Path of a CA certificate (PEM) that replaces the system roots for the server."`
	TLSServerName string `env:"TEMPORAL_TLS_SERVER_NAME" doc:"TLS server name (SNI) override."`
	ConfigFile    string `env:"TEMPORAL_CONFIG_FILE" doc:"Temporal client config file (TOML); default is the user config dir's temporalio/temporal.toml."`
	ConfigProfile string `env:"TEMPORAL_PROFILE" doc:"Profile to use from the Temporal client config file."`
}

// profileEnv holds one platform profile; caarlos0 reads it with the prefix
// RPAFLOW_<NAME>_.
type profileEnv struct {
	Kind           string `env:"KIND" doc:"Platform of the profile: automationanywhere, uipath-orchestrator or uipath-automationhub."`
	URL            string `env:"URL" doc:"Base URL of the platform (https; http only with _ALLOW_HTTP=true)."`
	AllowHTTP      string `env:"ALLOW_HTTP" envDefault:"false" doc:"Set to true to allow a plain-http URL (simulators and local stacks only: credentials would travel in clear)."`
	Username       string `env:"USERNAME" doc:"Automation Anywhere user, or UiPath Orchestrator user for the legacy password login."`
	Password       string `env:"PASSWORD" secret:"true" doc:"Password of _USERNAME (Automation Anywhere, or Orchestrator legacy login)."`
	APIKey         string `env:"API_KEY" secret:"true" doc:"Automation Anywhere API key of _USERNAME (use instead of _PASSWORD)."`
	MultipleLogin  string `env:"MULTIPLE_LOGIN" envDefault:"false" doc:"Automation Anywhere: set to true if the user may hold several sessions at once."`
	MFASecret      string `env:"MFA_SECRET" secret:"true" doc:"Automation Anywhere, only for a user whose role requires two-factor authentication: the base32 TOTP seed an authenticator app would scan; each login sends a fresh code as mfaCode."`
	MFADigits      string `env:"MFA_DIGITS" envDefault:"6" doc:"Automation Anywhere: digits of the two-factor code (6, 7 or 8), when _MFA_SECRET is set."`
	MFAPeriod      string `env:"MFA_PERIOD" envDefault:"30s" doc:"Automation Anywhere: how long each two-factor code lasts (whole seconds, e.g. 30s or 30), when _MFA_SECRET is set."`
	ExecutionHosts string `env:"EXECUTION_HOSTS" doc:"Automation Anywhere: comma-separated host patterns (e.g. *.automationanywhere.digital) an API Task token may be sent to. Default: the Control Room's host and *.automationanywhere.digital; a wildcard over a public suffix (*.com, *.cloudapp.azure.com) is refused at start."`
	Pools          string `env:"POOLS" doc:"Capacity pools, comma-separated name=limit[;weights=key:w|key:w]. Control Room: apitask limits API Task executions, other names are runner pools of DeployBot; Orchestrator: a pool named after a folder limits StartJob there (docs/capacity.md)."`
	TenantBudget   string `env:"TENANT_BUDGET_PER_MINUTE" doc:"Status calls per minute for the profile's tenant across every worker of the namespace (a budget workflow leases them); a 429 with Retry-After pauses them all. Default: 100 for Orchestrator (UiPath's job reads per tenant), none for Control Rooms; 0 turns it off."`
	Organization   string `env:"ORGANIZATION" doc:"UiPath Orchestrator: organization name (Automation Cloud); empty for standalone Orchestrator."`
	Tenant         string `env:"TENANT" doc:"UiPath Orchestrator: tenant name (Automation Cloud); empty for standalone Orchestrator."`
	ClientID       string `env:"CLIENT_ID" doc:"UiPath Orchestrator: external application id (client credentials)."`
	ClientSecret   string `env:"CLIENT_SECRET" secret:"true" doc:"UiPath Orchestrator: external application secret (client credentials)."`
	Scopes         string `env:"SCOPES" doc:"UiPath Orchestrator: scopes to request, separated by spaces or commas (e.g. OR.Execution OR.Queues; OR.Webhooks for starter webhook ensure)."`
	TokenURL       string `env:"TOKEN_URL" doc:"UiPath Orchestrator: full token endpoint URL, when the default derived from _URL does not fit."`
	TenancyName    string `env:"TENANCY_NAME" doc:"UiPath Orchestrator legacy login: tenancy name."`
	TenantID       string `env:"TENANT_ID" doc:"UiPath Automation Hub: tenant id shown next to the Open API token."`
	Token          string `env:"TOKEN" secret:"true" doc:"UiPath Automation Hub: Open API token."`
	AppKey         string `env:"APP_KEY" secret:"true" doc:"UiPath Automation Hub: app key, if one was defined on the token."`
	TokenExpires   string `env:"TOKEN_EXPIRES" doc:"UiPath Automation Hub: token expiry, YYYY-MM-DD (midnight UTC) or RFC 3339; alerts are raised before it."`
	WebhookSecret  string `env:"WEBHOOK_SECRET" secret:"true" doc:"Events: UiPath Orchestrator, the webhook's secret (at most 100 characters; the same as the webhook's in Orchestrator), which turns events on; Automation Anywhere, the key each deploy's callback token is derived from (with _CALLBACK_URL). 16 to 100 characters; see docs/events.md."`
	CallbackURL    string `env:"CALLBACK_URL" doc:"Automation Anywhere events: public https base URL of the events receiver as the Control Room reaches it (through your ingress), e.g. https://rpa-events.example.com; each deploy asks for a callback to <url>/events/aa/<profile>."`
	ReconcileInt   string `env:"RECONCILE_INTERVAL" envDefault:"10m" doc:"With events on: the longest a wait goes without reading the platform when no event arrives (each wait reads 5 % to 20 % sooner, so that a lost event costs at most this, read included), e.g. 10m."`
}

// profilePlaceholder is how per-profile variables appear in documentation.
const profilePlaceholder = "RPAFLOW_<NAME>_"

// fileSuffix is appended to a secret variable to read the secret from a file.
const fileSuffix = "_FILE"

// VarDoc documents one environment variable.
type VarDoc struct {
	Name        string
	Description string
	Secret      bool
	Default     string
}

// Variables lists every environment variable rpaflow reads, generated from the
// same struct tags the loader uses so documentation cannot drift. Per-profile
// variables are named with the placeholder RPAFLOW_<NAME>_.
func Variables() []VarDoc {
	var out []VarDoc
	out = appendDocs(out, "", reflect.TypeFor[globalEnv]())
	out = appendDocs(out, profilePlaceholder, reflect.TypeFor[profileEnv]())
	out = appendDocs(out, "", reflect.TypeFor[temporalEnv]())
	return out
}

func appendDocs(out []VarDoc, prefix string, t reflect.Type) []VarDoc {
	for _, f := range fieldsOf(t) {
		out = append(out, VarDoc{Name: prefix + f.name, Description: f.doc, Secret: f.secret, Default: f.def})
		if f.secret {
			out = append(out, VarDoc{
				Name:        prefix + f.name + fileSuffix,
				Description: "Path of a file holding " + prefix + f.name + " (Docker/Kubernetes secrets); one trailing newline is ignored. Set either the variable or the file, not both.",
			})
		}
	}
	return out
}

type fieldInfo struct {
	index  int
	name   string
	doc    string
	def    string
	secret bool
}

func fieldsOf(t reflect.Type) []fieldInfo {
	out := make([]fieldInfo, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
		out = append(out, fieldInfo{
			index:  i,
			name:   name,
			doc:    sf.Tag.Get("doc"),
			def:    sf.Tag.Get("envDefault"),
			secret: sf.Tag.Get("secret") == "true",
		})
	}
	return out
}

var typeOfProfileEnv = reflect.TypeFor[profileEnv]()
