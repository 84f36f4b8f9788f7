package plugin

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// nexusCancelInterceptor ends a cancelled deployment that a Nexus operation
// started without the cancellation's details. The SDK writes those details
// with the worker's converter outside any serialization context, so they
// would reach the caller encrypted with the namespace key: a Go caller
// cannot read them and a TypeScript caller's workflow task fails on them.
// The stop itself is in the deployment's log ("run stopped").
type nexusCancelInterceptor struct {
	interceptor.WorkerInterceptorBase
	idPrefix  string
	workflows map[string]bool
}

func (i *nexusCancelInterceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	info := workflow.GetInfo(ctx)
	if !i.workflows[info.WorkflowType.Name] || !strings.HasPrefix(info.WorkflowExecution.ID, i.idPrefix) {
		return next
	}
	return &nexusCancelInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type nexusCancelInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (i *nexusCancelInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	out, err := i.Next.ExecuteWorkflow(ctx, in)
	var ce *temporal.CanceledError
	if errors.As(err, &ce) && ce.HasDetails() {
		return out, temporal.NewCanceledError()
	}
	return out, err
}
