package botvalue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

const accepted = "accepted: a string, number, boolean, list or object, or an explicit typed value such as {\"type\":\"DATETIME\",\"string\":\"2022-04-07T00:15:00-06:00\"}"

// FromPlain converts encoding/json-decoded data to a typed value: string →
// STRING, number → NUMBER, bool → BOOLEAN, array → LIST, object → DICTIONARY
// (keys in sorted order), except that an object which is itself a typed value
// (a known "type" and only typed-value keys) is taken as that typed value.
// null is an error. Errors are *FieldError.
func FromPlain(v any) (Value, error) { return fromPlain(v, "value") }

// ParseInput validates a workflow's botInput and converts each variable.
// Errors are *FieldError whose Field is botInput.<name>, with the
// nested position when the problem is inside (botInput.<name>[2].key).
func ParseInput(raw map[string]json.RawMessage) (map[string]Value, error) {
	out := make(map[string]Value, len(raw))
	for _, name := range sortedKeys(raw) {
		if strings.TrimSpace(name) == "" {
			return nil, invalid("botInput", "has a variable with an empty name; use the input variable's name as it is in the bot")
		}
		path := "botInput." + name
		dec := json.NewDecoder(bytes.NewReader(raw[name]))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, invalid(path, "is not valid JSON; %s", accepted)
		}
		if dec.More() {
			return nil, invalid(path, "has trailing data after the JSON value")
		}
		val, err := fromPlain(v, path)
		if err != nil {
			return nil, err
		}
		out[name] = val
	}
	return out, nil
}

func fromPlain(v any, path string) (Value, error) {
	switch x := v.(type) {
	case nil:
		return Value{}, invalid(path, "is null; %s", accepted)
	case string:
		return Value{Type: TypeString, String: x}, nil
	case bool:
		return Value{Type: TypeBoolean, String: strconv.FormatBool(x)}, nil
	case json.Number:
		if _, err := strconv.ParseFloat(x.String(), 64); err != nil && !isRangeErr(err) {
			return Value{}, invalid(path, "%q is not a number", x.String())
		}
		return Value{Type: TypeNumber, String: x.String()}, nil
	case float64:
		return numberValue(x, path)
	case float32:
		return numberValue(float64(x), path)
	case int:
		return Value{Type: TypeNumber, String: strconv.Itoa(x)}, nil
	case int64:
		return Value{Type: TypeNumber, String: strconv.FormatInt(x, 10)}, nil
	case []any:
		list := make([]Value, 0, len(x))
		for i, e := range x {
			val, err := fromPlain(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return Value{}, err
			}
			list = append(list, val)
		}
		return Value{Type: TypeList, List: list}, nil
	case map[string]any:
		if isTypedObject(x) {
			b, err := json.Marshal(x)
			if err != nil {
				return Value{}, invalid(path, "cannot be encoded: %v", err)
			}
			return decodeTyped(b, path, true)
		}
		d := make([]Entry, 0, len(x))
		for _, k := range sortedKeys(x) {
			val, err := fromPlain(x[k], path+"."+k)
			if err != nil {
				return Value{}, err
			}
			d = append(d, Entry{Key: k, Value: val})
		}
		return Value{Type: TypeDictionary, Dictionary: d}, nil
	case Value:
		return x, nil
	}
	return Value{}, invalid(path, "has unsupported Go type %T; %s", v, accepted)
}

func numberValue(f float64, path string) (Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, invalid(path, "is not a finite number")
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a >= 1e21 || a < 1e-6) {
		format = 'g'
	}
	return Value{Type: TypeNumber, String: strconv.FormatFloat(f, format, -1, 64)}, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// isTypedObject: an object with a known "type" name and only typed-value keys.
func isTypedObject(m map[string]any) bool {
	t, ok := m["type"].(string)
	if !ok || !knownTypes[t] {
		return false
	}
	for k := range m {
		if !isTypedKey(k) {
			return false
		}
	}
	return true
}

// Plain returns the value as plain JSON data: STRING/DATETIME → string,
// NUMBER → float64 (the text when it does not parse), BOOLEAN → bool (likewise),
// LIST → []any, DICTIONARY → map[string]any, TABLE → []map[string]any (column
// name → plain value), any other type → its raw JSON decoded.
func (v Value) Plain() any {
	switch v.Type {
	case TypeString, TypeDatetime, "":
		return v.String
	case TypeNumber:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.String), 64); err == nil {
			return f
		}
		return v.String
	case TypeBoolean:
		if b, err := strconv.ParseBool(strings.TrimSpace(v.String)); err == nil {
			return b
		}
		return v.String
	case TypeList:
		out := make([]any, 0, len(v.List))
		for _, e := range v.List {
			out = append(out, e.Plain())
		}
		return out
	case TypeDictionary:
		out := make(map[string]any, len(v.Dictionary))
		for _, e := range v.Dictionary {
			out[e.Key] = e.Value.Plain()
		}
		return out
	case TypeTable:
		out := []map[string]any{}
		if v.Table == nil {
			return out
		}
		for _, r := range v.Table.Rows {
			row := make(map[string]any, len(r.Values))
			for i, c := range r.Values {
				name := fmt.Sprintf("column%d", i+1)
				if i < len(v.Table.Schema) && v.Table.Schema[i].Name != "" {
					name = v.Table.Schema[i].Name
				}
				row[name] = c.Plain()
			}
			out = append(out, row)
		}
		return out
	}
	if len(v.Raw) == 0 {
		return nil
	}
	var x any
	if err := json.Unmarshal(v.Raw, &x); err != nil {
		return string(v.Raw)
	}
	return x
}

// PlainMap converts every value of m with Plain.
func PlainMap(m map[string]Value) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v.Plain()
	}
	return out
}

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// FieldError is a problem with one input field: Field is its path
// (botInput.<name>[2].key), Message what is wrong and what to do.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }
