package orchestrator_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/rpaflow/rpaflow/providers/apierror"
	"github.com/rpaflow/rpaflow/providers/uipath/orchestrator"
)

var errorBodies = []struct {
	name, body             string
	code, message, details string
}{
	{"modern", `{"message":"Process not found","errorCode":1002,"traceId":"00-abc-def-00","resourceIds":null}`,
		"1002", "Process not found", "traceId 00-abc-def-00"},
	{"modern string code", `{"message":"Process not found","errorCode":"1002","traceId":"abc-123"}`,
		"1002", "Process not found", "traceId abc-123"},
	{"PascalCase ErrorResult", `{"Message":"Folder does not exist","ErrorCode":1100,"TraceId":"t1","ResourceIds":[4]}`,
		"1100", "Folder does not exist", "traceId t1"},
	{"ABP 401", `{"message":"You are not authenticated!","errorCode":0,"result":null,"targetUrl":null,"success":false,` +
		`"error":{"code":0,"message":"You are not authenticated!","details":"You should be authenticated (sign in) in order to perform this operation.","validationErrors":null},` +
		`"unAuthorizedRequest":true,"__abp":true}`,
		"", "You are not authenticated!", "You should be authenticated (sign in) in order to perform this operation."},
	{"ABP without top level", `{"result":null,"targetUrl":null,"success":false,"error":{"code":1000,"message":"Username cannot be empty.","details":null,` +
		`"validationErrors":[{"message":"The UsernameOrEmailAddress field is required.","members":["usernameOrEmailAddress"]}]},"unAuthorizedRequest":false,"__abp":true}`,
		"1000", "Username cannot be empty.", "The UsernameOrEmailAddress field is required."},
	{"identity", `{"error":"invalid_scope","error_description":"scope OR.Assets is not allowed"}`,
		"invalid_scope", "scope OR.Assets is not allowed", ""},
	{"identity bare", `{"error":"invalid_client"}`, "invalid_client", "", ""},
	{"not JSON", `<html>Bad gateway</html>`, "", "", ""},
}

func TestParseError(t *testing.T) {
	for _, tc := range errorBodies {
		t.Run(tc.name, func(t *testing.T) {
			code, msg, details := orchestrator.ParseError([]byte(tc.body))
			if code != tc.code || msg != tc.message || details != tc.details {
				t.Fatalf("got (%q, %q, %q), want (%q, %q, %q)", code, msg, details, tc.code, tc.message, tc.details)
			}
		})
	}
}

func TestIsDuplicateReference(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&apierror.Error{Op: "addQueueItem", Status: 409, Code: "1016"}, true},
		{&apierror.Error{Op: "addQueueItem", Status: 409}, true},
		{&apierror.Error{Op: "addQueueItem", Status: 400, Code: "1016"}, true},
		{&apierror.Error{Op: "startJobs", Status: 409}, false},
		{&apierror.Error{Op: "addQueueItem", Status: 404, Code: "1002"}, false},
		{errors.New("1016"), false},
		{nil, false},
	} {
		if got := orchestrator.IsDuplicateReference(tc.err); got != tc.want {
			t.Errorf("IsDuplicateReference(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func FuzzParseError(f *testing.F) {
	for _, tc := range errorBodies {
		f.Add([]byte(tc.body))
	}
	f.Add([]byte(`{"error":{"code":"x","details":{"nested":[1,2]}},"ERRORCODE":"7","errorcode":8}`))
	f.Add([]byte(`{"error":null,"message":12.5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, details := orchestrator.ParseError(body)
		again1, again2, again3 := orchestrator.ParseError(body)
		if code != again1 || msg != again2 || details != again3 {
			t.Fatalf("not deterministic for %q", body)
		}
		if code == "0" {
			t.Fatalf("generic code 0 reported for %q", body)
		}
		if utf8.Valid(body) && (!utf8.ValidString(code) || !utf8.ValidString(msg) || !utf8.ValidString(details)) {
			t.Fatalf("invalid UTF-8 out of valid input %q", body)
		}
	})
}
