package quota

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const collPath = "/api/v2/tenants/t/databases/d/collections/c/"

func TestOpOf(t *testing.T) {
	for path, want := range map[string]Op{
		collPath + "add":    OpAdd,
		collPath + "upsert": OpUpsert,
		collPath + "update": OpUpdate,
		collPath + "delete": OpDelete,
		collPath + "get":    OpGet,
		collPath + "query":  OpQuery,
		collPath + "count":  OpNone,
		"/api/v2/tenants/t/databases/d/collections/add":     OpNone, // a collection named add
		"/api/v2/tenants/t/databases/d/collections/c/x/add": OpNone,
		"/api/v1/collections/c/add":                         OpNone,
	} {
		if got := OpOf(httptest.NewRequest("POST", path, nil)); got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	if OpOf(httptest.NewRequest("GET", collPath+"get", nil)) != OpNone {
		t.Error("GET is no record operation")
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > 1000 {
		p = p[:1000] // small reads: early stops show
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func check(t *testing.T, op Op, l Limits, body string) (*Violation, *countingReader) {
	t.Helper()
	cr := &countingReader{r: strings.NewReader(body)}
	r := httptest.NewRequest("POST", collPath+op.String(), nil)
	r.Body = io.NopCloser(cr)
	v := Check(r, op, l)
	read := *cr
	got, err := io.ReadAll(r.Body)
	if err != nil || string(got) != body {
		t.Fatalf("the body changed: %q, %v", got, err)
	}
	return v, &read
}

func TestCheckSizes(t *testing.T) {
	l := Limits{MaxBatch: 2, MaxResults: 10, MaxWhere: 2}
	cases := []struct {
		op    Op
		body  string
		limit string
		got   int
	}{
		{OpAdd, `{"ids":["a","b"],"embeddings":[[1,2],[3,4]]}`, "", 0},
		{OpAdd, `{"ids":["a","b","c"],"embeddings":[[1],[2],[3]]}`, "max_batch", 3},
		{OpUpsert, `{"embeddings":[[1],[2],[3]],"documents":["x]","y\"]","z"],"ids":["a","b","c"]}`, "max_batch", 3},
		{OpUpdate, ` { "\u0069ds" : [ "a" , "b" , "c" ] } `, "max_batch", 3},
		{OpDelete, `{"ids":null,"where":{"$and":[{"a":1},{"b":{"$gt":2}},{"c":"x"}]}}`, "max_where", 3},
		{OpDelete, `{"ids":["a"],"where":{"a":1},"where_document":{"$contains":"x"}}`, "", 0},
		{OpDelete, `{"where":{"a":1},"where_document":{"$or":[{"$contains":"x"},{"$contains":"y"}]}}`, "max_where", 3},
		{OpQuery, `{"query_embeddings":[[0.1,0.2]],"n_results":10}`, "", 0},
		{OpQuery, `{"query_embeddings":[[0.1,0.2]],"n_results":11}`, "max_results", 11},
		{OpQuery, `{"n_results":1e9}`, "max_results", 1e9},
		{OpGet, `{"ids":["a","b","c"],"limit":10}`, "", 0}, // max_batch bounds writes
		{OpGet, `{"limit":100}`, "max_results", 100},
		{OpGet, `{"limit":null}`, "", 0},
		{OpAdd, `not json`, "", 0},
		{OpAdd, `{"ids":"a"}`, "", 0}, // Chroma's to refuse
		{OpAdd, `{"ids":["a","b","c"`, "max_batch", 3},
		{OpAdd, ``, "", 0},
	}
	for _, c := range cases {
		v, _ := check(t, c.op, l, c.body)
		switch {
		case c.limit == "" && v != nil:
			t.Errorf("%s %s: refused: %s", c.op, c.body, v.Message())
		case c.limit != "" && (v == nil || v.Limit != c.limit || v.Got != c.got):
			t.Errorf("%s %s: got %+v, want %s %d", c.op, c.body, v, c.limit, c.got)
		case v != nil && !strings.Contains(v.Message(), c.limit):
			t.Errorf("the message does not name the limit: %s", v.Message())
		}
	}
}

// The scan stops once it knows: ids first, the embeddings after them are
// never read before the request goes on; an over-long ids list is
// refused as soon as it is over.
func TestCheckStopsEarly(t *testing.T) {
	emb := "[" + strings.Repeat("[0.125,0.25,0.5,1.0],", 20000) + "[0]]"
	body := `{"ids":["a","b"],"embeddings":` + emb + `}`
	v, cr := check(t, OpAdd, Limits{MaxBatch: 5}, body)
	if v != nil || cr.n > 2000 {
		t.Fatalf("read %d of %d bytes (violation %v)", cr.n, len(body), v)
	}
	ids := `["` + strings.Repeat(`x","`, 50000) + `y"]`
	v, cr = check(t, OpAdd, Limits{MaxBatch: 5}, `{"ids":`+ids+`}`)
	if v == nil || v.Got != 6 || cr.n > 2000 {
		t.Fatalf("read %d bytes (violation %+v)", cr.n, v)
	}
	// No size limit for the route: the body is not read at all.
	v, cr = check(t, OpAdd, Limits{MaxResults: 5, MaxWhere: 1}, body)
	if v != nil || cr.n != 0 {
		t.Fatalf("read %d bytes of a body no limit bounds", cr.n)
	}
}

func TestCheckTooLargeToDecide(t *testing.T) {
	s := &scanner{src: strings.NewReader(`{"embeddings":[` + strings.Repeat("1,", 5000) + `1],"ids":[]}`), max: 4096}
	if v := s.object(OpAdd, Limits{MaxBatch: 1}, wantsOf(OpAdd, Limits{MaxBatch: 1})); v != nil || !s.over {
		t.Fatalf("undecided within the bound: %+v over %v", v, s.over)
	}
}

func TestCheckEmptyBody(t *testing.T) {
	r := httptest.NewRequest("POST", collPath+"add", nil)
	r.Body = http.NoBody
	if Check(r, OpAdd, Limits{MaxBatch: 1}) != nil {
		t.Fatal("no body, nothing over")
	}
}

func BenchmarkCheckAdd(b *testing.B) {
	emb := "[" + strings.Repeat("[0.125,0.25,0.5,1.0],", 100) + "[0]]"
	body := []byte(`{"ids":[` + strings.Repeat(`"id",`, 100) + `"x"],"embeddings":` + emb + `}`)
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest("POST", collPath+"add", bytes.NewReader(body))
		if Check(r, OpAdd, Limits{MaxBatch: 1000}) != nil {
			b.Fatal("refused")
		}
		_, _ = io.Copy(io.Discard, r.Body)
	}
}
