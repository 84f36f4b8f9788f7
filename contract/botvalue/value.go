// Package botvalue is Automation Anywhere's typed bot value
// ({"type":"STRING","string":"x"}) and its conversions from and to plain JSON.
// It is pure (no I/O) and deterministic, so workflows may use it to validate
// their input.
package botvalue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The AA type names with a dedicated field in Value.
const (
	TypeString     = "STRING"
	TypeNumber     = "NUMBER"
	TypeBoolean    = "BOOLEAN"
	TypeList       = "LIST"
	TypeDictionary = "DICTIONARY"
	TypeDatetime   = "DATETIME"
	TypeTable      = "TABLE"
)

// knownTypes are the type names the AA API Task docs list.
var knownTypes = map[string]bool{
	"STRING": true, "NUMBER": true, "BOOLEAN": true, "FILE": true, "ITERATOR": true, "LIST": true,
	"DICTIONARY": true, "TABLE": true, "VARIABLE": true, "CONDITIONAL": true, "WINDOW": true,
	"TASKBOT": true, "DATETIME": true, "UIOBJECT": true, "RECORD": true, "EXCEPTION": true,
	"CREDENTIAL": true, "COORDINATE": true, "IMAGE": true, "REGION": true, "PROPERTIES": true,
	"TRIGGER": true, "CONDITIONALGROUP": true, "FORM": true, "FORMELEMENT": true, "HOTKEY": true,
	"WORKITEM": true,
}

// IsKnownType reports whether name is one of the AA value type names.
func IsKnownType(name string) bool { return knownTypes[name] }

// Value is one AA typed value.
type Value struct {
	Type       string          // STRING NUMBER BOOLEAN LIST DICTIONARY DATETIME TABLE ... (any AA type name)
	String     string          // STRING, DATETIME; also the textual value of NUMBER ("42") and BOOLEAN ("true")
	List       []Value         // LIST
	Dictionary []Entry         // DICTIONARY, in the order given
	Table      *Table          // TABLE
	Raw        json.RawMessage // any other type: the whole typed object, kept verbatim
}

// Entry is one DICTIONARY entry.
type Entry struct {
	Key   string `json:"key"`
	Value Value  `json:"value"`
}

// Table is a TABLE value.
type Table struct {
	Schema []Column `json:"schema"`
	Rows   []Row    `json:"rows"`
}

// Column is a TABLE column.
type Column struct {
	Name string `json:"name"`
}

// Row is a TABLE row; Values line up with Schema.
type Row struct {
	Values []Value `json:"values"`
}

// Str returns a STRING value.
func Str(s string) Value { return Value{Type: TypeString, String: s} }

// MarshalJSON writes the AA wire form. NUMBER and BOOLEAN go out as strings,
// as AA's own clients send them.
func (v Value) MarshalJSON() ([]byte, error) {
	t := v.Type
	if t == "" {
		t = TypeString
	}
	switch t {
	case TypeString, TypeDatetime:
		return json.Marshal(struct {
			Type   string `json:"type"`
			String string `json:"string"`
		}{t, v.String})
	case TypeNumber:
		return json.Marshal(struct {
			Type   string `json:"type"`
			Number string `json:"number"`
		}{t, v.String})
	case TypeBoolean:
		return json.Marshal(struct {
			Type    string `json:"type"`
			Boolean string `json:"boolean"`
		}{t, v.String})
	case TypeList:
		list := v.List
		if list == nil {
			list = []Value{}
		}
		return json.Marshal(struct {
			Type string  `json:"type"`
			List []Value `json:"list"`
		}{t, list})
	case TypeDictionary:
		d := v.Dictionary
		if d == nil {
			d = []Entry{}
		}
		return json.Marshal(struct {
			Type       string  `json:"type"`
			Dictionary []Entry `json:"dictionary"`
		}{t, d})
	case TypeTable:
		tb := Table{Schema: []Column{}, Rows: []Row{}}
		if v.Table != nil {
			if v.Table.Schema != nil {
				tb.Schema = v.Table.Schema
			}
			for _, r := range v.Table.Rows {
				if r.Values == nil {
					r.Values = []Value{}
				}
				tb.Rows = append(tb.Rows, r)
			}
		}
		return json.Marshal(struct {
			Type  string `json:"type"`
			Table Table  `json:"table"`
		}{t, tb})
	}
	if len(bytes.TrimSpace(v.Raw)) > 0 {
		if !json.Valid(v.Raw) {
			return nil, fmt.Errorf("botvalue: %s value has invalid raw JSON", t)
		}
		return v.Raw, nil
	}
	return json.Marshal(struct {
		Type string `json:"type"`
	}{t})
}

// UnmarshalJSON reads the AA wire form leniently (it is what the platform
// sends back): NUMBER and BOOLEAN may be strings or JSON numbers/bools, a
// missing type means STRING, unknown types are kept verbatim in Raw.
func (v *Value) UnmarshalJSON(b []byte) error {
	got, err := decodeTyped(b, "value", false)
	if err != nil {
		return err
	}
	*v = got
	return nil
}

// valueKey is the field that carries the value for type t.
func valueKey(t string) string {
	switch t {
	case TypeString, TypeDatetime:
		return "string"
	}
	return strings.ToLower(t)
}

// isTypedKey reports whether k may appear in a typed value object.
func isTypedKey(k string) bool {
	if k == "type" || k == "string" {
		return true
	}
	return knownTypes[strings.ToUpper(k)] && k == strings.ToLower(k)
}

// decodeTyped decodes one typed value at path. strict (user input) requires
// the value field for scalar types, valid NUMBER/BOOLEAN text and no foreign
// keys; lenient (platform answers) tolerates all three.
func decodeTyped(b []byte, path string, strict bool) (Value, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return Value{}, invalid(path, "is not a typed value object; expected e.g. {\"type\":\"STRING\",\"string\":\"x\"}")
	}
	t := TypeString
	if raw, ok := obj["type"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &t); err != nil {
			return Value{}, invalid(path+".type", "is not a string; use an AA type name such as STRING, NUMBER, BOOLEAN, LIST, DICTIONARY, DATETIME or TABLE")
		}
	}
	if t == "" {
		t = TypeString
	}
	if strict {
		if !knownTypes[t] {
			return Value{}, invalid(path+".type", "%q is not an AA type name; use one of STRING, NUMBER, BOOLEAN, LIST, DICTIONARY, DATETIME, TABLE", t)
		}
		vk := valueKey(t)
		for _, k := range sortedKeys(obj) {
			if k != "type" && k != vk {
				return Value{}, invalid(path, "has %q, which a %s value does not take; give only \"type\" and %q", k, t, vk)
			}
		}
	} else {
		t = strings.ToUpper(t)
	}
	v := Value{Type: t}
	field, has := obj[valueKey(t)]
	if has && isNull(field) {
		has = false
	}
	switch t {
	case TypeString, TypeDatetime, TypeNumber, TypeBoolean:
		if !has {
			if strict {
				return Value{}, invalid(path, "%s value has no %q field; use {\"type\":%q,%q:...}", t, valueKey(t), t, valueKey(t))
			}
			return v, nil
		}
		s, err := scalarText(t, field, path+"."+valueKey(t), strict)
		if err != nil {
			return Value{}, err
		}
		v.String = s
	case TypeList:
		if !has {
			return v, nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(field, &items); err != nil {
			return Value{}, invalid(path+".list", "is not an array of typed values")
		}
		v.List = make([]Value, 0, len(items))
		for i, it := range items {
			e, err := decodeTyped(it, fmt.Sprintf("%s[%d]", path, i), strict)
			if err != nil {
				return Value{}, err
			}
			v.List = append(v.List, e)
		}
	case TypeDictionary:
		if !has {
			return v, nil
		}
		d, err := decodeDictionary(field, path, strict)
		if err != nil {
			return Value{}, err
		}
		v.Dictionary = d
	case TypeTable:
		if !has {
			return v, nil
		}
		tb, err := decodeTable(field, path+".table", strict)
		if err != nil {
			return Value{}, err
		}
		v.Table = tb
	default:
		v.Raw = append(json.RawMessage(nil), bytes.TrimSpace(b)...)
	}
	return v, nil
}

// scalarText returns the text of a NUMBER/BOOLEAN/STRING/DATETIME field.
func scalarText(t string, field json.RawMessage, path string, strict bool) (string, error) {
	var s string
	if err := json.Unmarshal(field, &s); err == nil {
		if strict {
			if err := checkScalar(t, s, path); err != nil {
				return "", err
			}
		}
		return s, nil
	}
	trimmed := string(bytes.TrimSpace(field))
	switch t {
	case TypeNumber:
		var n json.Number
		if err := json.Unmarshal(field, &n); err == nil {
			return n.String(), nil
		}
		return "", invalid(path, "is not a number; give a JSON number or a numeric string such as \"42\"")
	case TypeBoolean:
		if trimmed == "true" || trimmed == "false" {
			return trimmed, nil
		}
		return "", invalid(path, "is not a boolean; give true, false, \"true\" or \"false\"")
	}
	return "", invalid(path, "is not a string; a %s value carries its text in %q", t, "string")
}

// checkScalar validates the text form of NUMBER and BOOLEAN in user input.
func checkScalar(t, s, path string) error {
	switch t {
	case TypeNumber:
		if !isJSONNumber(s) {
			return invalid(path, "%q is not a number; give digits such as \"42\" or \"3.5\"", s)
		}
	case TypeBoolean:
		if s != "true" && s != "false" {
			return invalid(path, "%q is not a boolean; give \"true\" or \"false\"", s)
		}
	}
	return nil
}

func decodeDictionary(field json.RawMessage, path string, strict bool) ([]Entry, error) {
	var entries []struct {
		Key   *string         `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(field, &entries); err != nil {
		if strict {
			return nil, invalid(path+".dictionary", "is not an array of {\"key\":...,\"value\":{typed value}}")
		}
		// Tolerate an object keyed by name from the platform.
		var m map[string]json.RawMessage
		if json.Unmarshal(field, &m) != nil {
			return nil, invalid(path+".dictionary", "is neither an array of {key,value} entries nor an object")
		}
		out := make([]Entry, 0, len(m))
		for _, k := range sortedKeys(m) {
			val, err := decodeTyped(m[k], path+"."+k, strict)
			if err != nil {
				return nil, err
			}
			out = append(out, Entry{Key: k, Value: val})
		}
		return out, nil
	}
	out := make([]Entry, 0, len(entries))
	seen := map[string]bool{}
	for i, e := range entries {
		at := fmt.Sprintf("%s.dictionary[%d]", path, i)
		if e.Key == nil {
			return nil, invalid(at, "has no \"key\"; every entry is {\"key\":\"name\",\"value\":{typed value}}")
		}
		if strict && seen[*e.Key] {
			return nil, invalid(at+".key", "%q appears twice; dictionary keys must be unique", *e.Key)
		}
		seen[*e.Key] = true
		if len(e.Value) == 0 || isNull(e.Value) {
			return nil, invalid(path+"."+*e.Key, "has no value; give a typed value such as {\"type\":\"STRING\",\"string\":\"x\"}")
		}
		val, err := decodeTyped(e.Value, path+"."+*e.Key, strict)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Key: *e.Key, Value: val})
	}
	return out, nil
}

func decodeTable(field json.RawMessage, path string, strict bool) (*Table, error) {
	var raw struct {
		Schema []Column `json:"schema"`
		Rows   []struct {
			Values []json.RawMessage `json:"values"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(field, &raw); err != nil {
		return nil, invalid(path, "is not {\"schema\":[{\"name\":...}],\"rows\":[{\"values\":[...]}]}")
	}
	tb := &Table{Schema: raw.Schema}
	for i, r := range raw.Rows {
		row := Row{Values: make([]Value, 0, len(r.Values))}
		if strict && len(r.Values) != len(raw.Schema) {
			return nil, invalid(fmt.Sprintf("%s.rows[%d]", path, i), "has %d values but the schema has %d columns", len(r.Values), len(raw.Schema))
		}
		for j, c := range r.Values {
			val, err := decodeTyped(c, fmt.Sprintf("%s.rows[%d].values[%d]", path, i, j), strict)
			if err != nil {
				return nil, err
			}
			row.Values = append(row.Values, val)
		}
		tb.Rows = append(tb.Rows, row)
	}
	return tb, nil
}

// isJSONNumber reports whether s is exactly a JSON number literal.
func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && json.Valid([]byte(s))
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
