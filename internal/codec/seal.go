package codec

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// EncodingSealed marks a payload sealed with the worker-only key. The codec
// endpoint decrypts the outer layer only, so the UI and `temporal
// --codec-endpoint` show such a payload with this encoding and opaque data.
const EncodingSealed = "binary/rpaflow-sealed"

// sealKeyInfo separates the derived seal key from the codec key it comes
// from: holding the codec endpoint gives no way to open a sealed payload.
const sealKeyInfo = "rpaflow worker-only seal key v1"

func deriveSealKey(k Key) Key {
	// HKDF with a 32-byte output cannot fail for SHA-256.
	key, _ := hkdf.Key(sha256.New, k.Key, nil, sealKeyInfo, KeySize)
	return Key{ID: k.ID, Key: key}
}

// WithSealKeys returns c sealing with active (if set), a key of its own
// instead of the one derived from c's key. Payloads sealed with old or with
// the keys derived from c's keys still open (key rotation).
func (c *Codec) WithSealKeys(active *Key, old ...Key) (*Codec, error) {
	if active == nil && len(old) == 0 {
		return c, nil
	}
	keys := old
	if active != nil {
		keys = append([]Key{*active}, old...)
	}
	s, err := newAEADs(EncodingSealed, "seal", keys[0], keys[1:]...)
	if err != nil {
		return nil, err
	}
	if active == nil {
		s.activeID = c.sealer.activeID
	}
	for id, a := range c.sealer.aeads {
		if _, dup := s.aeads[id]; dup && active == nil {
			return nil, fmt.Errorf("seal: old key id %q is also the id of a codec key; every key needs its own id", id)
		}
		if _, dup := s.aeads[id]; !dup {
			s.aeads[id] = a
		}
	}
	out := *c
	out.sealer = s
	return &out, nil
}

// WorkerOnly is implemented by the values that carry platform tokens
// (session state, token answers, access details, renewal results, the
// logout argument). Sealing reports whether this value carries one.
type WorkerOnly interface {
	WorkerOnly() bool
}

// ErrSealed is wrapped by a converter without the worker-only key when it
// is asked to read a sealed payload.
var ErrSealed = errors.New("the value is sealed with the worker-only key")

// Sealing wraps base so that values marked WorkerOnly are written by base
// and then sealed with s, a second AES-GCM layer under a key the codec
// endpoint does not hold; sealed payloads are opened before base reads
// them. With a nil s (a client working through the codec endpoint) sealed
// payloads are refused with ErrSealed rather than handed over as blobs.
func Sealing(base converter.DataConverter, s *Codec) converter.DataConverter {
	return &sealingConverter{DataConverter: base, sealer: s}
}

type sealingConverter struct {
	converter.DataConverter
	sealer *Codec
}

func workerOnly(v any) bool {
	w, ok := v.(WorkerOnly)
	return ok && w.WorkerOnly()
}

func (c *sealingConverter) ToPayload(v any) (*commonpb.Payload, error) {
	p, err := c.DataConverter.ToPayload(v)
	if err != nil || !workerOnly(v) {
		return p, err
	}
	if c.sealer == nil {
		return nil, fmt.Errorf("a %T carries a platform token and must be sealed with the worker-only key, which this client does not hold; set RPAFLOW_CODEC_KEY (or RPAFLOW_SEAL_KEY)", v)
	}
	out, err := c.sealer.Encode([]*commonpb.Payload{p})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (c *sealingConverter) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := &commonpb.Payloads{}
	for i, v := range values {
		p, err := c.ToPayload(v)
		if err != nil {
			return nil, fmt.Errorf("values[%d]: %w", i, err)
		}
		out.Payloads = append(out.Payloads, p)
	}
	return out, nil
}

func sealed(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingSealed
}

func (c *sealingConverter) open(p *commonpb.Payload) (*commonpb.Payload, error) {
	if !sealed(p) {
		return p, nil
	}
	if c.sealer == nil {
		return nil, fmt.Errorf("%w: only the rpaflow worker and holders of RPAFLOW_CODEC_KEY (or RPAFLOW_SEAL_KEY) can read it; the codec endpoint does not open it", ErrSealed)
	}
	out, err := c.sealer.Decode([]*commonpb.Payload{p})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (c *sealingConverter) FromPayload(p *commonpb.Payload, ptr any) error {
	p, err := c.open(p)
	if err != nil {
		return err
	}
	return c.DataConverter.FromPayload(p, ptr)
}

func (c *sealingConverter) FromPayloads(payloads *commonpb.Payloads, ptrs ...any) error {
	for i, p := range payloads.GetPayloads() {
		if i >= len(ptrs) {
			break
		}
		if err := c.FromPayload(p, ptrs[i]); err != nil {
			return fmt.Errorf("payload item %d: %w", i, err)
		}
	}
	return nil
}

func (c *sealingConverter) ToString(p *commonpb.Payload) string {
	if sealed(p) {
		// Never opened here: strings end up in logs.
		return "(sealed with the worker-only key)"
	}
	return c.DataConverter.ToString(p)
}

func (c *sealingConverter) ToStrings(payloads *commonpb.Payloads) []string {
	if payloads == nil {
		return nil
	}
	out := make([]string, len(payloads.GetPayloads()))
	for i, p := range payloads.GetPayloads() {
		out[i] = c.ToString(p)
	}
	return out
}

func (c *sealingConverter) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	base := converter.WithDataConverterSerializationContext(c.DataConverter, sc)
	if base == c.DataConverter {
		return c
	}
	return &sealingConverter{DataConverter: base, sealer: c.sealer}
}
