// Package cli is the logic of rpaflow's starter, the command line that humans
// and scripts use to start, query and update rpaflow's workflows:
//
//	starter deploy-api-task --profile cr --input '{"botRepositoryPath":"Automation Anywhere\\Bots\\Zip Code API Task","botInput":{"iStrZipCode":"95134"}}' --wait
//	starter deploy-bot      --profile cr --input @deploy.json --wait
//	starter start-job       --profile orch --input - --wait < job.json
//	starter add-queue-item  --profile orch --input @item.json --json
//	starter add-work-item   --profile cr --input @work.json --wait
//	starter hub-watch       --profile hub
//	starter session status|token|logout --profile cr [--kind aa|uipath]
//	starter result --id deploy-bot-3kq9x2m7b4ha
//	starter schedule create --id zip-95134 --workflow deploy-api-task --profile cr --interval 15m --input @zip.json
//	starter schedule list|describe|pause|unpause|trigger|delete [--id zip-95134]
//
// The connection (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS
// paths...), the task queue (RPAFLOW_TASK_QUEUE) and the payload codec
// (RPAFLOW_CODEC_KEY..., or RPAFLOW_CODEC_ENDPOINT to work through the
// worker's codec endpoint without the key) come from the same configuration as
// the worker, so encrypted payloads are readable. Platform profiles (RPAFLOW_PROFILES and
// RPAFLOW_<NAME>_*) are the worker's business: the starter ignores them.
//
// Output: a result is printed as indented JSON on stdout; progress and
// failures (message and ApplicationError type) go to stderr. With --json,
// stdout carries exactly one JSON object, success or not:
//
//	{"workflowId":"...","runId":"...","workflowType":"DeployBot","taskQueue":"rpaflow","result":{...},"exitCode":0}
//	{"workflowId":"...","error":{"message":"...","type":"InvalidInput"},"exitCode":1}
//
// Exit codes:
//
//	0  success
//	1  the workflow, update or query failed (failure message and type on stderr)
//	2  bad usage or input: unknown flag, malformed or unknown input field, missing
//	   profile, workflow ID already running or not found, schedule ID taken or not found
//	3  cannot reach Temporal, or configuration error
//	4  timeout: --timeout elapsed (or the command was interrupted) before the
//	   answer came, or the workflow itself timed out; a started workflow keeps running
package cli
