package teststack

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// HistoryPayloads returns every payload in the latest run's history of
// workflowID as stored (encrypted), as the UI sends them to a codec.
func HistoryPayloads(ctx context.Context, c client.Client, workflowID string) ([]*commonpb.Payload, error) {
	var all []*commonpb.Payload
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		collectPayloads(ev.ProtoReflect(), &all)
	}
	return all, nil
}

// collectPayloads appends every Payload message inside m.
func collectPayloads(m protoreflect.Message, out *[]*commonpb.Payload) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		*out = append(*out, p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					collectPayloads(mv.Message(), out)
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := 0; i < v.List().Len(); i++ {
					collectPayloads(v.List().Get(i).Message(), out)
				}
			}
		case fd.Message() != nil:
			collectPayloads(v.Message(), out)
		}
		return true
	})
}
