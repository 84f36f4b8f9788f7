// Command schema writes rpaflow's public contract as JSON Schema (draft
// 2020-12) into its own directory: one file per workflow and Nexus
// operation input and result and per error detail, workflows.json (each
// workflow type with its input and result) and rpaflow.nexusrpc.json (the
// Nexus service, its operations and their input and output schemas, in
// the shape of Nexus RPC definition files). Everything is reflected from
// package contract's Go types and doc comments, so callers in any
// language generate their types from the same source as the worker.
//
// Run `go generate ./contract/...` after changing a contract type; a test
// fails while the committed files differ from what this writes.
//
//go:generate go run .
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
	orderedmap "github.com/pb33f/ordered-map/v2"

	"github.com/rpaflow/rpaflow/contract"
	"github.com/rpaflow/rpaflow/contract/botvalue"
)

// module is the import path the doc comments are filed under.
const module = "github.com/rpaflow/rpaflow/contract"

// ServiceFile and WorkflowsFile are the two index files; every other
// *.json here is one type's schema, named after the Go type.
const (
	ServiceFile   = "rpaflow.nexusrpc.json"
	WorkflowsFile = "workflows.json"
)

// call is one workflow, or one Nexus operation, with its input and result.
type call struct {
	workflow, op  string
	input, result any // zero values; result nil when the workflow returns nothing
}

var calls = []call{
	{contract.DeployAPITaskWorkflow, contract.OpDeployAPITask, contract.DeployAPITaskInput{}, contract.DeployAPITaskResult{}},
	{contract.DeployBotWorkflow, contract.OpDeployBot, contract.DeployBotInput{}, contract.DeployBotResult{}},
	{contract.StartJobWorkflow, contract.OpStartJob, contract.StartJobInput{}, contract.StartJobResult{}},
	{contract.AddQueueItemWorkflow, contract.OpAddQueueItem, contract.AddQueueItemInput{}, contract.AddQueueItemResult{}},
	{contract.AddWorkItemWorkflow, contract.OpAddWorkItem, contract.AddWorkItemInput{}, contract.AddWorkItemResult{}},
	{"", contract.OpSessionStatus, contract.SessionStatusInput{}, contract.SessionStatus{}},
	{"", contract.OpPoolStatus, contract.PoolStatusInput{}, contract.PoolStatus{}},
	{contract.ControlRoomSessionWorkflow, "", contract.SessionInput{}, nil},
	{contract.OrchestratorSessionWorkflow, "", contract.SessionInput{}, nil},
	{contract.AutomationHubTokenWatchWorkflow, "", contract.HubWatchInput{}, nil},
	{contract.EnsureWebhookWorkflow, "", contract.EnsureWebhookInput{}, contract.EnsureWebhookResult{}},
}

// errorDetails are the payloads failures carry: ErrorInfo is the first
// detail of every classified error (contract.InfoOf); RunStop the details
// of a stopped run; QueueItemFailure those of a failed queue item. A
// RunFailed deployment or job carries its result type.
var errorDetails = []any{contract.ErrorInfo{}, contract.RunStop{}, contract.QueueItemFailure{}}

func main() {
	files, err := Generate("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema:", err)
		os.Exit(1)
	}
	old, _ := filepath.Glob("*.json")
	for _, f := range old {
		if _, keep := files[f]; !keep {
			if err := os.Remove(f); err != nil {
				fmt.Fprintln(os.Stderr, "schema:", err)
				os.Exit(1)
			}
		}
	}
	for _, name := range sortedKeys(files) {
		if err := os.WriteFile(name, files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "schema:", err)
			os.Exit(1)
		}
	}
}

// Generate returns every file by name. contractDir is package contract's
// source directory (its doc comments become descriptions).
func Generate(contractDir string) (map[string][]byte, error) {
	r := &jsonschema.Reflector{
		Anonymous:                 true,
		ExpandedStruct:            true,
		AllowAdditionalProperties: true, // results may gain fields; inputs are closed below
		Mapper:                    mapType,
	}
	if err := r.AddGoComments(module, contractDir, jsonschema.WithFullComment()); err != nil {
		return nil, fmt.Errorf("reading doc comments: %w", err)
	}
	// The comments were filed under paths relative to contractDir; file
	// them under the import paths reflect reports.
	r.CommentMap = rekey(r.CommentMap, contractDir)
	r.LookupComment = func(t reflect.Type, field string) string { return describe(r.CommentMap, t, field) }

	files := map[string][]byte{}
	add := func(v any, input bool) (string, error) {
		name := reflect.TypeOf(v).Name()
		file := name + ".json"
		if _, done := files[file]; done {
			return file, nil
		}
		s, err := reflectType(r, v, input)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		b, err := encode(s)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		files[file] = b
		return file, nil
	}

	type ref struct {
		Ref   string `json:"$ref"`
		GoRef string `json:"$goRef"`
	}
	refOf := func(file string, v any) ref {
		return ref{Ref: file, GoRef: module + "." + reflect.TypeOf(v).Name()}
	}
	type operation struct {
		Description string `json:"description"`
		Input       ref    `json:"input"`
		Output      ref    `json:"output"`
	}
	type workflow struct {
		Input  ref  `json:"input"`
		Result *ref `json:"result,omitempty"`
	}
	ops := map[string]operation{}
	wfs := map[string]workflow{}
	for _, c := range calls {
		in, err := add(c.input, true)
		if err != nil {
			return nil, err
		}
		w := workflow{Input: refOf(in, c.input)}
		if c.result != nil {
			out, err := add(c.result, false)
			if err != nil {
				return nil, err
			}
			res := refOf(out, c.result)
			w.Result = &res
			if c.op != "" {
				ops[c.op] = operation{Description: opDescription(c), Input: w.Input, Output: res}
			}
		}
		if c.workflow != "" {
			wfs[c.workflow] = w
		}
	}
	details := map[string]ref{}
	for _, v := range errorDetails {
		f, err := add(v, false)
		if err != nil {
			return nil, err
		}
		details[reflect.TypeOf(v).Name()] = refOf(f, v)
	}
	types, err := add(contract.ErrorType(""), false)
	if err != nil {
		return nil, err
	}

	svc, err := encode(map[string]any{
		"nexusrpc": "1.0.0",
		"services": map[string]any{
			contract.NexusService: map[string]any{
				"description": "rpaflow's deployments and session status for callers in any namespace. A failed operation's " +
					"cause is an application error whose type is one of " + types + " and whose first detail is " +
					"ErrorInfo.json; cancelling an operation cancels the deployment and stops its run on the platform.",
				"operations": ops,
			},
		},
	})
	if err != nil {
		return nil, err
	}
	files[ServiceFile] = svc
	idx, err := encode(map[string]any{
		"taskQueue":    contract.DefaultTaskQueue,
		"workflows":    wfs,
		"errorTypes":   map[string]string{"$ref": types},
		"errorDetails": details,
	})
	if err != nil {
		return nil, err
	}
	files[WorkflowsFile] = idx
	return files, nil
}

func opDescription(c call) string {
	switch c.op {
	case contract.OpSessionStatus:
		return "Answers at once with the session's status query (never a token)."
	case contract.OpPoolStatus:
		return "Answers at once with the pool's status query: slots in use, holders and the waiting queue."
	}
	return "Runs the " + c.workflow + " workflow in rpaflow's namespace and ends with its result or its failure; " +
		"cancelling the operation cancels the workflow."
}

// reflectType reflects v's type and applies the rules the Go validation
// states in code: closed inputs, enums, patterns and bounds.
func reflectType(r *jsonschema.Reflector, v any, input bool) (*jsonschema.Schema, error) {
	t := reflect.TypeOf(v)
	s := r.ReflectFromType(t)
	s.Title = t.Name()
	if s.Description == "" {
		s.Description = r.CommentMap[module+"."+t.Name()]
	}
	if s.Definitions == nil {
		s.Definitions = jsonschema.Definitions{}
	}
	// Mapped botvalue.Value references its definitions by name.
	if usesRef(s, "#/$defs/"+botValueDef) {
		for name, d := range botValueDefs(r) {
			s.Definitions[name] = d
		}
	}
	structs := map[string]*jsonschema.Schema{t.Name(): s}
	for name, d := range s.Definitions {
		structs[name] = d
	}
	for _, name := range sortedKeys(structs) {
		d := structs[name]
		if d.Properties == nil {
			continue
		}
		openMaps(d)
		if input && name != botValueDef {
			d.AdditionalProperties = jsonschema.FalseSchema
		}
		if p, ok := d.Properties.Get("profile"); ok {
			p.Pattern = `^[a-z0-9][a-z0-9-]*$`
			if p.Description == "" {
				p.Description = "The profile: the name of a platform connection the worker is configured with (RPAFLOW_PROFILES)."
			}
		}
	}
	if !input {
		// Go writes a nil map or slice as null unless the field is omitempty.
		for name, fields := range nullable(t) {
			d, ok := structs[name]
			if !ok {
				continue
			}
			for _, f := range fields {
				if p, ok := d.Properties.Get(f); ok {
					inner := *p
					inner.Description = ""
					*p = jsonschema.Schema{Description: p.Description, AnyOf: []*jsonschema.Schema{&inner, {Type: "null"}}}
				}
			}
		}
	}
	for _, rl := range rules {
		d, ok := structs[rl.typ]
		if !ok {
			continue
		}
		if rl.prop == "" {
			rl.apply(d)
			continue
		}
		p, ok := d.Properties.Get(rl.prop)
		if !ok {
			return nil, fmt.Errorf("rule for %s.%s: no such property (renamed? update the rule)", rl.typ, rl.prop)
		}
		rl.apply(p)
	}
	if len(s.Definitions) == 0 {
		s.Definitions = nil
	}
	return s, nil
}

// nullable lists, by struct name, the JSON names of the map and slice
// fields of t and the structs it holds that Go writes as null when nil.
func nullable(t reflect.Type) map[string][]string {
	out := map[string][]string{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.Implements(marshaler) {
			return
		}
		if _, seen := out[t.Name()]; seen {
			return
		}
		out[t.Name()] = nil
		for f := range t.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type)
				for n, fs := range nullable(f.Type) {
					if n == f.Type.Name() {
						out[t.Name()] = append(out[t.Name()], fs...)
					}
				}
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			k := f.Type.Kind()
			if (k == reflect.Map || k == reflect.Slice) && f.Type != reflect.TypeFor[json.RawMessage]() &&
				!strings.Contains(","+opts+",", ",omitempty,") {
				out[t.Name()] = append(out[t.Name()], name)
			}
			walk(f.Type)
		}
	}
	walk(t)
	return out
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// openMaps states that a map of any values (map[string]any) takes any
// keys: a schema that says nothing reads as "no properties" to some
// code generators.
func openMaps(d *jsonschema.Schema) {
	for p := d.Properties.Oldest(); p != nil; p = p.Next() {
		for _, s := range append([]*jsonschema.Schema{p.Value}, p.Value.AnyOf...) {
			if s.Type == "object" && s.Properties == nil && s.AdditionalProperties == nil && s.PatternProperties == nil {
				s.AdditionalProperties = jsonschema.TrueSchema
			}
		}
	}
}

// rule adds to the schema of a property (or, with prop "", of the type).
type rule struct {
	typ, prop string
	apply     func(*jsonschema.Schema)
}

var rules = []rule{
	{"DeployAPITaskInput", "botRepositoryPath", nonBlank},
	{"DeployAPITaskInput", "botInput", botInput},
	{"DeployBotInput", "botId", minimum(1)},
	{"DeployBotInput", "runAsUserIds", itemsMinimum(1)},
	{"DeployBotInput", "poolIds", itemsMinimum(1)},
	{"DeployBotInput", "priority", enum(contract.BotPriorities...)},
	{"DeployBotInput", "botInput", botInput},
	{"DeployBotInput", "stopGrace", maxSeconds(24 * 3600)},
	{"DeployBotInput", "", func(s *jsonschema.Schema) {
		// Bot Runner users to run as, unless it is an on-demand API Task.
		s.If = &jsonschema.Schema{Not: &jsonschema.Schema{Required: []string{"headless"}}}
		s.Then = &jsonschema.Schema{Required: []string{"runAsUserIds"}, Properties: props("runAsUserIds", &jsonschema.Schema{MinItems: uint64p(1)})}
	}},
	{"HeadlessInput", "numberOfExecutions", minimum(0)},
	{"StartJobInput", "folder", nonBlank},
	{"StartJobInput", "process", nonBlank},
	{"StartJobInput", "priority", enum(contract.JobPriorities...)},
	{"StartJobInput", "stopGrace", maxSeconds(24 * 3600)},
	{"StartJobResult", "state", enum(contract.JobSuccessful, "Faulted", "Stopped")},
	{"AddQueueItemInput", "folder", nonBlank},
	{"AddQueueItemInput", "queue", nonBlank},
	{"AddQueueItemInput", "priority", enum(contract.JobPriorities...)},
	{"AddQueueItemInput", "specificContent", scalarValues},
	{"AddQueueItemInput", "", timeoutNeedsWait},
	{"AddWorkItemInput", "queue", func(s *jsonschema.Schema) {
		nonBlank(s)
		s.MaxLength = uint64p(255)
		s.Not = &jsonschema.Schema{Pattern: `^([+-]?0+|-[0-9]+)$`} // a number given as the queue is a positive id
	}},
	{"AddWorkItemInput", "data", func(s *jsonschema.Schema) {
		scalarValues(s)
		s.MinProperties = uint64p(1)
		s.MaxProperties = uint64p(contract.MaxWorkItemColumns)
	}},
	{"AddWorkItemInput", "", timeoutNeedsWait},
	{"Admission", "priority", func(s *jsonschema.Schema) {
		s.Minimum = json.Number(fmt.Sprint(contract.MinAdmissionPriority))
		s.Maximum = json.Number(fmt.Sprint(contract.MaxAdmissionPriority))
	}},
	{"Admission", "fairnessKey", func(s *jsonschema.Schema) { s.MaxLength = uint64p(200) }},
	{"PoolStatusInput", "pool", nonBlank},
	{"EnsureWebhookInput", "url", func(s *jsonschema.Schema) { s.MaxLength = uint64p(2000) }},
	{"EnsureWebhookInput", "name", func(s *jsonschema.Schema) { s.MaxLength = uint64p(128) }},
	{"EnsureWebhookResult", "outcome", enum(contract.WebhookCreated, contract.WebhookUpdated, contract.WebhookUnchanged)},
	{"SessionStatus", "state", enum("starting", "active", "renewing", "backoff", "authFailed", "closing", "closed")},
	{"HubWatchStatus", "state", enum("ok", "expiring", "expired", "rejected", "unavailable", "starting")},
	{"RunStop", "reason", enum(contract.StopCancelled, contract.StopTimedOut)},
}

func nonBlank(s *jsonschema.Schema) { s.Pattern = `\S` }

func minimum(n int) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) { s.Minimum = json.Number(fmt.Sprint(n)) }
}

func itemsMinimum(n int) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) { minimum(n)(s.Items) }
}

func enum(values ...string) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		s.Enum = nil
		for _, v := range values {
			s.Enum = append(s.Enum, v)
		}
	}
}

// maxSeconds bounds a duration given as a number of seconds; a duration
// string's bound is checked by the worker (and stated in the description).
func maxSeconds(n int) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		for _, b := range s.AnyOf {
			if b.Type == "number" {
				b.Maximum = json.Number(fmt.Sprint(n))
			}
		}
		s.Description = strings.TrimSpace(s.Description + " At most 24h.")
	}
}

// scalarValues: each value is a string, number, boolean or null, under a
// non-blank name.
func scalarValues(s *jsonschema.Schema) {
	s.PropertyNames = &jsonschema.Schema{Pattern: `\S`}
	s.AdditionalProperties = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "string"}, {Type: "number"}, {Type: "boolean"}, {Type: "null"}}}
}

// botInput: named values, each plain JSON (not null) or an AA typed value.
func botInput(s *jsonschema.Schema) {
	s.PropertyNames = &jsonschema.Schema{Pattern: `\S`}
	s.AdditionalProperties = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "string"}, {Type: "number"}, {Type: "boolean"}, {Type: "array"}, {Type: "object"}}}
}

// timeoutNeedsWait: a timeout bounds a wait, so it comes with "wait": true.
func timeoutNeedsWait(s *jsonschema.Schema) {
	s.If = &jsonschema.Schema{Required: []string{"timeout"}}
	s.Then = &jsonschema.Schema{Required: []string{"wait"}, Properties: props("wait", &jsonschema.Schema{Const: true})}
}

func props(name string, s *jsonschema.Schema) *orderedmap.OrderedMap[string, *jsonschema.Schema] {
	p := jsonschema.NewProperties()
	p.Set(name, s)
	return p
}

func uint64p(n uint64) *uint64 { return &n }

// goDuration is a Go duration string that is not negative ("90s", "1h30m", "0").
const goDuration = `^\+?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$`

const botValueDef = "BotValue"

// mapType gives the types whose JSON form is not their Go structure.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[contract.Duration]():
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			// Not format "duration": JSON Schema means ISO 8601 ("PT5M") by it.
			{Type: "string", Pattern: goDuration, Description: `A Go duration such as "30s", "5m" or "1h30m".`},
			{Type: "number", Minimum: "0", Description: "A number of seconds."},
		}}
	case reflect.TypeFor[contract.ErrorType]():
		s := &jsonschema.Schema{Type: "string"}
		for _, e := range contract.ErrorTypes() {
			s.Enum = append(s.Enum, string(e))
		}
		return s
	case reflect.TypeFor[botvalue.Value]():
		return &jsonschema.Schema{Ref: "#/$defs/" + botValueDef}
	case reflect.TypeFor[json.RawMessage]():
		return &jsonschema.Schema{}
	}
	return nil
}

// botValueDefs is the wire form of an Automation Anywhere typed value
// (botvalue.Value has its own JSON encoding) and the types it nests.
func botValueDefs(r *jsonschema.Reflector) jsonschema.Definitions {
	str := func(desc string) *jsonschema.Schema { return &jsonschema.Schema{Type: "string", Description: desc} }
	value := &jsonschema.Schema{
		Type:        "object",
		Description: r.CommentMap[module+"/botvalue.Value"] + ` The field that holds the value is named after the type: "string" for STRING and DATETIME, "number", "boolean", "list", "dictionary", "table"; other AA types are kept as the platform sent them.`,
		Required:    []string{"type"},
		Properties:  jsonschema.NewProperties(),
	}
	value.Properties.Set("type", str("The AA type name: STRING, NUMBER, BOOLEAN, LIST, DICTIONARY, DATETIME, TABLE, or another AA type."))
	value.Properties.Set("string", str("The text of a STRING or DATETIME value."))
	value.Properties.Set("number", str(`A NUMBER's value as text, e.g. "42".`))
	value.Properties.Set("boolean", str(`A BOOLEAN's value as text: "true" or "false".`))
	value.Properties.Set("list", &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Ref: "#/$defs/" + botValueDef}})
	value.Properties.Set("dictionary", &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Ref: "#/$defs/Entry"}})
	value.Properties.Set("table", &jsonschema.Schema{Ref: "#/$defs/Table"})
	defs := jsonschema.Definitions{botValueDef: value}
	for _, v := range []any{botvalue.Entry{}, botvalue.Table{}} {
		s := r.ReflectFromType(reflect.TypeOf(v))
		for name, d := range s.Definitions {
			defs[name] = d
		}
		s.Definitions = nil
		s.Version = ""
		defs[reflect.TypeOf(v).Name()] = s
	}
	return defs
}

func usesRef(s *jsonschema.Schema, ref string) bool {
	b, _ := json.Marshal(s)
	return bytes.Contains(b, []byte(`"$ref":"`+ref+`"`))
}

// describe is the doc comment of t (field "") or of its field, as one
// paragraph per blank-line-separated block, the field called by its JSON
// name where the comment starts with its Go name.
func describe(comments map[string]string, t reflect.Type, field string) string {
	key := module + strings.TrimPrefix(t.PkgPath(), module) + "." + t.Name()
	if field != "" {
		key += "." + field
	}
	text := comments[key]
	if text == "" {
		return ""
	}
	paras := strings.Split(text, "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	text = strings.Join(paras, "\n\n")
	if f, ok := t.FieldByName(field); ok && field != "" {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if rest, ok := strings.CutPrefix(text, field); ok && name != "" && (rest == "" || rest[0] == ' ' || rest[0] == ':') {
			text = name + rest
		}
	}
	return text
}

// rekey files comments found under dir as dir's import path: AddGoComments
// joins the module with the relative directory it walked.
func rekey(m map[string]string, dir string) map[string]string {
	prefix := strings.TrimSuffix(filepath.ToSlash(filepath.Join(module, dir)), "/")
	out := make(map[string]string, len(m))
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			k = module + rest
		}
		out[k] = v
	}
	return out
}

// encode writes v as indented JSON with a final newline; map keys sort,
// properties keep the Go field order, so the output is stable.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
