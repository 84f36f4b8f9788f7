package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

const keyHint = "generate one with: head -c 32 /dev/urandom | base64"

// loadCodec reads the codec settings; a client tool (the starter) may name a
// worker's codec endpoint instead of holding the key.
func loadCodec(p *problems, g globalEnv, client bool) Codec {
	c := Codec{
		KeyID:             strings.TrimSpace(g.CodecKeyID),
		InsecurePlaintext: p.boolean("RPAFLOW_INSECURE_PLAINTEXT", g.InsecurePlaintext),
		AuthToken:         g.CodecAuthToken,
	}
	if c.KeyID == "" {
		p.add("RPAFLOW_CODEC_KEY_ID is blank; unset it to use \"default\" or set a short name for the key")
	}
	switch {
	case g.CodecKey != "" && c.InsecurePlaintext:
		p.add("RPAFLOW_CODEC_KEY and RPAFLOW_INSECURE_PLAINTEXT=true are both set; remove RPAFLOW_INSECURE_PLAINTEXT to encrypt payloads, or the key to run in plaintext dev mode")
	case g.CodecKey != "":
		c.Key = decodeKey(p, "RPAFLOW_CODEC_KEY", g.CodecKey)
		c.encoded = append(c.encoded, strings.TrimSpace(g.CodecKey))
	case !c.InsecurePlaintext && client && strings.TrimSpace(g.CodecEndpoint) != "":
		c.Endpoint = codecEndpoint(p, g.CodecEndpoint)
	case !c.InsecurePlaintext && client:
		p.add("RPAFLOW_CODEC_KEY is not set; payloads (which carry tokens) must be encrypted: set RPAFLOW_CODEC_ENDPOINT to the worker's codec endpoint (e.g. http://127.0.0.1:8082/codec), or the worker's key in RPAFLOW_CODEC_KEY, or RPAFLOW_INSECURE_PLAINTEXT=true if the worker runs in plaintext dev mode")
	case !c.InsecurePlaintext:
		p.add("RPAFLOW_CODEC_KEY is not set; payloads (which carry tokens) must be encrypted: " + keyHint + ", or set RPAFLOW_INSECURE_PLAINTEXT=true for local development only")
	}
	if client && c.InsecurePlaintext && strings.TrimSpace(g.CodecEndpoint) != "" {
		p.add("RPAFLOW_CODEC_ENDPOINT and RPAFLOW_INSECURE_PLAINTEXT=true are both set; remove RPAFLOW_INSECURE_PLAINTEXT to encrypt payloads through the endpoint, or the endpoint to run in plaintext dev mode")
	}

	if g.NexusKey != "" {
		c.NexusKeyID = strings.TrimSpace(g.NexusKeyID)
		c.NexusKey = decodeKey(p, "RPAFLOW_NEXUS_CODEC_KEY", g.NexusKey)
		c.encoded = append(c.encoded, strings.TrimSpace(g.NexusKey))
		switch {
		case c.NexusKeyID == "" || c.NexusKeyID == c.KeyID:
			p.add("RPAFLOW_NEXUS_CODEC_KEY_ID is blank or equal to RPAFLOW_CODEC_KEY_ID; give the Nexus boundary key a name of its own")
		case c.InsecurePlaintext:
			p.add("RPAFLOW_NEXUS_CODEC_KEY is set with RPAFLOW_INSECURE_PLAINTEXT=true; a boundary key needs payload encryption: set RPAFLOW_CODEC_KEY instead of plaintext mode")
		}
	}
	c.OldKeys = oldKeys(p, &c, "RPAFLOW_CODEC_OLD_KEYS", g.CodecOldKeys, "RPAFLOW_CODEC_KEY_ID", c.KeyID)
	if n := len(c.AuthToken); n > 0 && n < minAuthToken {
		p.addf("RPAFLOW_CODEC_AUTH_TOKEN is %d characters; the codec endpoint needs at least %d: generate one with: head -c 32 /dev/urandom | base64", n, minAuthToken)
	}
	if g.SealKey != "" {
		c.SealKeyID = strings.TrimSpace(g.SealKeyID)
		c.SealKey = decodeKey(p, "RPAFLOW_SEAL_KEY", g.SealKey)
		c.encoded = append(c.encoded, strings.TrimSpace(g.SealKey))
		ids := []string{c.KeyID}
		for _, k := range c.OldKeys {
			ids = append(ids, k.ID)
		}
		switch {
		case c.SealKeyID == "" || slices.Contains(ids, c.SealKeyID):
			p.add("RPAFLOW_SEAL_KEY_ID is blank or equal to a codec key id (RPAFLOW_CODEC_KEY_ID, RPAFLOW_CODEC_OLD_KEYS); give the seal key a name of its own")
		case c.InsecurePlaintext:
			p.add("RPAFLOW_SEAL_KEY is set with RPAFLOW_INSECURE_PLAINTEXT=true; sealing needs payload encryption: set RPAFLOW_CODEC_KEY instead of plaintext mode")
		}
	}
	c.SealOldKeys = oldKeys(p, &c, "RPAFLOW_SEAL_OLD_KEYS", g.SealOldKeys, "RPAFLOW_SEAL_KEY_ID", strings.TrimSpace(g.SealKeyID))
	return c
}

// minAuthToken is the shortest static codec token accepted: 32 characters
// leave no room for guessing.
const minAuthToken = 32

// oldKeys parses name's comma-separated id=base64key pairs; no id may
// repeat the active key's (activeVar).
func oldKeys(p *problems, c *Codec, name, raw, activeVar, active string) []Key {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var out []Key
	seen := map[string]bool{active: true}
	for i, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		id, b64, ok := strings.Cut(entry, "=")
		id = strings.TrimSpace(id)
		// base64 padding also uses '=', so the id is everything before the first '='.
		if !ok || id == "" || strings.TrimSpace(b64) == "" {
			p.addf("%s entry %d is not id=base64key; write comma-separated pairs such as old1=<base64 key>", name, i+1)
			continue
		}
		if seen[id] {
			p.addf("%s entry %d reuses the id of %s or an earlier entry; every key needs its own id", name, i+1, activeVar)
			continue
		}
		seen[id] = true
		// Name the entry by position: a mistyped entry's "id" may be part of a key.
		key := decodeKey(p, fmt.Sprintf("%s entry %d", name, i+1), b64)
		c.encoded = append(c.encoded, strings.TrimSpace(b64))
		if key != nil {
			out = append(out, Key{ID: id, Key: key})
		}
	}
	return out
}

// loadCodecServer reads the worker's codec endpoint settings: where it
// listens and whom it lets in. Off loopback it must authenticate.
func loadCodecServer(p *problems, g globalEnv, c *Codec) {
	c.Addr = strings.TrimSpace(g.CodecAddr)
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		p.addf("RPAFLOW_CODEC_ADDR=%q is not host:port; use e.g. 127.0.0.1:8082", g.CodecAddr)
	}
	if issuer := strings.TrimSpace(g.CodecOIDCIssuer); issuer != "" {
		c.OIDC.Issuer = issuer
		u, err := url.Parse(issuer)
		switch {
		case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
			p.addf("RPAFLOW_CODEC_OIDC_ISSUER=%q is not an issuer URL; set the identity provider's issuer, e.g. https://login.example.com/realms/temporal", issuer)
		case u.Scheme == "http" && !loopbackHost(u.Hostname()):
			p.addf("RPAFLOW_CODEC_OIDC_ISSUER=%q uses http off loopback, where its keys could be swapped in transit; use https", issuer)
		case u.Scheme != "https" && u.Scheme != "http":
			p.addf("RPAFLOW_CODEC_OIDC_ISSUER=%q is not an https URL", issuer)
		}
		c.OIDC.Audience = strings.TrimSpace(g.CodecOIDCAudience)
		if c.OIDC.Audience == "" {
			p.add("RPAFLOW_CODEC_OIDC_AUDIENCE is not set; name the audience (aud) the Temporal UI's access tokens carry, usually its OIDC client id")
		}
	} else if strings.TrimSpace(g.CodecOIDCAudience) != "" {
		p.add("RPAFLOW_CODEC_OIDC_AUDIENCE is set without RPAFLOW_CODEC_OIDC_ISSUER; set the issuer too, or unset the audience")
	}
	if claim := strings.TrimSpace(g.CodecOIDCClaim); claim != "" {
		name, value, ok := strings.Cut(claim, "=")
		c.OIDC.Claim, c.OIDC.Value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok || c.OIDC.Claim == "" || c.OIDC.Value == "":
			p.addf("RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM=%q is not claim=value; write e.g. groups=rpaflow-readers", claim)
		case c.OIDC.Issuer == "":
			p.add("RPAFLOW_CODEC_OIDC_REQUIRED_CLAIM is set without RPAFLOW_CODEC_OIDC_ISSUER; set the issuer too, or unset the claim")
		}
	}
	for _, o := range strings.Split(g.CodecCORSOrigins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			p.addf("RPAFLOW_CODEC_CORS_ORIGINS entry %q is not an origin; list scheme://host[:port] values such as http://localhost:8080 (no wildcard)", o)
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, strings.TrimSuffix(o, "/"))
	}
	if err == nil && !c.InsecurePlaintext && !loopbackHost(host) && c.AuthToken == "" && c.OIDC.Issuer == "" {
		p.addf("RPAFLOW_CODEC_ADDR=%s is not a loopback address and the codec endpoint decrypts payloads: require authentication with RPAFLOW_CODEC_OIDC_ISSUER and RPAFLOW_CODEC_OIDC_AUDIENCE (the Temporal UI's users) and/or RPAFLOW_CODEC_AUTH_TOKEN (the CLI and scripts), or listen on 127.0.0.1", c.Addr)
	}
}

// loopbackHost reports whether host (a name or an IP) is this machine only.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// decodeKey never echoes the value: it is a secret even when malformed.
func decodeKey(p *problems, name, value string) []byte {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		p.addf("%s is not standard base64; %s", name, keyHint)
		return nil
	}
	if len(key) != 32 {
		p.addf("%s decodes to %d bytes, AES-256 needs exactly 32; %s", name, len(key), keyHint)
		return nil
	}
	return key
}

// codecEndpoint checks a codec endpoint URL; the value is no secret.
func codecEndpoint(p *problems, raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p.addf("RPAFLOW_CODEC_ENDPOINT=%q is not an http(s) URL without query; set the worker's codec endpoint, e.g. http://127.0.0.1:8082/codec", raw)
		return ""
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		p.addf("RPAFLOW_CODEC_ENDPOINT=%q sends payloads and the codec's credentials in clear to %s; use https:// (plain http only to 127.0.0.1, ::1 or localhost)", raw, u.Hostname())
		return ""
	}
	return strings.TrimSuffix(raw, "/")
}

// IsLoopback reports whether host (no port) is a loopback address or
// "localhost": the only place plain http may carry codec traffic.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
