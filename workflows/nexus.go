package workflows

import (
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// NexusCaller is the task queue of the Nexus endpoint through which this
// workflow's caller started it, "" if no Nexus operation started it. With
// one endpoint per calling team it names the team (a fairness key, a
// label). rpaflow's Nexus handler records it in the memo
// (contract.NexusQueueMemo); operation inputs cannot set it.
func NexusCaller(ctx workflow.Context) string {
	var queues []string
	for k := range workflow.GetInfo(ctx).Memo.GetFields() {
		if q, ok := strings.CutPrefix(k, contract.NexusQueueMemo); ok {
			queues = append(queues, q)
		}
	}
	if len(queues) == 0 {
		return ""
	}
	slices.Sort(queues) // one in practice; sorted so map order cannot matter
	return queues[0]
}
