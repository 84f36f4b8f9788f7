package contract

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParsePools(t *testing.T) {
	got, err := ParsePools(" apitask=10;weights=orders:2|billing:1 , Finance/Invoices = 3,runners=4")
	if err != nil {
		t.Fatal(err)
	}
	want := []PoolConfig{
		{Name: "apitask", Limit: 10, Weights: []KeyWeight{{"orders", 2}, {"billing", 1}}},
		{Name: "Finance/Invoices", Limit: 3},
		{Name: "runners", Limit: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParsePools = %+v, want %+v", got, want)
	}
	if w := got[0].Weight("orders"); w != 2 {
		t.Fatalf("weight of orders %d", w)
	}
	if w := got[0].Weight("other"); w != 1 {
		t.Fatalf("weight of an unlisted key %d, want 1", w)
	}
	for _, c := range []struct{ in, want string }{
		{"apitask", "is not name=limit"},
		{"=2", "is not name=limit"},
		{"apitask=0", "not a number from 1 to 10000"},
		{"apitask=two", "not a number from 1 to 10000"},
		{"a=1,a=2", "listed twice"},
		{"a=1;limit=3", "option \"limit=3\" is not known"},
		{"a=1;weights=x", "is not key:weight"},
		{"a=1;weights=x:0", "is not key:weight"},
		{"a=1;weights=x:1|x:2", "has two weights"},
	} {
		if _, err := ParsePools(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePools(%q) = %v, want an error mentioning %q", c.in, err, c.want)
		}
	}
}

func TestAdmissionValidate(t *testing.T) {
	for _, p := range []int{0, 1, 5} {
		if err := (&Admission{Priority: p}).Validate(); err != nil {
			t.Errorf("priority %d: %v", p, err)
		}
	}
	for _, p := range []int{-1, 6} {
		err := (&Admission{Priority: p}).Validate()
		if TypeOf(err) != ErrInvalidInput || !strings.Contains(err.Error(), "admission.priority") {
			t.Errorf("priority %d: %v, want InvalidInput naming admission.priority", p, err)
		}
	}
	if (*Admission)(nil).PriorityOr() != DefaultAdmissionPriority {
		t.Error("nil admission's priority is not the default")
	}
}

// A deployment input's admission priority is its Temporal priority, from
// the typed input or its JSON; none (or an invalid one, which the
// deployment reports) leaves Temporal's default.
func TestStartPriority(t *testing.T) {
	p1 := &Admission{Priority: 1}
	for _, c := range []struct {
		in   any
		want int
	}{
		{DeployAPITaskInput{Admission: p1}, 1},
		{&DeployBotInput{Admission: &Admission{Priority: 5}}, 5},
		{StartJobInput{Admission: &Admission{FairnessKey: "orders"}}, 0},
		{StartJobInput{}, 0},
		{map[string]json.RawMessage{"admission": json.RawMessage(`{"priority":2}`)}, 2},
		{map[string]json.RawMessage{"admission": json.RawMessage(`{"priority":9}`)}, 0},
		{map[string]json.RawMessage{}, 0},
		{AddQueueItemInput{}, 0},
	} {
		if got := StartPriority(c.in).PriorityKey; got != c.want {
			t.Errorf("StartPriority(%#v) = %d, want %d", c.in, got, c.want)
		}
	}
	if PoolTaskPriority.PriorityKey != 1 {
		t.Errorf("pools run at priority %d, want 1", PoolTaskPriority.PriorityKey)
	}
}
