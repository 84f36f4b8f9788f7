package botvalue

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMarshalWireForm(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{Str("x"), `{"type":"STRING","string":"x"}`},
		{Value{String: "implicit"}, `{"type":"STRING","string":"implicit"}`},
		{Value{Type: TypeNumber, String: "42"}, `{"type":"NUMBER","number":"42"}`},
		{Value{Type: TypeBoolean, String: "true"}, `{"type":"BOOLEAN","boolean":"true"}`},
		{Value{Type: TypeDatetime, String: "2022-04-07T00:15:00-06:00"}, `{"type":"DATETIME","string":"2022-04-07T00:15:00-06:00"}`},
		{Value{Type: TypeList}, `{"type":"LIST","list":[]}`},
		{Value{Type: TypeList, List: []Value{Str("a")}}, `{"type":"LIST","list":[{"type":"STRING","string":"a"}]}`},
		{Value{Type: TypeDictionary, Dictionary: []Entry{{"k1", Str("v1")}}},
			`{"type":"DICTIONARY","dictionary":[{"key":"k1","value":{"type":"STRING","string":"v1"}}]}`},
		{Value{Type: TypeTable, Table: &Table{Schema: []Column{{"col"}}, Rows: []Row{{Values: []Value{Str("v")}}}}},
			`{"type":"TABLE","table":{"schema":[{"name":"col"}],"rows":[{"values":[{"type":"STRING","string":"v"}]}]}}`},
		{Value{Type: "FILE", Raw: json.RawMessage(`{"type":"FILE","file":"a.txt"}`)}, `{"type":"FILE","file":"a.txt"}`},
		{Value{Type: "RECORD"}, `{"type":"RECORD"}`},
	}
	for _, c := range cases {
		if got := mustJSON(t, c.v); got != c.want {
			t.Errorf("Marshal(%+v) = %s, want %s", c.v, got, c.want)
		}
	}
}

func TestUnmarshalAcceptsStringsAndNativeScalars(t *testing.T) {
	cases := map[string]Value{
		`{"type":"NUMBER","number":"42"}`:     {Type: TypeNumber, String: "42"},
		`{"type":"NUMBER","number":3.5}`:      {Type: TypeNumber, String: "3.5"},
		`{"type":"BOOLEAN","boolean":"true"}`: {Type: TypeBoolean, String: "true"},
		`{"type":"BOOLEAN","boolean":false}`:  {Type: TypeBoolean, String: "false"},
		`{"string":"no type"}`:                {Type: TypeString, String: "no type"},
		`{"type":"string","string":"lower"}`:  {Type: TypeString, String: "lower"},
		`{"type":"FILE","file":{"a":1}}`:      {Type: "FILE", Raw: json.RawMessage(`{"type":"FILE","file":{"a":1}}`)},
	}
	for in, want := range cases {
		var got Value
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("Unmarshal(%s): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Unmarshal(%s) = %+v, want %+v", in, got, want)
		}
	}
	var v Value
	for _, bad := range []string{`"x"`, `{"type":"NUMBER","number":"x"}x`, `{"type":"BOOLEAN","boolean":"maybe"}`, `{"type":1}`, `{"type":"LIST","list":{}}`} {
		if bad == `{"type":"BOOLEAN","boolean":"maybe"}` {
			// Lenient: platform text is kept, Plain falls back to the string.
			if err := json.Unmarshal([]byte(bad), &v); err != nil || v.Plain() != "maybe" {
				t.Errorf("lenient BOOLEAN: %v %#v", err, v.Plain())
			}
			continue
		}
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestRoundTripNested(t *testing.T) {
	in := `{"type":"DICTIONARY","dictionary":[{"key":"b","value":{"type":"LIST","list":[{"type":"NUMBER","number":"1"},{"type":"BOOLEAN","boolean":"false"}]}},{"key":"a","value":{"type":"TABLE","table":{"schema":[{"name":"c1"},{"name":"c2"}],"rows":[{"values":[{"type":"STRING","string":"x"},{"type":"NUMBER","number":"2"}]}]}}}]}`
	var v Value
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, v); got != in {
		t.Fatalf("round trip:\n got %s\nwant %s", got, in)
	}
	plain := v.Plain()
	want := map[string]any{
		"b": []any{1.0, false},
		"a": []map[string]any{{"c1": "x", "c2": 2.0}},
	}
	if !reflect.DeepEqual(plain, want) {
		t.Fatalf("Plain = %#v, want %#v", plain, want)
	}
}

func TestFromPlain(t *testing.T) {
	var data any
	if err := json.Unmarshal([]byte(`{"s":"x","n":42,"f":0.5,"b":true,"l":[1,"a"],"d":{"z":1,"a":"b"},
		"dt":{"type":"DATETIME","string":"2022-04-07T00:15:00Z"},
		"notTyped":{"type":"DATETIME","string":"x","other":1},
		"unknownType":{"type":"WHATEVER","string":"x"}}`), &data); err != nil {
		t.Fatal(err)
	}
	v, err := FromPlain(data)
	if err != nil {
		t.Fatal(err)
	}
	got := mustJSON(t, v)
	want := `{"type":"DICTIONARY","dictionary":[` +
		`{"key":"b","value":{"type":"BOOLEAN","boolean":"true"}},` +
		`{"key":"d","value":{"type":"DICTIONARY","dictionary":[{"key":"a","value":{"type":"STRING","string":"b"}},{"key":"z","value":{"type":"NUMBER","number":"1"}}]}},` +
		`{"key":"dt","value":{"type":"DATETIME","string":"2022-04-07T00:15:00Z"}},` +
		`{"key":"f","value":{"type":"NUMBER","number":"0.5"}},` +
		`{"key":"l","value":{"type":"LIST","list":[{"type":"NUMBER","number":"1"},{"type":"STRING","string":"a"}]}},` +
		`{"key":"n","value":{"type":"NUMBER","number":"42"}},` +
		`{"key":"notTyped","value":{"type":"DICTIONARY","dictionary":[{"key":"other","value":{"type":"NUMBER","number":"1"}},{"key":"string","value":{"type":"STRING","string":"x"}},{"key":"type","value":{"type":"STRING","string":"DATETIME"}}]}},` +
		`{"key":"s","value":{"type":"STRING","string":"x"}},` +
		`{"key":"unknownType","value":{"type":"DICTIONARY","dictionary":[{"key":"string","value":{"type":"STRING","string":"x"}},{"key":"type","value":{"type":"STRING","string":"WHATEVER"}}]}}]}`
	if got != want {
		t.Fatalf("FromPlain:\n got %s\nwant %s", got, want)
	}
	if _, err := FromPlain(nil); err == nil {
		t.Fatal("FromPlain(nil) succeeded")
	}
	if v, _ := FromPlain(1e21); v.String != "1e+21" {
		t.Fatalf("large float = %q", v.String)
	}
}

func TestParseInputErrors(t *testing.T) {
	cases := []struct {
		in        string
		field     string
		msgSubstr string
	}{
		{`{"x":null}`, "botInput.x", "is null"},
		{`{"":"a"}`, "botInput", "empty name"},
		{`{"x":[1,2,null]}`, "botInput.x[2]", "is null"},
		{`{"x":[1,{"key":null}]}`, "botInput.x[1].key", "is null"},
		{`{"x":{"type":"NUMBER","number":"abc"}}`, "botInput.x.number", "is not a number"},
		{`{"x":{"type":"NUMBER","string":"5"}}`, "botInput.x", `"string"`},
		{`{"x":{"type":"BOOLEAN","boolean":"yes"}}`, "botInput.x.boolean", "not a boolean"},
		{`{"x":{"type":"STRING"}}`, "botInput.x", `no "string" field`},
		{`{"x":{"type":"LIST","list":[{"type":"NUMBER","number":"1x"}]}}`, "botInput.x[0].number", "not a number"},
		{`{"x":{"type":"DICTIONARY","dictionary":[{"key":"k","value":{"type":"STRING","string":1}}]}}`, "botInput.x.k.string", "not a string"},
		{`{"x":{"type":"DICTIONARY","dictionary":[{"key":"k","value":{"type":"STRING","string":"a"}},{"key":"k","value":{"type":"STRING","string":"b"}}]}}`, "botInput.x.dictionary[1].key", "twice"},
		{`{"x":{"type":"TABLE","table":{"schema":[{"name":"a"}],"rows":[{"values":[]}]}}}`, "botInput.x.table.rows[0]", "0 values"},
	}
	for _, c := range cases {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.in), &raw); err != nil {
			t.Fatal(err)
		}
		_, err := ParseInput(raw)
		var ie *FieldError
		if !errors.As(err, &ie) {
			t.Errorf("ParseInput(%s) = %v, want InvalidError", c.in, err)
			continue
		}
		if ie.Field != c.field || !strings.Contains(ie.Message, c.msgSubstr) {
			t.Errorf("ParseInput(%s): field %q message %q; want field %q containing %q", c.in, ie.Field, ie.Message, c.field, c.msgSubstr)
		}
	}
}

func TestParseInputErrorsAreDeterministic(t *testing.T) {
	raw := map[string]json.RawMessage{"a": json.RawMessage(`null`), "b": json.RawMessage(`null`), "c": json.RawMessage(`null`)}
	for range 20 {
		_, err := ParseInput(raw)
		if err == nil || err.(*FieldError).Field != "botInput.a" {
			t.Fatalf("got %v, want the first name in sorted order", err)
		}
	}
}

func TestParseInputOK(t *testing.T) {
	raw := map[string]json.RawMessage{
		"iStrZipCode": json.RawMessage(`"95134"`),
		"n":           json.RawMessage(`12345678901234567890`),
		"typed":       json.RawMessage(`{"type":"NUMBER","number":7}`),
	}
	got, err := ParseInput(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["iStrZipCode"], Str("95134")) {
		t.Errorf("zip = %+v", got["iStrZipCode"])
	}
	if v := got["n"]; v.Type != TypeNumber || v.String != "12345678901234567890" {
		t.Errorf("big number lost precision: %+v", v)
	}
	if v := got["typed"]; v.Type != TypeNumber || v.String != "7" {
		t.Errorf("typed = %+v", v)
	}
	plain := PlainMap(got)
	if plain["iStrZipCode"] != "95134" || plain["typed"] != 7.0 {
		t.Errorf("PlainMap = %#v", plain)
	}
}

func TestPlainOtherTypes(t *testing.T) {
	v := Value{Type: "FILE", Raw: json.RawMessage(`{"type":"FILE","file":"a.txt"}`)}
	want := map[string]any{"type": "FILE", "file": "a.txt"}
	if got := v.Plain(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Plain = %#v", got)
	}
	if got := (Value{Type: TypeNumber, String: "n/a"}).Plain(); got != "n/a" {
		t.Fatalf("unparseable NUMBER Plain = %#v", got)
	}
	if got := (Value{Type: TypeTable}).Plain(); !reflect.DeepEqual(got, []map[string]any{}) {
		t.Fatalf("empty TABLE Plain = %#v", got)
	}
}
