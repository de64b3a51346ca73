package chromaauth

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

// rowsBody is a JSON body of n records of dim-dimensional embeddings
// (n = 0: a query of one embedding), as the clients send them.
func rowsBody(n, dim int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	vec := func() {
		b.WriteByte('[')
		for j := 0; j < dim; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(rng.Float32()*2-1), 'g', -1, 32))
		}
		b.WriteByte(']')
	}
	if n == 0 {
		b.WriteString(`{"query_embeddings":[`)
		vec()
		b.WriteString(`],"n_results":10,"where":{"topic":"news"},"include":["metadatas","documents","distances"]}`)
		return b.Bytes()
	}
	b.WriteString(`{"ids":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"id-` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`],"embeddings":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		vec()
	}
	b.WriteString(`],"metadatas":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"topic":"news","n":` + strconv.Itoa(i) + `}`)
	}
	b.WriteString(`],"documents":null}`)
	return b.Bytes()
}

// BenchmarkRows is the cost of row-level security (issue 23): a query of
// one 1,536-dimension embedding and an add of 1,000 records of 1,536
// dimensions, by a user without rows (plain) and one with rows (filtered
// query, stamped add), through the handler to an upstream that reads the
// whole body. BENCHMARKS.md gives the ratios.
func BenchmarkRows(b *testing.B) {
	dir := b.TempDir()
	users := writeTestFile(b, dir, "users.yaml", `users:
  - {id: plain, tokens: [tok-plain-0123456789]}
  - {id: alice, tokens: [tok-alice-0123456789], rows: {owner: "{user}"}}
`)
	h := provisioned(b, &ChromaAuth{Handler: config.Handler{TokenFiles: []string{users}, ReloadInterval: -1, FailuresPerMinute: -1}})
	coll := "/api/v2/tenants/default_tenant/databases/default_database/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		// read in 32 KiB chunks, as reverse_proxy sends a body upstream
		buf := make([]byte, 32<<10)
		if _, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{r.Body}, buf); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	})
	for _, c := range []struct {
		name, route string
		body        []byte
	}{
		{"query-1536", "/query", rowsBody(0, 1536)},
		{"add-1000x1536", "/add", rowsBody(1000, 1536)},
	} {
		for _, who := range []string{"plain", "alice"} {
			b.Run(c.name+"/"+who, func(b *testing.B) {
				tok := []string{"Bearer tok-" + who + "-0123456789"}
				// the request measured is one the gateway forwards, not a refusal
				probe := benchRequest("POST", coll+c.route)
				probe.Body = io.NopCloser(bytes.NewReader(c.body))
				probe.Header["Authorization"] = tok
				rec := httptest.NewRecorder()
				if err := h.ServeHTTP(rec, probe, next); err != nil || rec.Code != http.StatusOK {
					b.Fatalf("%s as %s: status %d, error %v", c.name, who, rec.Code, err)
				}
				w := &discardWriter{h: http.Header{}}
				b.SetBytes(int64(len(c.body)))
				b.ReportAllocs()
				for b.Loop() {
					r := benchRequest("POST", coll+c.route)
					r.Body = io.NopCloser(bytes.NewReader(c.body))
					r.ContentLength = int64(len(c.body))
					r.Header["Authorization"] = tok
					clear(w.h)
					if err := h.ServeHTTP(w, r, next); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
