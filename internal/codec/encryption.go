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

// Converters wraps base (nil: the SDK's default) with this encryption, for
// a client of rpaflow's workflows: payloads encrypted with Key (platform
// tokens sealed inside), failure messages and stack traces moved into an
// encrypted payload (provider error text can echo secrets). What crosses to the callers of
// rpaflow's Nexus service (its operations and the workflows they start,
// whose IDs begin with idPrefix and contract.NexusWorkflowIDPrefix) is
// written for them instead: with BoundaryKey, or readable by their default
// converter, failure messages cleaned of secrets. The plugin builds its
// clients' converters here, and so does every client that runs no worker.
func (e Encryption) Converters(base converter.DataConverter, idPrefix string, secrets []string) (converter.DataConverter, converter.FailureConverter, error) {
	c, err := e.Codec()
	if err != nil {
		return nil, nil, err
	}
	bc, err := e.BoundaryCodec()
	if err != nil {
		return nil, nil, err
	}
	if base == nil {
		base = converter.GetDefaultDataConverter()
	}
	b := Boundary{Service: contract.NexusService, WorkflowIDPrefix: idPrefix + contract.NexusWorkflowIDPrefix,
		Codec: bc, Redact: logging.NewRedactor(secrets).Redact}
	dc, fc := Converters(base, c, b)
	return dc, fc, nil
}
