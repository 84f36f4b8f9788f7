// Package badinput lists bad workflow inputs and the field each rejection
// must name. The reliability suite sends them to a live worker; the
// starter's test checks that its strict input check and the contract's
// JSON Schemas reject the same ones.
package badinput

import "github.com/rpaflow/rpaflow/contract"

// Case is one bad input.
type Case struct {
	Workflow string // workflow type
	Input    string // the workflow input, JSON
	Field    string // what the rejection names
	// Config: only the worker's configuration can reject it (a profile it
	// does not have, or one of another platform); the input is well formed.
	Config bool
}

// Workflows are bad inputs of the workflows the starter starts.
var Workflows = []Case{
	{contract.DeployAPITaskWorkflow, `{"profile":"","botRepositoryPath":"x"}`, "profile", false},
	{contract.DeployAPITaskWorkflow, `{"profile":"Bad_Name","botRepositoryPath":"x"}`, "profile", false},
	{contract.DeployAPITaskWorkflow, `{"profile":"cr","botRepositoryPath":"  "}`, "botRepositoryPath", false},
	{contract.DeployAPITaskWorkflow, `{"profile":"cr","botRepositoryPath":"x","botInput":{"v":null}}`, "botInput.v", false},
	{contract.DeployAPITaskWorkflow, `{"profile":"cr","botRepositoryPath":"x","botInput":{"":"a"}}`, "botInput", false},
	{contract.DeployAPITaskWorkflow, `{"profile":"nope","botRepositoryPath":"x"}`, "nope", true},
	{contract.DeployAPITaskWorkflow, `{"profile":"orch","botRepositoryPath":"x"}`, "orch", true},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":0,"runAsUserIds":[3]}`, "botId", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87}`, "runAsUserIds", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87,"runAsUserIds":[-1]}`, "runAsUserIds[0]", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87,"runAsUserIds":[3],"poolIds":[0]}`, "poolIds[0]", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87,"runAsUserIds":[3],"priority":"URGENT"}`, "priority", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87,"headless":{"numberOfExecutions":-1}}`, "headless.numberOfExecutions", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87,"runAsUserIds":[3],"botInput":{"sInput1":null}}`, "botInput.sInput1", false},
	{contract.DeployBotWorkflow, `{"profile":"hub","botId":87,"runAsUserIds":[3]}`, "hub", true},
	{contract.StartJobWorkflow, `{"profile":"orch","folder":"","process":"Invoices"}`, "folder", false},
	{contract.StartJobWorkflow, `{"profile":"orch","folder":"Shared","process":""}`, "process", false},
	{contract.StartJobWorkflow, `{"profile":"orch","folder":"Shared","process":"Invoices","priority":"Urgent"}`, "priority", false},
	{contract.StartJobWorkflow, `{"profile":"X Y","folder":"Shared","process":"Invoices"}`, "profile", false},
	{contract.StartJobWorkflow, `{"profile":"cr","folder":"Shared","process":"Invoices"}`, "cr", true},
	{contract.AddQueueItemWorkflow, `{"profile":"orch","folder":"Shared","queue":""}`, "queue", false},
	{contract.AddQueueItemWorkflow, `{"profile":"orch","folder":"Shared","queue":"Orders","specificContent":{"k":{"nested":1}}}`, "specificContent.k", false},
	{contract.AddQueueItemWorkflow, `{"profile":"orch","folder":"Shared","queue":"Orders","priority":"Top"}`, "priority", false},
	{contract.AddQueueItemWorkflow, `{"profile":"orch","folder":"   ","queue":"Orders"}`, "folder", false},
	{contract.DeployBotWorkflow, `{"profile":"cr","botId":87,"runAsUserIds":[3],"stopGrace":"-1s"}`, "stopGrace", false},
	{contract.StartJobWorkflow, `{"profile":"orch","folder":"Shared","process":"Invoices","stopGrace":"48h"}`, "stopGrace", false},
	{contract.AddQueueItemWorkflow, `{"profile":"orch","folder":"Shared","queue":"Orders","timeout":"1h"}`, "timeout", false},
	{contract.AddQueueItemWorkflow, `{"profile":"orch","folder":"Shared","queue":"Orders","wait":true,"timeout":"-5m"}`, "timeout", false},
	{contract.AddWorkItemWorkflow, `{"profile":"cr","queue":"","data":{"a":"b"}}`, "queue", false},
	{contract.AddWorkItemWorkflow, `{"profile":"cr","queue":"0","data":{"a":"b"}}`, "queue", false},
	{contract.AddWorkItemWorkflow, `{"profile":"cr","queue":"Invoices"}`, "data", false},
	{contract.AddWorkItemWorkflow, `{"profile":"cr","queue":"Invoices","data":{"a":[1,2]}}`, "data.a", false},
	{contract.AddWorkItemWorkflow, `{"profile":"cr","queue":"Invoices","data":{"a":"b"},"timeout":"1h"}`, "timeout", false},
	{contract.AddWorkItemWorkflow, `{"profile":"orch","queue":"Invoices","data":{"a":"b"}}`, "orch", true},
	{contract.AutomationHubTokenWatchWorkflow, `{"profile":""}`, "profile", false},
	{contract.AutomationHubTokenWatchWorkflow, `{"profile":"Hub!"}`, "profile", false},
}
