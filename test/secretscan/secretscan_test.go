package secretscan

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

const secret = "probe-secret-0123456789abcdef"

func TestContainsPlainAndBase64AtEveryAlignment(t *testing.T) {
	if !Contains("x"+secret+"y", secret) {
		t.Error("plain secret inside text not found")
	}
	for _, prefix := range []string{"", "a", "ab", "abc", "abcd"} {
		for _, suffix := range []string{"", "z", "zz"} {
			enc := base64.StdEncoding.EncodeToString([]byte(prefix + secret + suffix))
			if !Contains(`{"data":"`+enc+`"}`, secret) {
				t.Errorf("base64 of %q+secret+%q not found", prefix, suffix)
			}
		}
	}
	for _, clean := range []string{"", "nothing here", base64.StdEncoding.EncodeToString([]byte("probe-secret-01234X6789abcdef")),
		base64.StdEncoding.EncodeToString([]byte("other-secret-0123456789abcdef"))} {
		if Contains(clean, secret) {
			t.Errorf("false positive in %q", clean)
		}
	}
}

func TestContainsShortSecretIsPlainOnly(t *testing.T) {
	// Too short for a base64 run that does not depend on its neighbours:
	// only the plain form counts, and the matcher must not panic.
	for _, sec := range []string{"a", "abcdefgh"} {
		if Contains(base64.StdEncoding.EncodeToString([]byte("xx"+sec+"yy")), sec) {
			t.Errorf("%q matched inside unrelated base64", sec)
		}
		if !Contains("<"+sec+">", sec) {
			t.Errorf("%q not found in plain text", sec)
		}
	}
}

func TestPayloadData(t *testing.T) {
	cli := `{"events":[{"input":{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"` +
		base64.StdEncoding.EncodeToString([]byte(`{"State":"California"}`)) + `"}]}},{"result":{"data": "` +
		base64.StdEncoding.EncodeToString([]byte("second")) + `"}},{"data":"not base64!"}]}`
	got := PayloadData(cli)
	if got != "{\"State\":\"California\"}\nsecond\n" {
		t.Errorf("PayloadData = %q", got)
	}
	if PayloadData(`{"events":[]}`) != "" {
		t.Error("PayloadData of output without data fields is not empty")
	}
}

// historyClient serves one history through GetWorkflowHistory.
type historyClient struct {
	client.Client
	events       []*historypb.HistoryEvent
	failAfter    int // events served before the iterator fails; -1 never
	gotID, gotRn string
}

func (c *historyClient) GetWorkflowHistory(_ context.Context, id, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	c.gotID, c.gotRn = id, runID
	return &iter{c: c}
}

type iter struct {
	c *historyClient
	i int
}

func (it *iter) HasNext() bool { return it.i < len(it.c.events) }
func (it *iter) Next() (*historypb.HistoryEvent, error) {
	if it.c.failAfter >= 0 && it.i >= it.c.failAfter {
		return nil, errors.New("server gone")
	}
	it.i++
	return it.c.events[it.i-1], nil
}

func started(id int64, data string) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventId: id, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{{Data: []byte(data)}}}}}}
}

func TestHistoryBytesHoldsPayloadDataVerbatim(t *testing.T) {
	c := &historyClient{events: []*historypb.HistoryEvent{started(1, "hello "+secret), started(2, "clean")}, failAfter: -1}
	raw, n, err := HistoryBytes(t.Context(), c, "wf", "run")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || c.gotID != "wf" || c.gotRn != "run" {
		t.Errorf("read %d events of %s/%s, want 2 of wf/run", n, c.gotID, c.gotRn)
	}
	if !Contains(string(raw), secret) || !strings.Contains(string(raw), "clean") {
		t.Error("raw history does not hold both events' payload data")
	}
}

func TestHistoryBytesReturnsWhatItReadOnError(t *testing.T) {
	c := &historyClient{events: []*historypb.HistoryEvent{started(1, secret), started(2, "never read")}, failAfter: 1}
	raw, n, err := HistoryBytes(t.Context(), c, "wf", "")
	if err == nil || !strings.Contains(err.Error(), "history of wf") {
		t.Fatalf("error = %v, want one naming the workflow", err)
	}
	if n != 1 || !Contains(string(raw), secret) || strings.Contains(string(raw), "never read") {
		t.Errorf("partial read: %d events, %q", n, raw)
	}
}
