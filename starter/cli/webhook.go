package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/internal/config"
	"github.com/rpaflow/rpaflow/internal/events"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

func webhookUsage() string {
	return "Usage: starter webhook ensure --profile NAME --url URL [--ping] [flags]\n\n" +
		"  ensure   create or update the Orchestrator webhook that posts job and queue-item ends to\n" +
		"           rpaflow's events receiver, signed with RPAFLOW_<NAME>_WEBHOOK_SECRET (docs/events.md)\n\n" +
		"Run 'starter webhook ensure --help' for the flags.\n\n" + exitCodesHelp
}

// WebhookResult is what webhook ensure reports.
type WebhookResult struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	URL     string   `json:"url"`
	Created bool     `json:"created"`
	Enabled bool     `json:"enabled"`
	Events  []string `json:"events"`
	Pinged  bool     `json:"pinged,omitempty"`
}

// webhook registers a profile's Orchestrator webhook. Unlike the other
// commands it talks to Orchestrator, not Temporal, so it reads the
// profile (credentials and webhook secret) from the environment: run it
// where the worker's profile variables are.
func (r *Runner) webhook(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(r.Stderr, "error: missing action\n\n%s", webhookUsage())
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(r.Stdout, webhookUsage())
		return ExitOK
	case "ensure":
	default:
		r.finish(&Output{}, usageErrorf("unknown webhook action %q; use ensure", args[0]), wantsJSON(args))
		return ExitUsage
	}
	fs := newFlagSet("starter webhook ensure")
	var (
		c                commonFlags
		profileName, url string
		name             string
		ping             bool
	)
	fs.StringVar(&profileName, "profile", "", "Orchestrator profile `NAME` (its credentials and RPAFLOW_<NAME>_WEBHOOK_SECRET are read from the environment; required)")
	fs.StringVar(&url, "url", "", "public `URL` of the receiver for this profile, e.g. https://rpa-events.example.com/events/uipath/orch (required)")
	fs.StringVar(&name, "name", "", "webhook `NAME` in Orchestrator (default rpaflow-<profile>)")
	fs.BoolVar(&ping, "ping", false, "then ask Orchestrator to send the webhook a ping (check the receiver's rpaflow_events_total)")
	c.register(fs, "give up after this `DURATION` (exit 4)")
	usage := func() string {
		return commandUsage("starter webhook ensure --profile NAME --url URL [--ping] [flags]",
			"Create or update the Orchestrator webhook for rpaflow's events receiver (needs the scope OR.Webhooks).", fs,
			"starter webhook ensure --profile orch --url https://rpa-events.example.com/events/uipath/orch --ping")
	}
	if code, done := r.parseFlags(fs, args[1:], usage); done {
		return code
	}
	out := &Output{}
	if profileName == "" || url == "" {
		return r.finish(out, usageErrorf("--profile and --url are required"), c.json)
	}
	if !strings.HasSuffix(url, events.UiPathPath+profileName) {
		return r.finish(out, usageErrorf("--url %q does not end with %s%s, the receiver's path for this profile", url, events.UiPathPath, profileName), c.json)
	}
	if name == "" {
		name = "rpaflow-" + profileName
	}
	profiles, err := config.LoadProfiles(r.Env)
	if err != nil {
		return r.finish(out, withCode(ExitUnreachable, err), c.json)
	}
	var prof *config.Profile
	for i := range profiles {
		if profiles[i].Name == profileName {
			prof = &profiles[i]
		}
	}
	switch {
	case prof == nil:
		return r.finish(out, usageErrorf("profile %q is not in RPAFLOW_PROFILES", profileName), c.json)
	case prof.Kind != config.KindOrchestrator:
		return r.finish(out, usageErrorf("profile %q is %s; webhooks are for %s profiles (AA deploys carry their callback)", prof.Name, prof.Kind, config.KindOrchestrator), c.json)
	case prof.WebhookSecret == "":
		return r.finish(out, withCode(ExitUnreachable, fmt.Errorf("%s is not set; set the secret the webhook signs with (the worker needs the same)", config.EnvVar(prof.Name, "WEBHOOK_SECRET"))), c.json)
	}
	ctx, cancel := withTimeout(ctx, c.timeout, defaultTimeout)
	defer cancel()
	reg, err := activities.BuildRegistry(profiles, activities.RegistryOptions{})
	if err != nil {
		return r.finish(out, withCode(ExitUnreachable, err), c.json)
	}
	client, err := reg.Orchestrator(profileName)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	tok, err := client.Authenticate(ctx)
	if err != nil {
		return r.finish(out, err, c.json)
	}
	w, created, err := client.EnsureWebhook(ctx, tok.Value, orchestrator.WebhookSpec{Name: name, URL: url, Secret: prof.WebhookSecret,
		Events: events.UiPathSubscriptions})
	if err != nil {
		return r.finish(out, err, c.json)
	}
	res := WebhookResult{ID: w.ID, Name: w.Name, URL: w.URL, Created: created, Enabled: w.Enabled, Events: w.Events}
	if ping {
		if err := client.PingWebhook(ctx, tok.Value, w.ID); err != nil {
			return r.finish(out, err, c.json)
		}
		res.Pinged = true
	}
	out.Result, _ = json.Marshal(res)
	verb := "updated"
	if created {
		verb = "created"
	}
	out.human = fmt.Sprintf("webhook %s (id %d) %s: %s, events %s\n", w.Name, w.ID, verb, w.URL, strings.Join(w.Events, ", "))
	if res.Pinged {
		out.human += "ping sent: the receiver's rpaflow_events_total{outcome=\"verified\"} grows when it arrives\n"
	}
	return r.finish(out, nil, c.json)
}
