package rows

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func alice(t testing.TB) *Filter {
	f, err := New(map[string]string{"owner": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRewrite(t *testing.T) {
	f := alice(t)
	two, _ := New(map[string]string{"owner": "alice", "team": "blue"})
	cases := []struct {
		name string
		f    *Filter
		op   Op
		in   string
		want string
		err  error
	}{
		{"get without where gets one", f, Where, `{"ids":["a"],"include":["metadatas"]}`, `{"ids":["a"],"include":["metadatas"],"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"empty body", f, Where, `{}`, `{"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"where ANDed, rest as sent", f, Where, " { \"where\" : {\"x\": 1.000000000000000001} ,\n \"limit\":2 } ", " { \"where\" : {\"$and\":[{\"x\": 1.000000000000000001},{\"owner\":{\"$eq\":\"alice\"}}]} ,\n \"limit\":2 } ", nil},
		{"null where", f, Where, `{"where":null}`, `{"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"empty where", f, Where, `{"where":{ }}`, `{"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"escaped key is where too", f, Where, `{"wher\u0065":{"a":1}}`, `{"wher\u0065":{"$and":[{"a":1},{"owner":{"$eq":"alice"}}]}}`, nil},
		{"repeated where both ANDed", f, Where, `{"where":{"a":1},"where":{"b":2}}`, `{"where":{"$and":[{"a":1},{"owner":{"$eq":"alice"}}]},"where":{"$and":[{"b":2},{"owner":{"$eq":"alice"}}]}}`, nil},
		{"two keys", two, Where, `{"where":{"a":1}}`, `{"where":{"$and":[{"a":1},{"owner":{"$eq":"alice"}},{"team":{"$eq":"blue"}}]}}`, nil},
		{"two keys, none", two, Where, `{}`, `{"where":{"$and":[{"owner":{"$eq":"alice"}},{"team":{"$eq":"blue"}}]}}`, nil},
		{"delete by ids", f, Delete, `{"ids":["a","b"]}`, `{"ids":["a","b"],"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"delete Chroma refuses stays refused", f, Delete, `{"ids":[]}`, `{"ids":[]}`, nil},
		{"delete by document", f, Delete, `{"ids":[],"where_document":{"$contains":"x"}}`, `{"ids":[],"where_document":{"$contains":"x"},"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"search", f, Search, `{"searches":[{"rank":{"$knn":{"query":[0.1]}}},{"filter":{"a":1}}],"read_level":"x"}`, `{"searches":[{"rank":{"$knn":{"query":[0.1]}},"filter":{"owner":{"$eq":"alice"}}},{"filter":{"$and":[{"a":1},{"owner":{"$eq":"alice"}}]}}],"read_level":"x"}`, nil},
		{"add stamps", f, Add, `{"ids":["a","b","c"],"embeddings":[[1e-7,2],[3,4],[5,6]],"metadatas":[null,{"x":1,"owner":"alice"},{}]}`, `{"ids":["a","b","c"],"embeddings":[[1e-7,2],[3,4],[5,6]],"metadatas":[{"owner":"alice"},{"x":1,"owner":"alice"},{"owner":"alice"}]}`, nil},
		{"add without metadatas", f, Add, `{"ids":["a","b"],"embeddings":[[1,2],[3,4]]}`, `{"ids":["a","b"],"embeddings":[[1,2],[3,4]],"metadatas":[{"owner":"alice"},{"owner":"alice"}]}`, nil},
		{"add null metadatas", f, Add, `{"ids":["a"],"metadatas":null,"documents":["d"]}`, `{"ids":["a"],"metadatas":[{"owner":"alice"}],"documents":["d"]}`, nil},
		{"add other owner", f, Add, `{"ids":["a","b"],"metadatas":[{},{"owner":"bob"}]}`, "", ErrForbidden},
		{"add owner escaped", f, Add, `{"ids":["a"],"metadatas":[{"own\u0065r":"bob"}]}`, "", ErrForbidden},
		{"add owner not a string", f, Add, `{"ids":["a"],"metadatas":[{"owner":1}]}`, "", ErrForbidden},
		{"upsert owner null", f, Upsert, `{"ids":["a"],"metadatas":[{"owner":null}]}`, "", ErrForbidden},
		{"update keeps", f, Update, `{"ids":["a"],"metadatas":[{"x":2},null]}`, `{"ids":["a"],"metadatas":[{"x":2},null]}`, nil},
		{"update changes owner", f, Update, `{"ids":["a"],"metadatas":[{"owner":"bob"}]}`, "", ErrForbidden},
		{"commit", f, Commit, `{"operations":[{"payload":{"ids":["x"]},"operation":"add"},{"operation":"delete","payload":{"where":{"a":1}}}]}`, `{"operations":[{"payload":{"ids":["x"],"metadatas":[{"owner":"alice"}]},"operation":"add"},{"operation":"delete","payload":{"where":{"$and":[{"a":1},{"owner":{"$eq":"alice"}}]}}}]}`, nil},
		{"commit update of owner", f, Commit, `{"operations":[{"operation":"update","payload":{"ids":["x"],"metadatas":[{"owner":"bob"}]}}]}`, "", ErrForbidden},
		{"commit unknown op", f, Commit, `{"operations":[{"operation":"drop","payload":{}}]}`, "", ErrBadBody},
		// Within a flat array the gateway only finds the end (flatEnd):
		// what is not a number there is Chroma's to refuse, which it does
		// for the whole body, so nothing in it is read. A trailing comma is
		// still the gateway's.
		{"a malformed number list goes on", f, Where, `{"e":[1,,2e+-]}`, `{"e":[1,,2e+-],"where":{"owner":{"$eq":"alice"}}}`, nil},
		{"a trailing comma is refused", f, Where, `{"e":[1,2,]}`, "", ErrBadBody},
		{"not an object", f, Where, `[1]`, "", ErrBadBody},
		{"trailing data", f, Where, `{} {}`, "", ErrBadBody},
		{"unterminated", f, Where, `{"where":{"a":"b`, "", ErrBadBody},
		{"structure breakout", f, Where, `{"where":{"a":1}},"x":{`, "", ErrBadBody},
		{"empty body", f, Where, ``, "", ErrBadBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := rewriteAll(t, []byte(c.in), c.op, c.f, nil)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Fatalf("got  %s\nwant %s", out, c.want)
			}
			if json.Valid([]byte(c.in)) && !json.Valid(out) {
				t.Fatalf("invalid JSON %s", out)
			}
		})
	}
}

// An update's or upsert's ids go to the check before the body is done,
// and a refusal ends the rewrite before the last byte.
func TestRewriteCheck(t *testing.T) {
	f := alice(t)
	var got []string
	in := `{"ids":["a","b"],"embeddings":[[1,2],[3,4]]}`
	out, err := RewriteBytes([]byte(in), Upsert, f, func(ids []string) error { got = ids; return nil })
	if err != nil || strings.Join(got, ",") != "a,b" || !json.Valid(out) {
		t.Fatalf("%v %v %s", err, got, out)
	}
	var w bytes.Buffer
	err = Rewrite(&w, strings.NewReader(in), Update, f, func([]string) error { return ErrForbidden })
	if !errors.Is(err, ErrForbidden) || json.Valid(w.Bytes()) {
		t.Fatalf("%v %s", err, w.Bytes())
	}
	// add never checks: it cannot overwrite
	_, err = RewriteBytes([]byte(in), Add, f, func([]string) error { return ErrForbidden })
	if err != nil {
		t.Fatal(err)
	}
}

// Every byte the rule does not touch goes on as it came: a big body of
// embeddings in odd spellings comes out with the same bytes around the
// stamped metadata, read whole or streamed in reads of any size.
func TestRewriteByteExact(t *testing.T) {
	f := alice(t)
	var b strings.Builder
	b.WriteString("{ \"ids\" : [")
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"id` + strings.Repeat("x", i%7) + `\u00e9"`)
	}
	b.WriteString("],\n\t\"embeddings\": [")
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[0.10000000000000000555, -1.5E-45 ,3.4028234663852886e38, 1e400]")
	}
	b.WriteString("], \"documents\": null }\r\n")
	in := b.String()
	out, err := rewriteAll(t, []byte(in), Add, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.LastIndex(in, "}")
	if !strings.HasPrefix(string(out), in[:cut]) || !strings.HasSuffix(string(out), "}\r\n") {
		t.Fatal("untouched bytes changed")
	}
	ins := string(out[cut : len(out)-3])
	want := `,"metadatas":[` + strings.TrimSuffix(strings.Repeat(`{"owner":"alice"},`, 3000), ",") + "]"
	if ins != want {
		t.Fatalf("inserted %.80s…", ins)
	}
	// a where rewrite of the same body: only the added member differs
	out, err = rewriteAll(t, []byte(in), Where, f, nil)
	if err != nil || string(out) != in[:cut]+`,"where":{"owner":{"$eq":"alice"}}`+in[cut:] {
		t.Fatalf("%v", err)
	}
}

func TestFilterConfig(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"": "x"}, {"$and": "x"}, {"#document": "x"}, {"k": ""}, {"k": "a\nb"}} {
		if err := Check(m); err == nil {
			t.Errorf("%v: want an error", m)
		}
	}
	m, err := Expand(map[string]string{"owner": "{user}", "t": "x-{user}"}, "al")
	if err != nil || m["owner"] != "al" || m["t"] != "x-al" {
		t.Fatal(m, err)
	}
	if _, err := ParseList("owner={user},owner=x"); err == nil {
		t.Fatal("repeated key accepted")
	}
	if m, err := ParseList(" owner = {user} , team=blue"); err != nil || m["team"] != "blue" || m["owner"] != "{user}" {
		t.Fatal(m, err)
	}
	f, _ := New(map[string]string{"owner": "a"})
	if !f.Owns(map[string]any{"owner": "a", "x": 1.0}) || f.Owns(map[string]any{"owner": "b"}) || f.Owns(nil) {
		t.Fatal("Owns")
	}
}
