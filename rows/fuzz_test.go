package rows

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func decode(t *testing.T, b []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return m
}

// FuzzRewrite: whatever the body, a rewrite that succeeds on valid JSON
// gives valid JSON that holds the filter, and drops no member, record or
// field.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"where":{"a":1}}`, `{"ids":["a"],"where":null,"limit":1}`,
		`{"searches":[{},{"filter":{"a":{"$gt":1.5}}}]}`,
		`{"ids":["a","b"],"embeddings":[[1,2],[3,4]],"metadatas":[null,{"x":"y"}]}`,
		`{"ids":["a"],"metadatas":[{"owner":"alice","z":[1,2]}],"documents":["\"}"]}`,
	} {
		for op := Where; op <= Add; op++ {
			f.Add([]byte(s), uint8(op))
		}
	}
	filter, _ := New(map[string]string{"owner": "alice"})
	f.Fuzz(func(t *testing.T, in []byte, opn uint8) {
		op := Op(opn % uint8(Add+1))
		out, err := rewriteAll(t, in, op, filter, nil) // every path, the same answer
		var probe map[string]any
		if err != nil || json.Unmarshal(in, &probe) != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %s from %s", out, in)
		}
		a, b := decode(t, in), decode(t, out)
		for k, v := range a {
			if !(op <= Delete && k == "where") && !(op == Search && k == "searches") && !(op == Add && k == "metadatas") && !reflect.DeepEqual(v, b[k]) {
				t.Fatalf("member %q changed: %v → %v", k, v, b[k])
			}
		}
		switch op {
		case Where, Delete:
			if op == Delete && b["where"] == nil {
				return // the refused delete, kept refused
			}
			checkWhere(t, a["where"], b["where"])
		case Search:
			in, _ := a["searches"].([]any)
			got, _ := b["searches"].([]any)
			if len(in) != len(got) {
				t.Fatal("searches dropped")
			}
			for i := range in {
				gi, _ := got[i].(map[string]any)
				ii, _ := in[i].(map[string]any)
				checkWhere(t, ii["filter"], gi["filter"])
			}
		case Add:
			ids, _ := a["ids"].([]any)
			metas, _ := b["metadatas"].([]any)
			inMetas, _ := a["metadatas"].([]any)
			if a["metadatas"] == nil && len(metas) != len(ids) {
				t.Fatalf("%d metadatas for %d ids", len(metas), len(ids))
			}
			for i, m := range metas {
				mm, _ := m.(map[string]any)
				if mm["owner"] != "alice" {
					t.Fatalf("record %d not stamped: %v", i, m)
				}
				if i < len(inMetas) && inMetas[i] != nil {
					im, _ := inMetas[i].(map[string]any)
					for k, v := range im {
						if !reflect.DeepEqual(mm[k], v) {
							t.Fatalf("field %q of record %d changed", k, i)
						}
					}
				}
			}
		}
	})
}

func checkWhere(t *testing.T, in, out any) {
	clause := map[string]any{"owner": map[string]any{"$eq": "alice"}}
	if in == nil || reflect.DeepEqual(in, map[string]any{}) {
		if !reflect.DeepEqual(out, clause) {
			t.Fatalf("where %v, want the filter", out)
		}
		return
	}
	want := map[string]any{"$and": []any{in, clause}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("where %v, want %v", out, want)
	}
}
