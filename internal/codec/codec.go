// Package codec encrypts Temporal payloads with AES-256-GCM and serves
// Temporal's remote codec protocol so the CLI and UI can read histories.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// Key is an encryption key and the id written into the payloads it encrypts.
type Key struct {
	ID  string
	Key []byte
}

// Codec is a converter.PayloadCodec: it encrypts with the active key and
// decrypts with whichever configured key the payload names.
type Codec struct {
	encoding string // EncodingEncrypted, or EncodingSealed for a sealer
	activeID string
	aeads    map[string]cipher.AEAD
	// sealer seals worker-only values (see Converters); derived from the
	// codec's keys unless WithSealKeys configures its own.
	sealer *Codec
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that encrypts with active and also decrypts payloads
// written with any of the old keys (key rotation). Its sealer uses keys
// derived from the same ones (see WithSealKeys); Encode and Decode never
// touch sealed payloads, so a codec endpoint serving it leaves them sealed.
func New(active Key, old ...Key) (*Codec, error) {
	c, err := newAEADs(EncodingEncrypted, "codec", active, old...)
	if err != nil {
		return nil, err
	}
	derived := make([]Key, 0, len(old))
	for _, k := range old {
		derived = append(derived, deriveSealKey(k))
	}
	if c.sealer, err = newAEADs(EncodingSealed, "seal", deriveSealKey(active), derived...); err != nil {
		return nil, err
	}
	return c, nil
}

// newAEADs builds a codec of encoding; role names it in errors.
func newAEADs(encoding, role string, active Key, old ...Key) (*Codec, error) {
	c := &Codec{encoding: encoding, activeID: active.ID, aeads: map[string]cipher.AEAD{}}
	for i, k := range append([]Key{active}, old...) {
		what := "active key"
		if i > 0 {
			what = fmt.Sprintf("old key %d", i)
		}
		if k.ID == "" {
			return nil, fmt.Errorf("%s: %s has an empty id; give every key a name", role, what)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("%s: %s reuses key id %q; every key needs its own id", role, what, k.ID)
		}
		if len(k.Key) != KeySize {
			return nil, fmt.Errorf("%s: %s %q is %d bytes; AES-256 needs exactly %d", role, what, k.ID, len(k.Key), KeySize)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", role, what, k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", role, what, k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// GenerateKey returns 32 random bytes, for development mode.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("codec: generating a key: %w", err)
	}
	return k, nil
}

// Encode encrypts each payload (metadata included) with the active key. A
// payload this codec already encrypted is returned unchanged: some clients
// (the Temporal CLI retrying a start through a remote codec) encode twice.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.activeID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if c.ours(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshalling payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: reading a nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(c.encoding),
				MetadataKeyID:              []byte(c.activeID),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// ErrUnknownKey is wrapped by Decode when a payload names a key id that is
// not configured.
var ErrUnknownKey = errors.New("unknown encryption key id")

// ours reports whether p is encrypted with one of this codec's keys.
func (c *Codec) ours(p *commonpb.Payload) bool {
	if string(p.GetMetadata()[converter.MetadataEncoding]) != c.encoding {
		return false
	}
	_, ok := c.aeads[string(p.GetMetadata()[MetadataKeyID])]
	return ok
}

// maxLayers bounds how many nested encryptions Decode unwraps.
const maxLayers = 8

// Decode decrypts encrypted payloads, unwrapping the nested layers that
// clients encoding twice left in older histories; other payloads pass
// through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		for layer := 0; string(p.GetMetadata()[converter.MetadataEncoding]) == c.encoding; layer++ {
			if layer == maxLayers {
				return nil, fmt.Errorf("codec: payload %d is encrypted more than %d times over; it was not written by rpaflow", i, maxLayers)
			}
			var err error
			if p, err = c.decrypt(i, p); err != nil {
				return nil, err
			}
		}
		out[i] = p
	}
	return out, nil
}

func (c *Codec) decrypt(i int, p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	aead, ok := c.aeads[id]
	if !ok {
		if c.encoding == EncodingSealed {
			return nil, fmt.Errorf("codec: sealed payload %d names seal key id %q, which is not configured (active seal key %q); add that key to RPAFLOW_SEAL_OLD_KEYS, or the codec key it was derived from to RPAFLOW_CODEC_OLD_KEYS: %w", i, id, c.activeID, ErrUnknownKey)
		}
		return nil, fmt.Errorf("codec: payload %d was encrypted with key id %q, which is not configured (active key %q); add that key to RPAFLOW_CODEC_OLD_KEYS: %w", i, id, c.activeID, ErrUnknownKey)
	}
	data := p.GetData()
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("codec: payload %d is too short to be encrypted data (%d bytes)", i, len(data))
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], nil)
	if err != nil {
		return nil, fmt.Errorf("codec: payload %d failed authentication with key id %q: it was altered or encrypted with a different key under that id", i, id)
	}
	var orig commonpb.Payload
	if err := proto.Unmarshal(plain, &orig); err != nil {
		return nil, fmt.Errorf("codec: payload %d decrypted to an invalid payload: %w", i, err)
	}
	return &orig, nil
}
