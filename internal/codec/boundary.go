package codec

import (
	"crypto/cipher"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Boundary says which payloads cross to Nexus callers, who hold no rpaflow
// key and decode with their own converter: the inputs, results and failures
// of rpaflow's Nexus operations and of the workflows they start. Everything
// else (session state with its tokens, activity payloads, other workflows)
// stays encrypted with the namespace key.
type Boundary struct {
	// Service is the Nexus service whose operation payloads cross.
	Service string
	// WorkflowIDPrefix marks the workflows the operations start.
	WorkflowIDPrefix string
	// Codec, if set, encodes what crosses (a key the callers share);
	// otherwise it crosses as the base converter wrote it.
	Codec converter.PayloadCodec
	// Redact cleans failure messages that cross, as logs are cleaned.
	Redact func(string) string
}

// crosses reports whether payloads written in sc go to a Nexus caller.
func (b Boundary) crosses(sc converter.SerializationContext) bool {
	switch c := sc.(type) {
	case converter.NexusSerializationContext:
		return b.Service != "" && c.Service == b.Service
	case converter.WorkflowSerializationContext:
		return b.WorkflowIDPrefix != "" && strings.HasPrefix(c.WorkflowID, b.WorkflowIDPrefix)
	}
	return false
}

// Converters returns base wrapped with secret and a failure converter
// that moves messages and stack traces into an encoded payload (provider
// error text can echo secrets). Payloads and failures that cross b are
// written for the caller instead: left as base wrote them (or encoded
// with b.Codec), messages redacted, stack traces dropped. Decoding reads
// both kinds, so rpaflow's own clients read every history.
func Converters(base converter.DataConverter, secret *Codec, b Boundary) (converter.DataConverter, converter.FailureConverter) {
	if b.Codec != nil {
		secret = secret.alsoDecoding(b.Codec)
	}
	crossing := &crossingCodec{enc: b.Codec, dec: secret}
	dc := converter.NewCodecDataConverter(Sealing(base, secret.sealer), &contextCodec{PayloadCodec: secret, boundary: b, crossing: crossing})
	fc := temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
	return dc, &contextFailureConverter{FailureConverter: fc, boundary: b, secretDC: dc, crossing: crossing}
}

// contextCodec encrypts, except where the serialization context says the
// payload crosses the boundary.
type contextCodec struct {
	converter.PayloadCodec
	boundary Boundary
	crossing converter.PayloadCodec
}

func (c *contextCodec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	if c.boundary.crosses(sc) {
		return c.crossing
	}
	return c
}

// crossingCodec writes boundary payloads (plain, or with the boundary
// codec) and reads anything rpaflow wrote.
type crossingCodec struct {
	enc converter.PayloadCodec // nil: leave as written
	dec converter.PayloadCodec
}

func (c *crossingCodec) Encode(p []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.enc == nil {
		return p, nil
	}
	return c.enc.Encode(p)
}

func (c *crossingCodec) Decode(p []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.dec.Decode(p)
}

// contextFailureConverter encodes failures, except those that cross the
// boundary: those are rewritten for the caller.
type contextFailureConverter struct {
	converter.FailureConverter
	boundary Boundary
	secretDC converter.DataConverter
	crossing converter.PayloadCodec
}

func (f *contextFailureConverter) WithSerializationContext(sc converter.SerializationContext) converter.FailureConverter {
	if f.boundary.crosses(sc) {
		return &crossingFailureConverter{f}
	}
	return f
}

type crossingFailureConverter struct{ *contextFailureConverter }

// ErrorToFailure converts as rpaflow always does (reusing the failures of
// errors that came from elsewhere, such as an activity's), then opens each
// layer: the encoded message is decrypted and redacted, the stack trace
// dropped, and detail payloads re-encoded for the caller.
func (f *crossingFailureConverter) ErrorToFailure(err error) *failurepb.Failure {
	out := f.FailureConverter.ErrorToFailure(err)
	for l := out; l != nil; l = l.GetCause() {
		if l.GetEncodedAttributes() != nil {
			var attrs struct {
				Message string `json:"message"`
			}
			if f.secretDC.FromPayload(l.GetEncodedAttributes(), &attrs) == nil {
				l.Message = attrs.Message
			} else {
				l.Message = "(the failure message could not be decoded)"
			}
			l.EncodedAttributes = nil
		}
		l.StackTrace = ""
		if f.boundary.Redact != nil {
			l.Message = f.boundary.Redact(l.Message)
		}
		if info := l.GetApplicationFailureInfo(); info != nil {
			info.Details = f.reencode(info.GetDetails())
		}
		if info := l.GetCanceledFailureInfo(); info != nil {
			info.Details = f.reencode(info.GetDetails())
		}
		if info := l.GetTimeoutFailureInfo(); info != nil {
			info.LastHeartbeatDetails = f.reencode(info.GetLastHeartbeatDetails())
		}
	}
	return out
}

// reencode decrypts details written with the namespace key and encodes
// them for the caller; details that cannot be read are dropped rather
// than handed over encrypted.
func (f *crossingFailureConverter) reencode(p *commonpb.Payloads) *commonpb.Payloads {
	if p == nil {
		return nil
	}
	plain, err := f.crossing.Decode(p.GetPayloads())
	if err != nil {
		return nil
	}
	out, err := f.crossing.Encode(plain)
	if err != nil {
		return nil
	}
	return &commonpb.Payloads{Payloads: out}
}

// alsoDecoding returns a codec that encrypts as c does and also decrypts
// what other wrote, when other is one of these codecs.
func (c *Codec) alsoDecoding(other converter.PayloadCodec) *Codec {
	o, ok := other.(*Codec)
	if !ok {
		return c
	}
	merged := &Codec{encoding: c.encoding, activeID: c.activeID, aeads: map[string]cipher.AEAD{}, sealer: c.sealer}
	for id, a := range o.aeads {
		merged.aeads[id] = a
	}
	for id, a := range c.aeads {
		merged.aeads[id] = a
	}
	return merged
}
