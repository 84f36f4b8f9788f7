package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// StartKey names one start on a platform: the activity that makes it. Every
// attempt of that activity derives the same key, any other activity a
// different one, so a retried attempt can find what an earlier attempt
// started (a job's or queue item's Reference, a deployment's automation
// name) instead of starting it again.
type StartKey struct {
	WorkflowID, RunID, ActivityID string
}

// keyPrefix marks what rpaflow put on a platform.
const keyPrefix = "rpaflow"

// Hash is 16 hex digits of the key's SHA-256: unique enough among one
// folder's jobs or one tenant's deployments, short enough for any field.
func (k StartKey) Hash() string {
	sum := sha256.Sum256([]byte(k.WorkflowID + "\x00" + k.RunID + "\x00" + k.ActivityID))
	return hex.EncodeToString(sum[:8])
}

// Label is "rpaflow<sep><workflow id><sep><hash>" in at most max bytes:
// the workflow id, for the person reading the platform's UI, is cut (and
// anything but letters, digits, '-', '_' and '.' replaced by '_') to fit;
// the hash alone tells starts apart.
func (k StartKey) Label(sep string, max int) string {
	hash := k.Hash()
	room := max - len(keyPrefix) - 2*len(sep) - len(hash)
	if room <= 0 {
		return (keyPrefix + sep + hash)[:min(max, len(keyPrefix)+len(sep)+len(hash))]
	}
	var b strings.Builder
	for _, r := range k.WorkflowID {
		if b.Len() >= room {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return keyPrefix + sep + b.String() + sep + hash
}

// MaxReference is Orchestrator's limit on job and queue item references.
const MaxReference = 128

// Reference is the key as an Orchestrator job or queue item reference.
func (k StartKey) Reference() string { return k.Label(":", MaxReference) }

// MaxAutomationName bounds the automation names rpaflow sends: the Control
// Room documents no limit, so this stays well inside the names it makes
// itself (bot name, date and user).
const MaxAutomationName = 100

// AutomationName is the deployment name that carries the key: the caller's
// name (cut to fit) followed by the key's label, or the label alone. Only
// letters, digits, '.', '-' and '_' are added, as in the Control Room's
// own generated names.
func (k StartKey) AutomationName(name string) string {
	tag := keyPrefix + "." + k.Hash()
	name = strings.TrimSpace(name)
	if name == "" {
		return k.Label(".", MaxAutomationName)
	}
	room := MaxAutomationName - len(tag) - 1
	if len(name) > room {
		cut := 0
		for i := range name { // a rune boundary
			if i > room {
				break
			}
			cut = i
		}
		name = name[:cut]
	}
	return name + "." + tag
}

// NamedBy reports whether a deployment's automation name carries the key
// (both forms of AutomationName end with it).
func (k StartKey) NamedBy(automationName string) bool {
	return strings.HasSuffix(automationName, "."+k.Hash())
}
