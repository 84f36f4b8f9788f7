package orchestrator

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzODataTime: any JSON reads to an error or a UTC time (zero for null
// or ""), deterministically; a time written as RFC 3339 reads back.
func FuzzODataTime(f *testing.F) {
	for _, s := range []string{`"2026-11-22T10:00:00Z"`, `"2026-11-22T10:00:00.1234567"`, `"2026-11-22T10:00:00+02:00"`, `null`, `""`, `"x"`, `3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a, c odataTime
		errA, errC := json.Unmarshal(b, &a), json.Unmarshal(b, &c)
		if (errA == nil) != (errC == nil) || !time.Time(a).Equal(time.Time(c)) {
			t.Fatalf("not deterministic for %s", b)
		}
		if errA != nil {
			return
		}
		v := time.Time(a)
		if !v.IsZero() && v.Location() != time.UTC {
			t.Fatalf("%s read in %v, want UTC", b, v.Location())
		}
		if v.IsZero() || v.Year() < 0 || v.Year() > 9999 {
			return
		}
		out, _ := json.Marshal(v.Format(time.RFC3339Nano))
		var back odataTime
		if err := json.Unmarshal(out, &back); err != nil || !time.Time(back).Equal(v) {
			t.Fatalf("%s -> %s -> %v, %v", b, out, time.Time(back), err)
		}
	})
}

// FuzzArguments: arguments read from an object or a string holding one,
// never panic, and what reads as an object reads the same from its string
// form.
func FuzzArguments(f *testing.F) {
	for _, s := range []string{`"{\"count\":3}"`, `{"count":3}`, `null`, `""`, `" "`, `"[1]"`, `"{"`, `[]`, `"null"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a arguments
		if err := json.Unmarshal(b, &a); err != nil || a == nil {
			return
		}
		obj, err := json.Marshal(map[string]any(a))
		if err != nil {
			t.Fatal(err)
		}
		str, _ := json.Marshal(string(obj))
		var fromObj, fromStr arguments
		if json.Unmarshal(obj, &fromObj) != nil || json.Unmarshal(str, &fromStr) != nil || len(fromObj) != len(a) || len(fromStr) != len(a) {
			t.Fatalf("%s: object and string forms read differently", b)
		}
	})
}
