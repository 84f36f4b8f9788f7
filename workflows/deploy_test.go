package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/rpaflow/rpaflow/activities"
	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// Criterion 8: bad inputs fail fast, non-retryably, naming the field, without any activity.
func TestDeployAPITask_InvalidInput(t *testing.T) {
	good := func() contract.DeployAPITaskInput {
		return contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: "Automation Anywhere\\Bots\\Zip", BotInput: map[string]json.RawMessage{"x": raw(`"1"`)}}
	}
	cases := []struct {
		name  string
		edit  func(*contract.DeployAPITaskInput)
		field string
	}{
		{"empty profile", func(in *contract.DeployAPITaskInput) { in.Profile = "" }, "profile: is empty"},
		{"bad profile", func(in *contract.DeployAPITaskInput) { in.Profile = "My_Profile" }, `profile: "My_Profile"`},
		{"empty path", func(in *contract.DeployAPITaskInput) { in.BotRepositoryPath = "  " }, "botRepositoryPath"},
		{"null botInput", func(in *contract.DeployAPITaskInput) { in.BotInput["iStrZipCode"] = raw("null") }, "botInput.iStrZipCode"},
		{"nested null", func(in *contract.DeployAPITaskInput) { in.BotInput["list"] = raw(`[1,null]`) }, "botInput.list[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			calls := 0
			env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
				func(context.Context, activities.ExecuteInput) (activities.ExecuteResult, error) {
					calls++
					return activities.ExecuteResult{}, nil
				}).Maybe()
			in := good()
			c.edit(&in)
			env.ExecuteWorkflow(DeployAPITask, in)
			requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, c.field)
			if calls != 0 {
				t.Fatalf("activity called %d times for invalid input", calls)
			}
		})
	}
}

// Criterion 8: success maps typed output to plain botOutput and keeps rawBotOutput.
func TestDeployAPITask_Success(t *testing.T) {
	env := newEnv(t)
	var got activities.ExecuteInput
	out := map[string]botvalue.Value{
		"State":  botvalue.Str("California"),
		"Count":  {Type: botvalue.TypeNumber, String: "3"},
		"Ok":     {Type: botvalue.TypeBoolean, String: "true"},
		"Cities": {Type: botvalue.TypeList, List: []botvalue.Value{botvalue.Str("San Jose")}},
	}
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ExecuteInput) (activities.ExecuteResult, error) {
			got = in
			return activities.ExecuteResult{BotOutput: out}, nil
		}).Once()
	env.ExecuteWorkflow(DeployAPITask, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: "Automation Anywhere\\Bots\\Zip Code API Task",
		BotInput: map[string]json.RawMessage{"iStrZipCode": raw(`"95134"`), "n": raw(`7`), "when": raw(`{"type":"DATETIME","string":"2022-04-07T00:15:00-06:00"}`)}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res contract.DeployAPITaskResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	wantPlain := map[string]any{"State": "California", "Count": 3.0, "Ok": true, "Cities": []any{"San Jose"}}
	if !reflect.DeepEqual(res.BotOutput, wantPlain) {
		t.Fatalf("botOutput = %#v, want %#v", res.BotOutput, wantPlain)
	}
	if !reflect.DeepEqual(res.RawBotOutput, out) {
		t.Fatalf("rawBotOutput = %#v", res.RawBotOutput)
	}
	if got.Profile != "cr" || got.Path != "Automation Anywhere\\Bots\\Zip Code API Task" || got.Idempotent ||
		got.BotInput["iStrZipCode"].Type != botvalue.TypeString || got.BotInput["iStrZipCode"].String != "95134" ||
		got.BotInput["n"].Type != botvalue.TypeNumber || got.BotInput["when"].Type != botvalue.TypeDatetime {
		t.Fatalf("activity input = %+v", got)
	}
	// An empty output is an empty object, not null.
	env = newEnv(t)
	env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(activities.ExecuteResult{}, nil)
	env.ExecuteWorkflow(DeployAPITask, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: "p"})
	var empty map[string]any
	if err := env.GetWorkflowResult(&empty); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(empty) != "map[botOutput:map[] rawBotOutput:map[]]" {
		t.Fatalf("empty result = %v", empty)
	}
}

// Criterion 8: Ambiguous is retried only when idempotent; Throttled always is.
func TestDeployAPITask_RetryClasses(t *testing.T) {
	cases := []struct {
		class      contract.ErrorType
		idempotent bool
		wantCalls  int
		wantErr    bool
	}{
		{contract.ErrAmbiguous, false, 1, true},
		{contract.ErrAmbiguous, true, 3, false},
		{contract.ErrThrottled, false, 3, false},
		{contract.ErrUnavailable, false, 3, false},
		{contract.ErrTokenRejected, true, 1, true},
		{contract.ErrNotFound, true, 1, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/idempotent=%v", c.class, c.idempotent), func(t *testing.T) {
			env := newEnv(t)
			calls := 0
			env.OnActivity(cr.AAExecuteAPITask, mock.Anything, mock.Anything).Return(
				func(context.Context, activities.ExecuteInput) (activities.ExecuteResult, error) {
					calls++
					if calls < 3 {
						return activities.ExecuteResult{}, temporal.NewApplicationError("failed", string(c.class))
					}
					return activities.ExecuteResult{BotOutput: map[string]botvalue.Value{"a": botvalue.Str("b")}}, nil
				})
			env.ExecuteWorkflow(DeployAPITask, contract.DeployAPITaskInput{Profile: "cr", BotRepositoryPath: "p", Idempotent: c.idempotent})
			err := env.GetWorkflowError()
			if calls != c.wantCalls {
				t.Fatalf("%d attempts, want %d (err %v)", calls, c.wantCalls, err)
			}
			if c.wantErr {
				if contract.ErrorType(appErr(t, err).Type()) != c.class {
					t.Fatalf("error %v, want %s", err, c.class)
				}
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func deployIn() contract.DeployBotInput {
	return contract.DeployBotInput{Profile: "cr", BotID: 87, RunAsUserIDs: []int64{3}, BotInput: map[string]json.RawMessage{"a": raw(`"x"`)}}
}

// Criterion 9: validation names botId, runAsUserIds, priority, without any activity.
func TestDeployBot_InvalidInput(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*contract.DeployBotInput)
		field string
	}{
		{"botId zero", func(in *contract.DeployBotInput) { in.BotID = 0 }, "botId"},
		{"botId negative", func(in *contract.DeployBotInput) { in.BotID = -4 }, "botId"},
		{"no runAs", func(in *contract.DeployBotInput) { in.RunAsUserIDs = nil }, "runAsUserIds: is empty"},
		{"bad runAs", func(in *contract.DeployBotInput) { in.RunAsUserIDs = []int64{3, 0} }, "runAsUserIds[1]"},
		{"bad pool", func(in *contract.DeployBotInput) { in.PoolIDs = []int64{-1} }, "poolIds[0]"},
		{"priority", func(in *contract.DeployBotInput) { in.Priority = "URGENT" }, `priority: "URGENT"`},
		{"profile", func(in *contract.DeployBotInput) { in.Profile = "" }, "profile"},
		{"null input", func(in *contract.DeployBotInput) { in.BotInput["a"] = raw("null") }, "botInput.a"},
		{"headless executions", func(in *contract.DeployBotInput) { in.Headless = &contract.HeadlessInput{NumberOfExecutions: -1} }, "headless.numberOfExecutions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			calls := 0
			env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(
				func(context.Context, activities.DeployInput) (activities.DeployRef, error) {
					calls++
					return activities.DeployRef{ID: "d"}, nil
				}).Maybe()
			in := deployIn()
			c.edit(&in)
			env.ExecuteWorkflow(DeployBot, in)
			requireAppErr(t, env.GetWorkflowError(), contract.ErrInvalidInput, true, c.field)
			if calls != 0 {
				t.Fatal("deployed despite invalid input")
			}
		})
	}
}

// Criterion 9: success returns outputs; a terminal failure is RunFailed with the status.
func TestDeployBot_Outcomes(t *testing.T) {
	for _, status := range []string{"COMPLETED", "RUN_FAILED", "DEPLOY_FAILED", "RUN_TIMED_OUT"} {
		t.Run(status, func(t *testing.T) {
			env := newEnv(t)
			var req activities.DeployInput
			deploys := 0
			env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.DeployInput) (activities.DeployRef, error) {
					deploys++
					req = in
					return activities.DeployRef{ID: "dep-1"}, nil
				})
			var wait activities.WaitDeploymentInput
			env.OnActivity(cr.AAWaitDeployment, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.WaitDeploymentInput) (activities.DeploymentResult, error) {
					wait = in
					return activities.DeploymentResult{DeploymentID: in.DeploymentID, Status: status, Message: "bot said " + status,
						BotOutput: map[string]botvalue.Value{"out": botvalue.Str("v")}}, nil
				}).After(10 * time.Minute)
			env.ExecuteWorkflow(DeployBot, deployIn())
			err := env.GetWorkflowError()
			if deploys != 1 || wait.DeploymentID != "dep-1" || wait.Profile != "cr" {
				t.Fatalf("deploys=%d wait=%+v", deploys, wait)
			}
			if req.Request != nil || req.BotID != 87 || req.Profile != "cr" || fmt.Sprint(req.RunAsUserIDs) != "[3]" ||
				string(req.BotInput["a"]) != `"x"` {
				t.Fatalf("deploy input = %+v, want the workflow's input as it was given", req)
			}
			if status == "COMPLETED" {
				if err != nil {
					t.Fatal(err)
				}
				var res contract.DeployBotResult
				if err := env.GetWorkflowResult(&res); err != nil {
					t.Fatal(err)
				}
				if res.DeploymentID != "dep-1" || res.Status != "COMPLETED" || res.BotOutput["out"] != "v" || res.RawBotOutput["out"].String != "v" {
					t.Fatalf("result = %+v", res)
				}
				return
			}
			requireAppErr(t, err, contract.ErrRunFailed, true, status, "dep-1", "bot said")
			var details contract.DeployBotResult
			if derr := appErr(t, err).Details(&details); derr != nil || details.Status != status || details.BotOutput["out"] != "v" {
				t.Fatalf("failure details = %+v %v", details, derr)
			}
		})
	}
}

// The deploy itself is never repeated on an unknown outcome; headless requests are passed on.
func TestDeployBot_AmbiguousNotRetried(t *testing.T) {
	env := newEnv(t)
	deploys := 0
	env.OnActivity(cr.AADeploy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeployInput) (activities.DeployRef, error) {
			deploys++
			if in.Headless == nil {
				t.Error("headless request not passed on")
			}
			return activities.DeployRef{}, temporal.NewApplicationError("timeout after send", string(contract.ErrAmbiguous))
		})
	in := deployIn()
	in.RunAsUserIDs, in.Headless = nil, &contract.HeadlessInput{}
	env.ExecuteWorkflow(DeployBot, in)
	if contract.ErrorType(appErr(t, env.GetWorkflowError()).Type()) != contract.ErrAmbiguous || deploys != 1 {
		t.Fatalf("deploys=%d err=%v", deploys, env.GetWorkflowError())
	}
}
