package integration

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
)

// historyBytes is a workflow's whole history as raw protobuf bytes: payload
// data appears there verbatim, so a plaintext secret would too.
func historyBytes(t *testing.T, c client.Client, id string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []byte
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	if len(out) == 0 {
		t.Fatalf("history of %s is empty", id)
	}
	return out
}

// containsSecret looks for sec in s as is and base64-encoded at any
// alignment (the CLI prints raw payload data as base64).
func containsSecret(s, sec string) bool {
	if strings.Contains(s, sec) {
		return true
	}
	for shift := 0; shift < 3; shift++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", shift) + sec))
		// Drop the characters that depend on the padding or the prefix.
		inner := enc[4*((shift+2)/3)+4 : len(enc)-4]
		if len(inner) > 12 && strings.Contains(s, inner) {
			return true
		}
	}
	return false
}

var dataField = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

// payloadData decodes every payload "data" field of the CLI's JSON output
// (the CLI prints payload bytes as base64) and joins them.
func payloadData(cliJSON string) string {
	var b strings.Builder
	for _, m := range dataField.FindAllStringSubmatch(cliJSON, -1) {
		if raw, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			b.Write(raw)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
