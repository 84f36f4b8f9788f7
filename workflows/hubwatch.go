package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
)

// AutomationHubTokenWatch validates an Automation Hub Open API token on a
// cadence and warns before the expiry date an admin set. It never stops on a
// transient failure; cancel it to stop.
func AutomationHubTokenWatch(ctx workflow.Context, in contract.HubWatchInput) error {
	if err := contract.ValidateProfile(in.Profile); err != nil {
		return err
	}
	st := contract.HubWatchStatus{Profile: in.Profile, State: "starting"}
	if in.Last != nil {
		st = *in.Last
	}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.HubWatchStatus, error) { return st, nil }); err != nil {
		return err
	}
	interval := orDur(in.Interval.D(), 24*time.Hour)
	warnDays := float64(orInt(in.WarnDays, 14))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 5, NonRetryableErrorTypes: contract.NonRetryableTypes(true)},
	})
	log := workflow.GetLogger(ctx)
	metrics := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": in.Profile})
	for cycle := 0; ; cycle++ {
		if cycle >= orInt(in.CyclesPerRun, 100) || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			next := in
			next.Last = &st
			return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, next) // its own name, prefixed or not
		}
		var check activities.HubCheck
		err := workflow.ExecuteActivity(actx, hub.HubValidateToken, in.Profile).Get(ctx, &check)
		now := workflow.Now(ctx)
		st.LastCheck = now
		st.Checks++
		switch {
		case err != nil:
			st.State, st.Message = "unavailable", err.Error()
			log.Warn("Automation Hub token check failed; will check again", "profile", in.Profile, "error", err)
		case check.Rejected:
			st.State, st.Message = "rejected", check.Message
			log.Error("Automation Hub rejected the Open API token; generate a new one or extend its expiry in Admin Console > Platform Setup > Open API",
				"profile", in.Profile, "error", check.Message)
		default:
			st.State, st.Message, st.LastOK = "ok", "", now
		}
		if err == nil {
			st.Expires = check.Expires
		}
		if !st.Expires.IsZero() {
			days := st.Expires.Sub(now).Hours() / 24
			st.DaysToExpiry = &days
			metrics.Gauge("rpaflow_hub_token_days_to_expiry").Update(days)
			switch {
			case days <= 0:
				st.State = "expired"
				log.Error("Automation Hub token has expired; renew it and update the profile's _TOKEN/_TOKEN_EXPIRES", "profile", in.Profile, "expires", st.Expires)
			case days <= warnDays && st.State == "ok":
				st.State = "expiring"
				log.Warn("Automation Hub token expires soon", "profile", in.Profile, "expires", st.Expires, "days", days)
			}
		}
		if err := workflow.Sleep(ctx, interval); err != nil {
			return err
		}
	}
}
