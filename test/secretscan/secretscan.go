// Package secretscan looks for secrets where they must never be: workflow
// histories and CLI output as anyone without the codec key sees them, and
// worker logs. It is test plumbing for the integration and reliability
// suites.
package secretscan

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
)

// Contains looks for secret in s as is and base64-encoded at any alignment
// (the CLI prints raw payload data as base64).
func Contains(s, secret string) bool {
	if strings.Contains(s, secret) {
		return true
	}
	for shift := 0; shift < 3; shift++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", shift) + secret))
		// Drop the characters that depend on the padding or the prefix.
		lo, hi := 4*((shift+2)/3)+4, len(enc)-4
		if hi-lo > 12 && strings.Contains(s, enc[lo:hi]) {
			return true
		}
	}
	return false
}

// HistoryBytes is a run's whole history (runID "" for the latest run) as
// raw protobuf bytes, where payload data appears verbatim, so a plaintext
// secret would too; and the number of events. On an error it returns what
// it read before it.
func HistoryBytes(ctx context.Context, c client.Client, workflowID, runID string) ([]byte, int, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []byte
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return out, n, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		b, err := proto.Marshal(ev)
		if err != nil {
			return out, n, fmt.Errorf("history of %s: encoding event %d: %w", workflowID, ev.GetEventId(), err)
		}
		out = append(out, b...)
		n++
	}
	return out, n, nil
}

var dataField = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

// PayloadData decodes every payload "data" field of the CLI's JSON output
// (the CLI prints payload bytes as base64) and joins them, one a line.
func PayloadData(cliJSON string) string {
	var b strings.Builder
	for _, m := range dataField.FindAllStringSubmatch(cliJSON, -1) {
		if raw, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			b.Write(raw)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
