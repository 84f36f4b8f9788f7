package plugin

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// prefixInterceptor makes rpaflow's workflows (and only them) call their
// activities by the prefixed names the plugin registered. The workflows
// name activities by method (cr.AAExecuteAPITask), which the SDK turns into
// the bare method name.
type prefixInterceptor struct {
	interceptor.WorkerInterceptorBase
	prefix    string
	workflows map[string]bool
}

func (i *prefixInterceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	if !i.workflows[workflow.GetInfo(ctx).WorkflowType.Name] {
		return next
	}
	return &prefixInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, prefix: i.prefix}
}

type prefixInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	prefix string
}

func (i *prefixInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&prefixOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, prefix: i.prefix})
}

type prefixOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	prefix string
}

func (o *prefixOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.Next.ExecuteActivity(ctx, o.prefix+activityType, args...)
}

func (o *prefixOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.Next.ExecuteLocalActivity(ctx, o.prefix+activityType, args...)
}
