// Package aasim is an in-process Automation Anywhere Control Room simulator:
// an http.Handler that follows the Control Room's documented wire format
// (authentication v1/v2, validate, logout, API Task access details and
// execution, deploy and activity list, stopping executions, Workload
// Management queues and work items).
//
// Where the documentation is silent it picks: 401 {"code":"auth.credentials.invalid"}
// for wrong credentials, 401 {"code":"auth.token.invalid"} for an expired or
// revoked token, errors entries as {"code","message"} objects, 400 for an
// unknown API Task input, 429 with Retry-After: 1 when an API Task's
// concurrency limit is reached, 500 when a scripted Run fails. A user gets
// several sessions only when User.MultipleLogin is set and the login uses an
// API key or asks for multipleLogin; otherwise each login revokes that user's
// older tokens.
//
// DefaultOptions is the demo Control Room used by the local stack and tests:
//
//   - user id 3 DemoUsername "rpaflow-demo", API key DemoAPIKey (40 characters),
//     no password, no multi-login;
//   - API Task ZipCodeTaskPath `Automation Anywhere\Bots\Zip Code API Task`,
//     fileId 2689, concurrency limit 2, input iStrZipCode, outputs State and
//     City: 95134 → California/San Jose, 10001 → New York/New York,
//     60601 → Illinois/Chicago, any other zip → State "Unknown", City "";
//   - bot 87 "Invoice Bot": DEPLOYED for 1 s, RUNNING for 2 s, then
//     COMPLETED with sOutput "done: <input sInput1>";
//   - bot 88 "Long Bot" (LongBotID): DEPLOYED for 1 s, RUNNING for an hour;
//     a stop ends it RUN_ABORTED after 1 s;
//   - WLM queues 11 "Invoices" (items complete after 2 s with result
//     "booked <invoice>", or fail with "amount must be positive" when
//     amount < 0), 12 "Invoices-EU" (same) and 13 "Invoices Backlog" (items
//     stay NEW);
//   - token lifetime 20 min, task token lifetime 12 h, tenant TenantUUID.
package aasim

import (
	"fmt"
	"time"

	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// The demo Control Room's fixed values.
const (
	DemoUserID        = 3
	DemoUsername      = "rpaflow-demo"
	DemoAPIKey        = "rpaflowDemoApiKey0000000000000000000000K" // 40 characters, like a real AA API key
	ZipCodeTaskPath   = `Automation Anywhere\Bots\Zip Code API Task`
	ZipCodeTaskFileID = 2689
	InvoiceBotID      = 87
	LongBotID         = 88
	InvoicesQueueID   = 11
	BacklogQueueID    = 13
	TenantUUID        = "0a665343-88e9-17be-8189-936dad5d0144"
)

var zipCodes = map[string][2]string{
	"95134": {"California", "San Jose"},
	"10001": {"New York", "New York"},
	"60601": {"Illinois", "Chicago"},
}

// DefaultOptions returns the demo Control Room (see the package doc).
func DefaultOptions() Options {
	return Options{
		Users: []User{{ID: DemoUserID, Username: DemoUsername, APIKey: DemoAPIKey}},
		APITasks: []APITask{{
			FileID:           ZipCodeTaskFileID,
			Path:             ZipCodeTaskPath,
			ConcurrencyLimit: 2,
			Inputs:           []string{"iStrZipCode"},
			Run:              zipCodeTask,
		}},
		Bots: []Bot{{
			ID:       InvoiceBotID,
			Name:     "Invoice Bot",
			Deployed: time.Second,
			Running:  2 * time.Second,
			Output: func(in map[string]botvalue.Value) map[string]botvalue.Value {
				return map[string]botvalue.Value{"sOutput": botvalue.Str("done: " + in["sInput1"].String)}
			},
		}, {
			ID: LongBotID, Name: "Long Bot", Deployed: time.Second, Running: time.Hour, StopDelay: time.Second,
		}},
		WorkQueues: []WorkQueue{
			{ID: InvoicesQueueID, Name: "Invoices", Process: 2 * time.Second, Outcome: invoiceOutcome},
			{ID: 12, Name: "Invoices-EU", Process: 2 * time.Second, Outcome: invoiceOutcome},
			{ID: BacklogQueueID, Name: "Invoices Backlog"},
		},
	}
}

func invoiceOutcome(data map[string]any) (string, string, string) {
	if n, ok := data["amount"].(float64); ok && n < 0 {
		return "FAILED", "", "amount must be positive"
	}
	return "COMPLETED", fmt.Sprintf("booked %v", data["invoice"]), ""
}

func zipCodeTask(in map[string]botvalue.Value) (map[string]botvalue.Value, error) {
	place, ok := zipCodes[in["iStrZipCode"].String]
	if !ok {
		place = [2]string{"Unknown", ""}
	}
	return map[string]botvalue.Value{"State": botvalue.Str(place[0]), "City": botvalue.Str(place[1])}, nil
}
