package botvalue

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzUnmarshalJSON: no panics, and whatever decodes re-encodes to a stable form.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"STRING","string":"x"}`,
		`{"type":"NUMBER","number":42}`,
		`{"type":"LIST","list":[{"type":"BOOLEAN","boolean":"true"}]}`,
		`{"type":"DICTIONARY","dictionary":[{"key":"k","value":{"type":"DATETIME","string":"2022-04-07"}}]}`,
		`{"type":"TABLE","table":{"schema":[{"name":"c"}],"rows":[{"values":[{"type":"STRING","string":"v"}]}]}}`,
		`{"type":"FILE","file":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Value
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		_ = v.Plain()
		first, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal after Unmarshal(%q): %v", b, err)
		}
		var again Value
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("re-Unmarshal(%s): %v", first, err)
		}
		second, err := json.Marshal(again)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("unstable encoding: %s then %s (%v)", first, second, err)
		}
	})
}

// FuzzFromPlain: ParseInput/FromPlain never panic, and accepted input encodes
// to a wire form the lenient decoder reads back.
func FuzzFromPlain(f *testing.F) {
	for _, s := range []string{
		`"95134"`, `12.5`, `true`, `[1,"a",{"k":false}]`,
		`{"type":"DATETIME","string":"2022-04-07T00:15:00Z"}`,
		`{"type":"TABLE","table":{"schema":[{"name":"a"}],"rows":[{"values":[{"type":"NUMBER","number":"1"}]}]}}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseInput(map[string]json.RawMessage{"v": b})
		if err != nil {
			return
		}
		out, err := json.Marshal(in["v"])
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", in["v"], err)
		}
		var back Value
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", out, err)
		}
		_ = PlainMap(in)
	})
}
