package temporalclient

import (
	"fmt"
	"net/http"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// remoteTimeout bounds one codec round trip: a CLI command must not hang on a
// worker that accepts connections but never answers.
const remoteTimeout = 30 * time.Second

// RemoteCodec encodes and decodes through a worker's codec endpoint
// (RPAFLOW_CODEC_ENDPOINT), as the Temporal CLI and UI do, so a client needs
// no key. authToken, when set, is sent as "Authorization: Bearer <token>".
func RemoteCodec(endpoint, authToken string) converter.PayloadCodec {
	opts := converter.RemotePayloadCodecOptions{
		Endpoint: endpoint,
		Client:   http.Client{Timeout: remoteTimeout},
	}
	if authToken != "" {
		opts.ModifyRequest = func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+authToken)
			return nil
		}
	}
	return remoteCodec{endpoint: endpoint, pc: converter.NewRemotePayloadCodec(opts)}
}

// remoteCodec names the variable in its errors: the SDK's say only
// "Unauthorized: ..." or "connection refused".
type remoteCodec struct {
	endpoint string
	pc       converter.PayloadCodec
}

func (r remoteCodec) Encode(p []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := r.pc.Encode(p)
	return out, r.wrap("encoding", err)
}

func (r remoteCodec) Decode(p []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := r.pc.Decode(p)
	return out, r.wrap("decoding", err)
}

func (r remoteCodec) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s payloads through RPAFLOW_CODEC_ENDPOINT=%s: %w (check that the worker runs and serves its codec there, and that RPAFLOW_CODEC_AUTH_TOKEN matches the worker's)", what, r.endpoint, err)
}
