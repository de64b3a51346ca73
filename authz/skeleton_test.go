package authz

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodyRoutes are the routes whose decision is in the body.
var bodyRoutes = []struct{ method, path string }{
	{"POST", "/api/v2/tenants"},
	{"POST", tp + "/databases"},
	{"POST", tp + "/collections"},
	{"PUT", cp},
	{"POST", cp + "/fork"},
	{"POST", cp + "/conditional/commit"},
	{"POST", cp + "/functions/attach"},
	{"POST", cp + "/attached_functions/f/add_input"},
	{"POST", "/api/v1/collections?tenant=acme&database=prod"},
}

// FuzzSkeleton (issue 20): the skeleton ReadBody keeps of a body decides
// every body route exactly as the whole body does (same route, same
// refusal), and the body comes back unchanged.
func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{
		`{"name":"docs","get_or_create":true,"metadata":{"name":"x","get_or_create":false}}`,
		`{"new_name":"a","new_name":"b"}`,
		`{"n\u0061me":"esc","get_or_create":"yes"}`,
		`{"operations":[{"operation":"add","records":{"ids":["a"],"embeddings":[[1e3,-0.5,2E-7]]}},{"operation":"delete"}]}`,
		`{"operations":[{"operation":"update","operation":"delete"}],"operations":[]}`,
		`{"output_collection":"out","input_collection_id":"5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"}`,
		`{"name":null}`, `{"name":1}`, `{"name":"a"} x`, `{"name":"a"}  `, `[{"name":"a"}]`, `{"name":"\ud800"}`,
		"{\"name\":\"d\xff\"}", `{"a":[1,{"b":[true,false,null]}],"name":"x"}`, `{"a":01}`, `{"a":"\x"}`, ``, ` `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, br := range bodyRoutes {
			whole := req(br.method, br.path, "")
			want := ClassifyPath(whole.Method, whole.URL)
			wantErr := want.ApplyBody(body)

			r := req(br.method, br.path, string(body))
			got, gotErr := Classify(r)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && !errors.Is(gotErr, ErrBadBody)) {
				t.Fatalf("%s %s %q: whole body %v, skeleton %v", br.method, br.path, body, wantErr, gotErr)
			}
			want.body, got.body = nil, nil
			assert.Equal(t, want, got, "%s %s %q", br.method, br.path, body)
			back, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			require.Equal(t, string(body), string(back))
		}
	})
}

// TestReadBodyMemoryIsBounded (issue 20): reading a body for its
// decision allocates a bounded amount, whatever its size (memory up to
// MemBodyBytes, the rest in a temporary file): a 6 MiB body costs no more
// than a 2 MiB one, and is handed on whole.
func TestReadBodyMemoryIsBounded(t *testing.T) {
	small, _ := readBodyAllocs(t, 2<<20)
	big, n := readBodyAllocs(t, 6<<20)
	assert.Less(t, big, small+(256<<10), "6 MiB: %d bytes allocated, 2 MiB: %d", big, small)
	assert.Less(t, big, uint64(2*MemBodyBytes), "6 MiB: %d bytes allocated", big)
	assert.Equal(t, int64(6<<20), n)
}

// readBodyAllocs classifies a create whose records take size bytes, with
// get_or_create after them, and returns the bytes allocated doing it and
// the records' bytes handed on.
func readBodyAllocs(t *testing.T, size int) (uint64, int64) {
	head, tail := `{"name":"docs","records":[`, `1],"get_or_create":true}`
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(&repeatReader{s: "0.123,"}, int64(size)), strings.NewReader(tail))
	r, err := http.NewRequest("POST", tp+"/collections", body)
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rt, err := Classify(r)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, ActionGetOrCreateCollection, rt.Action)
	if size > MemBodyBytes {
		assert.Nil(t, r.GetBody, "not all in memory")
	}
	n, err := io.Copy(io.Discard, bufio.NewReader(r.Body))
	require.NoError(t, err)
	require.NoError(t, r.Body.Close())
	return after.TotalAlloc - before.TotalAlloc, n - int64(len(head)+len(tail))
}

// repeatReader reads s over and over.
type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.s[r.off:])
		n += k
		r.off = (r.off + k) % len(r.s)
	}
	return n, nil
}
