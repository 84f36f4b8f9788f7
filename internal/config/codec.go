package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/rpaflow/rpaflow/internal/codec"
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
		p.add("RPAFLOW_CODEC_KEY is not set; payloads (which carry tokens) must be encrypted: set RPAFLOW_CODEC_ENDPOINT to the worker's codec endpoint (e.g. http://127.0.0.1:8081/codec), or the worker's key in RPAFLOW_CODEC_KEY, or RPAFLOW_INSECURE_PLAINTEXT=true if the worker runs in plaintext dev mode")
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
	if strings.TrimSpace(g.CodecOldKeys) == "" {
		return c
	}
	seen := map[string]bool{c.KeyID: true}
	for i, entry := range strings.Split(g.CodecOldKeys, ",") {
		entry = strings.TrimSpace(entry)
		id, b64, ok := strings.Cut(entry, "=")
		id = strings.TrimSpace(id)
		// base64 padding also uses '=', so the id is everything before the first '='.
		if !ok || id == "" || strings.TrimSpace(b64) == "" {
			p.addf("RPAFLOW_CODEC_OLD_KEYS entry %d is not id=base64key; write comma-separated pairs such as old1=<base64 key>", i+1)
			continue
		}
		if seen[id] {
			p.addf("RPAFLOW_CODEC_OLD_KEYS entry %d reuses the id of RPAFLOW_CODEC_KEY_ID or an earlier entry; every key needs its own id", i+1)
			continue
		}
		seen[id] = true
		// Name the entry by position: a mistyped entry's "id" may be part of a key.
		key := decodeKey(p, fmt.Sprintf("RPAFLOW_CODEC_OLD_KEYS entry %d", i+1), b64)
		c.encoded = append(c.encoded, strings.TrimSpace(b64))
		if key != nil {
			c.OldKeys = append(c.OldKeys, codec.Key{ID: id, Key: key})
		}
	}
	return c
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
		p.addf("RPAFLOW_CODEC_ENDPOINT=%q is not an http(s) URL without query; set the worker's codec endpoint, e.g. http://127.0.0.1:8081/codec", raw)
		return ""
	}
	return strings.TrimSuffix(raw, "/")
}
