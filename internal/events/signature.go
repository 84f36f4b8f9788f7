// Package events receives the platforms' notifications that a run ended:
// UiPath Orchestrator webhooks (HMAC-signed) and Automation Anywhere deploy
// callbacks (a per-deployment token rpaflow put in the deploy request). It
// verifies each one, turns it into RunEvents and hands them to Temporal
// before it answers. An event is a hint: the wait it reaches reads the
// platform before it acts.
package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the header UiPath signs webhooks in.
const SignatureHeader = "X-UiPath-Signature"

// VerifyUiPathSignature reports whether header is the HMAC-SHA256 of the raw
// body keyed with secret. UiPath's documentation describes the value as
// base64; other UiPath material writes it "sha256=<hmac>" (hex). Every such
// form is accepted: standard or URL-safe base64, with or without padding,
// or hex in either case, each with an optional "sha256=" prefix. The
// comparison runs in constant time and tries every form, so neither the
// time taken nor the form found says anything about the secret.
func VerifyUiPathSignature(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	v := strings.TrimSpace(header)
	if len(v) >= 7 && strings.EqualFold(v[:7], "sha256=") {
		v = v[7:]
	}
	if v == "" || len(v) > 128 {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, dec := range signatureForms {
		got, err := dec(v)
		if err == nil && len(got) == len(want) && hmac.Equal(got, want) {
			ok = true
		}
	}
	return ok
}

var signatureForms = []func(string) ([]byte, error){
	base64.StdEncoding.DecodeString,
	base64.RawStdEncoding.DecodeString,
	base64.URLEncoding.DecodeString,
	base64.RawURLEncoding.DecodeString,
	hex.DecodeString,
}

// SignUiPath returns the signature UiPath sends for body (base64), for
// simulators and tests.
func SignUiPath(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Headers rpaflow puts in an AA deploy's callbackInfo: which deployment
// wait the callback is for, and the token that proves rpaflow asked for it.
const (
	CallbackIDHeader    = "X-Rpaflow-Callback-Id"
	CallbackTokenHeader = "X-Rpaflow-Callback-Token"
)

// CallbackToken is the token of callback id under profile: an HMAC of both
// keyed with the profile's callback key. Nothing secret is stored with the
// deployment: the id is random and public, and any worker holding the key
// recomputes the token to check a callback.
func CallbackToken(key []byte, profile, id string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("rpaflow aa callback\x00" + profile + "\x00" + id))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyCallbackToken reports, in constant time, whether token is
// CallbackToken(key, profile, id).
func VerifyCallbackToken(key []byte, profile, id, token string) bool {
	if len(key) == 0 || token == "" {
		return false
	}
	return hmac.Equal([]byte(strings.ToLower(strings.TrimSpace(token))), []byte(CallbackToken(key, profile, id)))
}

// ValidCallbackID reports whether id has the form rpaflow gives callback ids
// (32 lower-case hex digits).
func ValidCallbackID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
