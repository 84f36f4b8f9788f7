// Package activities holds rpaflow's Temporal activities, methods on
// structs that carry their dependencies (AutomationAnywhere, Orchestrator,
// AutomationHub): each wraps platform calls of a provider package, maps the
// contract's inputs to provider requests, and classifies every failure into
// one of contract's error types (classify), which decides what Temporal
// retries.
//
// Activities get credentials only from session workflows (package session): a
// token or API Task access details for one call, with a 401 reported back
// so the session renews once. They may import contract, the providers and
// the Temporal SDK; they know nothing of the workflows that call them.
//
// Activity names are the method names, prefixed by platform (AA for
// AutomationAnywhere, Orch for Orchestrator, Hub for AutomationHub). They are
// recorded in every workflow's history, so renaming one breaks the replay of
// running workflows: add a new activity and retire the old one instead.
package activities
