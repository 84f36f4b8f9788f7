package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rpaflow/rpaflow/contract"
)

// budgetPermitLife bounds how long leased permits may be used: permits a
// worker did not use expire rather than burst later.
const budgetPermitLife = 2 * time.Second

// budgetCANAfter is how many leases a run answers before continue-as-new.
var budgetCANAfter = 1000

// TenantBudget is the token bucket of one tenant's rate-limited calls. It
// refills at 0.9 PerMinute and holds at most a twentieth of PerMinute (at
// least one), so the calls of any 60 s, permits used up to
// budgetPermitLife after their lease included, stay within PerMinute;
// while paused by a 429 it grants none.
func TenantBudget(ctx workflow.Context, in contract.BudgetInput) error {
	st := contract.BudgetState{PerMinute: in.PerMinute, At: workflow.Now(ctx)}
	if in.State != nil {
		st = *in.State
	}
	handled := 0
	refill := func(now time.Time) {
		if now.After(st.At) {
			st.Tokens = min(budgetBurst(st.PerMinute), st.Tokens+now.Sub(st.At).Minutes()*budgetRate(st.PerMinute))
			st.At = now
		}
	}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.BudgetState, error) { return st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, contract.UpdateBudgetLease, func(ctx workflow.Context, l contract.BudgetLease) (contract.BudgetGrant, error) {
		handled++
		now := workflow.Now(ctx)
		if l.PerMinute > 0 && l.PerMinute != st.PerMinute {
			refill(now)
			st.PerMinute = l.PerMinute
			st.Tokens = min(st.Tokens, budgetBurst(st.PerMinute))
		}
		refill(now)
		if now.Before(st.PausedUntil) {
			return contract.BudgetGrant{RetryAfter: contract.Duration(st.PausedUntil.Sub(now))}, nil
		}
		g := min(l.Want, int(st.Tokens))
		if g <= 0 {
			wait := time.Duration((1 - st.Tokens) / budgetRate(st.PerMinute) * float64(time.Minute))
			return contract.BudgetGrant{RetryAfter: contract.Duration(max(wait, 10*time.Millisecond))}, nil
		}
		st.Tokens -= float64(g)
		st.Granted += int64(g)
		return contract.BudgetGrant{Granted: g, ValidFor: contract.Duration(budgetPermitLife)}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, contract.UpdateBudgetPause, func(ctx workflow.Context, p contract.BudgetPause) error {
		handled++
		now := workflow.Now(ctx)
		refill(now)
		if until := now.Add(p.For.D()); until.After(st.PausedUntil) {
			st.PausedUntil = until
		}
		st.Tokens = 0
		st.Pauses++
		return nil
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return handled >= budgetCANAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested() }); err != nil {
		return temporal.NewCanceledError()
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return temporal.NewCanceledError()
	}
	return workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, contract.BudgetInput{Profile: in.Profile, PerMinute: st.PerMinute, State: &st})
}

func budgetBurst(perMinute int) float64 { return max(1, float64(perMinute)/20) }

func budgetRate(perMinute int) float64 { return 0.9 * float64(perMinute) }
