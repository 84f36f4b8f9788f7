package config

import (
	"encoding/base32"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/profile"
)

const profileNameRule = "profile names use lower-case letters, digits and '-' and start with a letter or digit"

// profileNames parses RPAFLOW_PROFILES and returns the valid, distinct names.
func profileNames(p *problems, raw string) []string {
	if strings.TrimSpace(raw) == "" {
		p.add("RPAFLOW_PROFILES is empty; set it to the comma-separated profile names to load, e.g. RPAFLOW_PROFILES=cr,orch,hub, then RPAFLOW_<NAME>_KIND and RPAFLOW_<NAME>_URL for each")
		return nil
	}
	var names []string
	for i, n := range strings.Split(raw, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			p.addf("RPAFLOW_PROFILES has an empty entry at position %d; remove the extra comma", i+1)
		case contract.ValidateProfile(n) != nil:
			p.addf("RPAFLOW_PROFILES entry %q is not a valid profile name; %s", n, profileNameRule)
		case slices.Contains(names, n):
			p.addf("RPAFLOW_PROFILES lists %q twice; list each profile once", n)
		default:
			names = append(names, n)
		}
	}
	return names
}

// kindVars lists the per-profile variables each kind uses, beyond KIND, URL
// and ALLOW_HTTP. Setting another kind's variable is reported: it usually
// means the wrong _KIND or a typo in the profile name.
var kindVars = map[Kind][]string{
	KindAA:           {"USERNAME", "PASSWORD", "API_KEY", "MULTIPLE_LOGIN", "MFA_SECRET", "MFA_DIGITS", "MFA_PERIOD", "EXECUTION_HOSTS", "POOLS", "TENANT_BUDGET_PER_MINUTE", "WEBHOOK_SECRET", "CALLBACK_URL", "RECONCILE_INTERVAL"},
	KindOrchestrator: {"ORGANIZATION", "TENANT", "CLIENT_ID", "CLIENT_SECRET", "SCOPES", "TOKEN_URL", "USERNAME", "PASSWORD", "TENANCY_NAME", "POOLS", "TENANT_BUDGET_PER_MINUTE", "WEBHOOK_SECRET", "RECONCILE_INTERVAL"},
	KindHub:          {"TENANT_ID", "TOKEN", "APP_KEY", "TOKEN_EXPIRES"},
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func loadProfile(p *problems, env map[string]string, name string) Profile {
	prefix := profilePrefix(name)
	v := func(suffix string) string { return prefix + suffix }
	var e profileEnv
	p.parse(&e, env, prefix)

	prof := Profile{
		Name:           name,
		Kind:           Kind(strings.TrimSpace(e.Kind)),
		URL:            strings.TrimSpace(e.URL),
		AllowHTTP:      p.boolean(v("ALLOW_HTTP"), e.AllowHTTP),
		Username:       strings.TrimSpace(e.Username),
		Password:       e.Password,
		APIKey:         e.APIKey,
		MultipleLogin:  p.boolean(v("MULTIPLE_LOGIN"), e.MultipleLogin),
		ExecutionHosts: splitList(e.ExecutionHosts, ","),
		Organization:   strings.TrimSpace(e.Organization),
		Tenant:         strings.TrimSpace(e.Tenant),
		ClientID:       strings.TrimSpace(e.ClientID),
		ClientSecret:   e.ClientSecret,
		TokenURL:       strings.TrimSpace(e.TokenURL),
		TenancyName:    strings.TrimSpace(e.TenancyName),
		Scopes:         splitList(e.Scopes, ", "),
		TenantID:       strings.TrimSpace(e.TenantID),
		Token:          e.Token,
		AppKey:         e.AppKey,
		WebhookSecret:  e.WebhookSecret,
		CallbackURL:    strings.TrimRight(strings.TrimSpace(e.CallbackURL), "/"),
	}

	if prof.Kind == "" {
		p.addf("%s is not set; set it to one of %s", v("KIND"), kindList())
		return prof
	}
	allowed, ok := kindVars[prof.Kind]
	if !ok {
		p.addf("%s=%q is not a known platform; use one of %s", v("KIND"), e.Kind, kindList())
		return prof
	}
	checkURL(p, v("URL"), prof.URL, prof.AllowHTTP, v("ALLOW_HTTP"), true)
	pools, err := contract.ParsePools(e.Pools)
	if err != nil {
		p.addf("%s: %v", v("POOLS"), err)
	}
	prof.Pools = pools
	if prof.Kind == KindOrchestrator {
		prof.TenantBudgetPerMinute = contract.DefaultOrchestratorBudget
	}
	if b := strings.TrimSpace(e.TenantBudget); b != "" {
		n, err := strconv.Atoi(b)
		if err != nil || n < 0 || n > 100000 {
			p.addf("%s=%q is not a whole number from 0 (off) to 100000; give the status calls allowed per minute for the tenant", v("TENANT_BUDGET_PER_MINUTE"), b)
		}
		prof.TenantBudgetPerMinute = n
	}

	for _, f := range fieldsOf(typeOfProfileEnv) {
		if f.name == "KIND" || f.name == "URL" || f.name == "ALLOW_HTTP" || slices.Contains(allowed, f.name) {
			continue
		}
		for _, n := range []string{v(f.name), v(f.name) + fileSuffix} {
			if env[n] != "" {
				p.addf("%s is set but %s profiles do not use it; remove it or check %s", n, prof.Kind, v("KIND"))
			}
		}
	}

	switch prof.Kind {
	case KindAA:
		validateAA(p, v, &prof)
		validateMFA(p, v, env, e, &prof)
		validateEvents(p, v, e, &prof)
	case KindOrchestrator:
		validateOrchestrator(p, v, &prof)
		validateEvents(p, v, e, &prof)
	case KindHub:
		validateHub(p, v, e.TokenExpires, &prof)
	}
	return prof
}

func validateAA(p *problems, v func(string) string, prof *Profile) {
	if prof.Username == "" {
		p.addf("%s is not set; Automation Anywhere logs in as a Control Room user: set the user name", v("USERNAME"))
	}
	switch {
	case prof.APIKey != "" && prof.Password != "":
		p.addf("%s and %s are both set; set only one (the API key is preferred)", v("API_KEY"), v("PASSWORD"))
	case prof.APIKey == "" && prof.Password == "":
		p.addf("neither %s nor %s is set; set one of them (or its _FILE variant) for %s", v("API_KEY"), v("PASSWORD"), v("USERNAME"))
	}
	for _, h := range prof.ExecutionHosts {
		if strings.ContainsAny(h, "/:@ ") {
			p.addf("%s entry %q is not a host pattern; write host names such as *.automationanywhere.digital, without scheme, port or path", v("EXECUTION_HOSTS"), h)
		}
	}
}

// validateMFA reads the two-factor settings. The seed is never printed.
func validateMFA(p *problems, v func(string) string, env map[string]string, e profileEnv, prof *Profile) {
	if e.MFASecret == "" {
		for _, n := range []string{"MFA_DIGITS", "MFA_PERIOD"} {
			if env[v(n)] != "" {
				p.addf("%s is set but %s is not; set the user's two-factor seed too, or remove %s", v(n), v("MFA_SECRET"), v(n))
			}
		}
		return
	}
	// Set-up pages show the seed in groups, sometimes lower case or padded.
	seed := strings.TrimRight(strings.ToUpper(strings.Join(strings.Fields(e.MFASecret), "")), "=")
	if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(seed); err != nil || len(b) == 0 {
		p.addf("%s is not a base32 TOTP seed; copy the secret key shown when two-factor authentication was set up for %s (letters A-Z and digits 2-7; spaces are ignored)", v("MFA_SECRET"), v("USERNAME"))
	}
	prof.MFASecret = seed
	p.keepSecret(e.MFASecret) // the seed as configured, for redaction
	digits, err := strconv.Atoi(strings.TrimSpace(e.MFADigits))
	if err != nil || digits < 6 || digits > 8 {
		p.addf("%s=%q is not 6, 7 or 8; give the number of digits the authenticator shows (usually 6)", v("MFA_DIGITS"), e.MFADigits)
	}
	prof.MFADigits = digits
	raw := strings.TrimSpace(e.MFAPeriod)
	period, err := time.ParseDuration(raw)
	if n, nerr := strconv.Atoi(raw); nerr == nil {
		period, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || period < time.Second || period > 10*time.Minute || period%time.Second != 0 {
		p.addf("%s=%q is not a period of whole seconds between 1s and 10m; give the code's lifetime, usually 30s", v("MFA_PERIOD"), e.MFAPeriod)
	}
	prof.MFAPeriod = period
}

func validateOrchestrator(p *problems, v func(string) string, prof *Profile) {
	cc := prof.ClientID != "" || prof.ClientSecret != ""
	ropc := prof.Username != "" || prof.Password != ""
	switch {
	case cc && ropc:
		p.addf("%s profile %q sets both client credentials (%s/%s) and a legacy user login (%s/%s); keep only one", prof.Kind, prof.Name, v("CLIENT_ID"), v("CLIENT_SECRET"), v("USERNAME"), v("PASSWORD"))
	case cc:
		if prof.ClientID == "" {
			p.addf("%s is not set but %s is; set the external application id", v("CLIENT_ID"), v("CLIENT_SECRET"))
		}
		if prof.ClientSecret == "" {
			p.addf("%s is not set but %s is; set the external application secret (or %s)", v("CLIENT_SECRET"), v("CLIENT_ID"), v("CLIENT_SECRET")+fileSuffix)
		}
	case ropc:
		if prof.Username == "" {
			p.addf("%s is not set but %s is; set the Orchestrator user for the legacy login", v("USERNAME"), v("PASSWORD"))
		}
		if prof.Password == "" {
			p.addf("%s is not set but %s is; set the user's password (or %s)", v("PASSWORD"), v("USERNAME"), v("PASSWORD")+fileSuffix)
		}
	default:
		p.addf("%s profile %q has no credentials; set %s and %s (external application, recommended) or %s and %s (legacy login)", prof.Kind, prof.Name, v("CLIENT_ID"), v("CLIENT_SECRET"), v("USERNAME"), v("PASSWORD"))
	}
	if prof.TokenURL != "" {
		checkURL(p, v("TOKEN_URL"), prof.TokenURL, prof.AllowHTTP, v("ALLOW_HTTP"), false)
	}
}

// validateEvents checks the event settings: a secret of a usable length,
// for AA both the secret and the callback URL, and the reconcile interval.
func validateEvents(p *problems, v func(string) string, e profileEnv, prof *Profile) {
	if n := len(prof.WebhookSecret); n > 0 && (n < 16 || n > 100) {
		p.addf("%s is %d characters long; use 16 to 100 random characters (UiPath accepts at most 100), e.g. head -c 32 /dev/urandom | base64", v("WEBHOOK_SECRET"), n)
	}
	if prof.Kind == KindAA {
		switch {
		case prof.CallbackURL != "" && prof.WebhookSecret == "":
			p.addf("%s is set but %s is not; set the key deploy callback tokens are derived from (or %s)", v("CALLBACK_URL"), v("WEBHOOK_SECRET"), v("WEBHOOK_SECRET")+fileSuffix)
		case prof.CallbackURL == "" && prof.WebhookSecret != "":
			p.addf("%s is set but %s is not; set the public base URL the Control Room posts callbacks to", v("WEBHOOK_SECRET"), v("CALLBACK_URL"))
		}
		checkURL(p, v("CALLBACK_URL"), prof.CallbackURL, prof.AllowHTTP, v("ALLOW_HTTP"), false)
		if u, err := url.Parse(prof.CallbackURL); err == nil && (u.RawQuery != "" || u.Fragment != "") {
			p.addf("%s has a query or fragment; give only the base URL (scheme, host and an optional path)", v("CALLBACK_URL"))
		}
	}
	prof.ReconcileInterval = profile.DefaultReconcileInterval
	if raw := strings.TrimSpace(e.ReconcileInt); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 10*time.Second || d > 24*time.Hour {
			p.addf("%s=%q is not a duration between 10s and 24h; use e.g. 10m", v("RECONCILE_INTERVAL"), e.ReconcileInt)
		}
		prof.ReconcileInterval = d
	}
}

func validateHub(p *problems, v func(string) string, expires string, prof *Profile) {
	if prof.TenantID == "" {
		p.addf("%s is not set; copy the Tenant ID shown with the Automation Hub Open API token", v("TENANT_ID"))
	}
	if prof.Token == "" {
		p.addf("%s is not set; set the Automation Hub Open API token (or %s)", v("TOKEN"), v("TOKEN")+fileSuffix)
	}
	expires = strings.TrimSpace(expires)
	if expires == "" {
		return
	}
	if t, err := time.Parse(time.DateOnly, expires); err == nil {
		prof.TokenExpires = t.UTC()
		return
	}
	if t, err := time.Parse(time.RFC3339, expires); err == nil {
		prof.TokenExpires = t
		return
	}
	p.addf("%s=%q is not a date; use YYYY-MM-DD (e.g. 2027-01-31) or RFC 3339 (e.g. 2027-01-31T12:00:00Z)", v("TOKEN_EXPIRES"), expires)
}

// checkURL never prints the URL: it may carry user info.
func checkURL(p *problems, name, raw string, allowHTTP bool, allowVar string, required bool) {
	if raw == "" {
		if required {
			p.addf("%s is not set; set the platform's base URL, e.g. https://example.my.automationanywhere.digital or https://cloud.uipath.com/<org>/<tenant>/orchestrator_", name)
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.addf("%s is not an absolute https URL; write it as https://host[:port][/path]", name)
		return
	}
	if u.User != nil {
		p.addf("%s contains user info; remove it and put credentials in the profile's own variables", name)
	}
	if u.Scheme == "http" && !allowHTTP {
		p.addf("%s uses plain http, so credentials and tokens would travel in clear; use https, or set %s=true for simulators and local stacks only", name, allowVar)
	}
}

// splitList splits on any of the separator characters and drops empty items.
func splitList(s, seps string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
	out := f[:0]
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// LoadProfiles reads only the platform profiles from env (RPAFLOW_PROFILES
// and RPAFLOW_<NAME>_*), validated as for the worker: what a host
// application that embeds rpaflow reads. On failure the error is an *Error
// listing every problem found.
func LoadProfiles(env map[string]string) ([]Profile, error) {
	var p problems
	var g globalEnv
	p.parse(&g, env, "")
	var out []Profile
	for _, name := range profileNames(&p, g.Profiles) {
		out = append(out, loadProfile(&p, env, name))
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return out, nil
}
