package contract

import (
	"strconv"
	"testing"
)

// FuzzParseWorkQueue: a queue is either a positive id (in canonical form)
// or a name given back unchanged; anything else is InvalidInput naming
// "queue". Never a panic.
func FuzzParseWorkQueue(f *testing.F) {
	for _, s := range []string{"Invoices", "11", "0", "-3", " ", "", "007", "9223372036854775808", "Invoices EU", "１２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseWorkQueue(s)
		if err != nil {
			if info, ok := InfoOf(err); !ok || info.Field != "queue" || TypeOf(err) != ErrInvalidInput {
				t.Fatalf("%q: error %v does not name the queue field", s, err)
			}
			return
		}
		switch {
		case ref.ID != "" && ref.Name != "":
			t.Fatalf("%q: both id and name: %+v", s, ref)
		case ref.ID != "":
			n, perr := strconv.ParseInt(ref.ID, 10, 64)
			if perr != nil || n <= 0 || strconv.FormatInt(n, 10) != ref.ID {
				t.Fatalf("%q: id %q is not a canonical positive number", s, ref.ID)
			}
		case ref.Name != s:
			t.Fatalf("%q: name changed to %q", s, ref.Name)
		}
	})
}
