package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const leaked = "sk-live-0123456789abcdef"

func boundary() Boundary {
	return Boundary{Service: "rpaflow", WorkflowIDPrefix: "nexus:",
		Redact: func(s string) string { return strings.ReplaceAll(s, leaked, "[REDACTED]") }}
}

// Payloads of Nexus-started workflows and of rpaflow's Nexus operations
// are written for the caller; everything else stays encrypted.
func TestBoundaryPayloads(t *testing.T) {
	dc, _ := Converters(converter.GetDefaultDataConverter(), mustNew(t, k1), boundary())
	for _, c := range []struct {
		name  string
		sc    converter.SerializationContext
		plain bool
	}{
		{"no context", nil, false},
		{"session workflow", converter.WorkflowSerializationContext{WorkflowID: "aa-session:cr"}, false},
		{"deployment started by a user", converter.WorkflowSerializationContext{WorkflowID: "zip-95134"}, false},
		{"deployment started by Nexus", converter.WorkflowSerializationContext{WorkflowID: "nexus:deployApiTask:req-1"}, true},
		{"its activity", converter.ActivitySerializationContext{WorkflowID: "nexus:deployApiTask:req-1", ActivityType: "AAExecuteAPITask"}, false},
		{"rpaflow's operation", converter.NexusSerializationContext{Service: "rpaflow", Operation: "sessionStatus"}, true},
		{"another service's operation", converter.NexusSerializationContext{Service: "billing", Operation: "charge"}, false},
	} {
		d := dc
		if c.sc != nil {
			d = converter.WithDataConverterSerializationContext(dc, c.sc)
		}
		p, err := d.ToPayload(map[string]string{"state": "California"})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(p.Metadata[converter.MetadataEncoding]) == "json/plain"; got != c.plain {
			t.Errorf("%s: plain = %v (%s), want %v", c.name, got, p.Metadata[converter.MetadataEncoding], c.plain)
		}
		var back map[string]string
		if err := d.FromPayload(p, &back); err != nil || back["state"] != "California" {
			t.Errorf("%s: round trip %v %v", c.name, back, err)
		}
	}
}

// A failure that crosses keeps its type and details for the caller, with
// the message decrypted and redacted, and no stack trace; inside the
// namespace the same failure stays encrypted.
func TestBoundaryFailures(t *testing.T) {
	_, fc := Converters(converter.GetDefaultDataConverter(), mustNew(t, k1), boundary())
	type info struct {
		Field string `json:"field"`
	}
	cause := temporal.NewApplicationErrorWithOptions("execute answered 401 for key "+leaked, "TokenRejected",
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{info{Field: "botInput"}}})
	// The activity's failure as the workflow got it: decoded from an
	// encrypted failure, which ErrorToFailure reuses.
	inner := fc.ErrorToFailure(cause)
	err := temporal.NewApplicationErrorWithOptions("deployment failed", "RunFailed", temporal.ApplicationErrorOptions{Cause: fc.FailureToError(inner)})

	inside := converter.WithFailureConverterSerializationContext(fc, converter.WorkflowSerializationContext{WorkflowID: "zip-1"}).ErrorToFailure(err)
	if raw, _ := proto.Marshal(inside); bytes.Contains(raw, []byte(leaked)) || bytes.Contains(raw, []byte("401")) {
		t.Error("a failure inside the namespace carries its message in clear")
	}

	out := converter.WithFailureConverterSerializationContext(fc, converter.WorkflowSerializationContext{WorkflowID: "nexus:deployApiTask:r"}).ErrorToFailure(err)
	raw, _ := proto.Marshal(out)
	if bytes.Contains(raw, []byte(leaked)) {
		t.Error("a crossing failure carries the secret")
	}
	if out.GetMessage() != "deployment failed" || out.GetEncodedAttributes() != nil || out.GetStackTrace() != "" {
		t.Errorf("crossing failure: message %q, encoded %v, stack %q", out.GetMessage(), out.GetEncodedAttributes() != nil, out.GetStackTrace())
	}
	c := out.GetCause()
	if c.GetApplicationFailureInfo().GetType() != "TokenRejected" || !strings.Contains(c.GetMessage(), "401 for key [REDACTED]") {
		t.Errorf("cause: type %q message %q", c.GetApplicationFailureInfo().GetType(), c.GetMessage())
	}
	// The caller reads it with the SDK's default converters.
	got := temporal.GetDefaultFailureConverter().FailureToError(out)
	var app *temporal.ApplicationError
	if !errors.As(got, &app) || app.Type() != "RunFailed" {
		t.Fatalf("caller sees %v", got)
	}
	var ca *temporal.ApplicationError
	if !errors.As(app.Unwrap(), &ca) || ca.Type() != "TokenRejected" {
		t.Fatalf("caller's cause %v", app.Unwrap())
	}
	var d info
	if err := ca.Details(&d); err != nil || d.Field != "botInput" {
		t.Errorf("caller's details = %+v, %v", d, err)
	}
}

// With a boundary key, what crosses is encrypted with it, and both sides
// holding that key read it.
func TestBoundaryKey(t *testing.T) {
	b := boundary()
	b.Codec = mustNew(t, k2)
	dc, _ := Converters(converter.GetDefaultDataConverter(), mustNew(t, k1), b)
	d := converter.WithDataConverterSerializationContext(dc, converter.NexusSerializationContext{Service: "rpaflow"})
	p, err := d.ToPayload("result")
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[MetadataKeyID]) != "k2" {
		t.Fatalf("crossing payload under key %q, want the boundary key k2", p.Metadata[MetadataKeyID])
	}
	callerDC := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), mustNew(t, k2))
	var s string
	if err := callerDC.FromPayload(p, &s); err != nil || s != "result" {
		t.Errorf("caller with the boundary key reads %q, %v", s, err)
	}
	if err := dc.FromPayload(p, &s); err != nil || s != "result" {
		t.Errorf("rpaflow reads its own crossing payload: %q, %v", s, err)
	}
}
