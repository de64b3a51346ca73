package rows

import "testing"

// For hands back the filter it built for a map while that map holds the
// same rows, and builds another once the map changed: a cached filter is
// never one of other rows.
func TestFor(t *testing.T) {
	m := map[string]string{"owner": "alice"}
	kept = m // on the heap, as an identity's rows are: a map on the stack moves when the stack grows
	f1, err := For(m)
	if err != nil {
		t.Fatal(err)
	}
	if f2, _ := For(m); f2 != f1 {
		t.Fatal("the same rows built again")
	}
	m["owner"] = "bob"
	f3, err := For(m)
	if v, _ := f3.Value("owner"); err != nil || v != "bob" {
		t.Fatalf("the map changed, the filter did not: %q %v", v, err)
	}
	m["team"] = "blue"
	if f4, _ := For(m); len(f4.Keys()) != 2 {
		t.Fatalf("a key added, the filter has %v", f4.Keys())
	}
	if _, err := For(map[string]string{"$or": "x"}); err == nil {
		t.Fatal("a bad map got a filter")
	}
}

var kept map[string]string
