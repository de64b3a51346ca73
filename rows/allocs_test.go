package rows

import (
	"strings"
	"testing"
)

// queryBody is a query as the benchmark sends it: one embedding of dim
// numbers, a where of its own, what to include.
func queryBody(dim int) []byte {
	var b strings.Builder
	b.WriteString(`{"query_embeddings": [[`)
	for i := range dim {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString([]string{"-0.123456", "0.5", "0.98765", "-0.000123"}[i%4])
	}
	b.WriteString(`]], "n_results": 10, "where": {"topic": "news"}, "include": ["metadatas", "documents", "distances"]}`)
	return []byte(b.String())
}

// The rewrite of a query in memory allocates once (its writer): not a
// copy of the body, not its keys (decoded without encoding/json, and
// without a string for the keys the rewrite knows), not the ANDed where.
func TestRewriteSpansAllocs(t *testing.T) {
	if raceOn {
		t.Skip("the race detector allocates")
	}
	body, f := queryBody(1536), alice(t)
	parts := make([][]byte, 0, 8)
	n := testing.AllocsPerRun(100, func() {
		if _, err := RewriteSpans(parts[:0], body, Where, f, nil); err != nil {
			t.Fatal(err)
		}
	})
	if n > 1 {
		t.Fatalf("%v allocations a rewrite, want 1", n)
	}
}
