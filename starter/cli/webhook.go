package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/rpaflow/rpaflow/contract"
)

func webhookUsage() string {
	return "Usage: starter webhook ensure --profile NAME --url URL [--ping] [flags]\n\n" +
		"  ensure   create or update the Orchestrator webhook that posts job and queue-item ends to\n" +
		"           rpaflow's events receiver; a worker does it with the profile's credentials and\n" +
		"           RPAFLOW_<NAME>_WEBHOOK_SECRET (docs/events.md)\n\n" +
		"Run 'starter webhook ensure --help' for the flags.\n\n" + exitCodesHelp
}

// webhookTimeout bounds webhook ensure when --timeout is not set: the
// worker's calls, retried, take well under it.
const webhookTimeout = 2 * time.Minute

// webhook runs EnsureWebhook on a worker and prints what it did. The
// starter holds no platform credentials: the worker has them.
func (r *Runner) webhook(ctx context.Context, _ string, args []string) int {
	fs := newFlagSet("starter webhook ensure")
	var (
		c  commonFlags
		in contract.EnsureWebhookInput
	)
	fs.StringVar(&in.Profile, "profile", "", "Orchestrator profile `NAME`; the workers need its RPAFLOW_<NAME>_WEBHOOK_SECRET (required)")
	fs.StringVar(&in.URL, "url", "", "public `URL` of the receiver for this profile, https://<your ingress>/events/uipath/<profile>; http only for a loopback host (required)")
	fs.StringVar(&in.Name, "name", "", "webhook `NAME` in Orchestrator, how it is found again (default rpaflow-<profile>)")
	fs.BoolVar(&in.Ping, "ping", false, "then have Orchestrator send the webhook a ping (the receiver's rpaflow_events_total{outcome=\"verified\"} grows when it arrives)")
	c.register(fs, "give up after this `DURATION` (exit 4; default 2m)")
	usage := func() string {
		return commandUsage("starter webhook ensure --profile NAME --url URL [--ping] [flags]",
			"Create or update the Orchestrator webhook for rpaflow's events receiver ("+contract.EnsureWebhookWorkflow+
				" on a worker, which holds the credentials and the secret; the client needs the scope OR.Webhooks).", fs,
			"starter webhook ensure --profile orch --url https://rpa-events.example.com/events/uipath/orch --ping")
	}
	if code, done := r.parseFlags(fs, args, usage); done {
		return code
	}
	out := &Output{WorkflowType: contract.EnsureWebhookWorkflow}
	if in.Profile == "" || in.URL == "" {
		return r.finish(out, usageErrorf("--profile and --url are required"), c.json)
	}
	if err := in.Validate(); err != nil {
		return r.finish(out, withCode(ExitUsage, err), c.json)
	}
	out.WorkflowID = contract.EnsureWebhookID(in.Profile)
	ctx, cancel := withTimeout(ctx, c.timeout, webhookTimeout)
	defer cancel()
	conn, cfg, err := r.connect(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	defer conn.Close()
	out.TaskQueue = cfg.TaskQueue
	run, err := conn.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: out.WorkflowID, TaskQueue: cfg.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true}, contract.EnsureWebhookWorkflow, in)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			err = usageErrorf("%s is already running (run %s): another webhook ensure for profile %s; wait for it with: starter result --id %s", out.WorkflowID, started.RunId, in.Profile, out.WorkflowID)
		}
		return r.finish(out, err, c.json)
	}
	out.RunID = run.GetRunID()
	var res contract.EnsureWebhookResult
	if err := run.Get(ctx, &res); err != nil {
		if isWaitTimeout(ctx, err) {
			err = stoppedWaiting(ctx, err)
			out.hint = fmt.Sprintf("no answer from %s; is a worker polling task queue %q?", out.WorkflowID, cfg.TaskQueue)
		}
		return r.finish(out, err, c.json)
	}
	out.Result, _ = json.Marshal(res)
	out.human = fmt.Sprintf("webhook %s (id %d) %s: %s, events %s\n", res.Name, res.ID, res.Outcome, res.URL, strings.Join(res.Events, ", "))
	if len(res.Changed) > 0 {
		out.human += "changed: " + strings.Join(res.Changed, ", ") + "\n"
	}
	if res.Pinged {
		out.human += "ping sent: the receiver's rpaflow_events_total{outcome=\"verified\"} grows when it arrives\n"
	}
	return r.finish(out, nil, c.json)
}
