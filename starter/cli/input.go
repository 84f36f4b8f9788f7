package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/rpaflow/rpaflow/contract"
)

// readInput returns the JSON text named by an --input value: "" is an empty
// object, "-" reads stdin, "@path" reads a file, anything else is inline JSON.
func readInput(spec string, stdin io.Reader) ([]byte, error) {
	switch {
	case strings.TrimSpace(spec) == "":
		return []byte("{}"), nil
	case spec == "-":
		if stdin == nil {
			return nil, usageErrorf("--input -: no standard input")
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, usageErrorf("--input -: reading standard input: %v", err)
		}
		return b, nil
	case strings.HasPrefix(spec, "@"):
		path := spec[1:]
		if path == "" {
			return nil, usageErrorf("--input @: give a file name after @, e.g. --input @deploy.json")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageErrorf("--input %s: %v", spec, err)
		}
		return b, nil
	default:
		return []byte(spec), nil
	}
}

// mergeInput parses raw as a JSON object and fills "profile" from the
// --profile flag when the input lacks it: the input's own fields always win.
// It returns the merged object, the effective profile, and a warning when the
// flag disagrees with the input.
func mergeInput(raw []byte, flagProfile string) (obj map[string]json.RawMessage, profile, warning string, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil {
		return nil, "", "", usageErrorf("input is not a JSON object: %v", jsonErr(err))
	}
	if dec.More() || dec.InputOffset() != int64(len(raw)) {
		return nil, "", "", usageErrorf("input has data after the JSON object; give exactly one object")
	}
	if obj == nil { // the input was `null`
		obj = map[string]json.RawMessage{}
	}
	if v, ok := obj["profile"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &profile); err != nil {
			return nil, "", "", usageErrorf("input field profile must be a string, got %s", v)
		}
	}
	switch {
	case profile == "" && flagProfile != "":
		profile = flagProfile
		b, _ := json.Marshal(profile)
		obj["profile"] = b
	case profile != "" && flagProfile != "" && flagProfile != profile:
		warning = fmt.Sprintf("the input's profile %q is used; --profile %q only fills a missing profile", profile, flagProfile)
	}
	if profile == "" {
		return nil, "", "", usageErrorf("no profile: pass --profile NAME or put \"profile\" in the input")
	}
	if err := contract.ValidateProfile(profile); err != nil {
		return nil, "", "", withCode(ExitUsage, err)
	}
	return obj, profile, warning, nil
}

// checkFields decodes obj strictly into target (a pointer to the workflow's
// input type), so misspelled fields and wrong JSON types fail here with exit
// code 2 rather than being silently ignored by the workflow.
func checkFields(obj map[string]json.RawMessage, target any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return usageErrorf("input: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return usageErrorf("input: %v", jsonErr(err))
	}
	return nil
}

// jsonErr makes encoding/json's messages name the field the user wrote.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("field %s: cannot use a JSON %s here (want %s)", te.Field, te.Value, te.Type)
	}
	return err
}

// DefaultID is the workflow ID used when --id is not given: the workflow
// type in kebab case and a random suffix, e.g. deploy-api-task-k3x9q2m7b4ha.
func DefaultID(workflowType string) string {
	return kebab(workflowType) + "-" + strings.ToLower(rand.Text()[:12])
}

// kebab turns a Go-style type name into kebab case, keeping acronyms
// together: DeployAPITask → deploy-api-task.
func kebab(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
