package codec

import (
	"fmt"

	"go.temporal.io/sdk/converter"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/internal/logging"
)

// Encryption is rpaflow's payload encryption, as the plugin's hosts and the
// standalone worker's configuration describe it.
type Encryption struct {
	Key     Key
	OldKeys []Key // retired keys still accepted for decryption
	// BoundaryKey, if set, encrypts what crosses to Nexus callers (inputs,
	// results and failures of the operations) with a key the callers share;
	// without it, those payloads are written so that a caller's default
	// data converter reads them. Session payloads stay under Key either way.
	BoundaryKey *Key
	// SealKey, if set, seals the values that carry platform tokens inside the
	// encryption, instead of a key derived from Key; OldSealKeys still open.
	SealKey     *Key
	OldSealKeys []Key
}

// Codec is the payload codec: Key encrypts, every key decrypts, and the
// seal keys seal what carries platform tokens.
func (e Encryption) Codec() (*Codec, error) {
	c, err := New(e.Key, e.OldKeys...)
	if err != nil {
		return nil, err
	}
	if c, err = c.WithSealKeys(e.SealKey, e.OldSealKeys...); err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return c, nil
}

// BoundaryCodec encodes what crosses to Nexus callers: nil (readable by
// their default converter) without a BoundaryKey.
func (e Encryption) BoundaryCodec() (converter.PayloadCodec, error) {
	if e.BoundaryKey == nil {
		return nil, nil
	}
	c, err := New(*e.BoundaryKey)
	if err != nil {
		return nil, fmt.Errorf("boundary key: %w", err)
	}
	return c, nil
}

// NexusBoundary is what rpaflow's Nexus service hands its callers: the
// operations' payloads and those of the workflows they start (under
// idPrefix), encoded with c (nil: readable by any caller), failure messages
// cleaned of secrets.
func NexusBoundary(idPrefix string, c converter.PayloadCodec, secrets []string) Boundary {
	return Boundary{Service: contract.NexusService, WorkflowIDPrefix: idPrefix + contract.NexusWorkflowIDPrefix,
		Codec: c, Redact: logging.NewRedactor(secrets).Redact}
}
