package chromaauth

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmeAllocs is the README's claim about the handler's hot path, in its
// Performance section.
var readmeAllocs = regexp.MustCompile(`\(a\s+cached\s+Basic\s+credential:\s+(\d+)\s+allocations;\s+a\s+token:\s+(\d+);\s+a\s+public\s+route:\s+(\d+)\)`)

// TestReadmeHandlerAllocs: the allocations per request the README states
// for BenchmarkHandler's cached Basic, token and public requests are what
// the handler allocates, exactly, so the sentence cannot drift either way.
// Checked without -race (make unit runs the Alloc tests both ways), which
// changes allocations.
func TestReadmeHandlerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	m := readmeAllocs.FindSubmatch(readme)
	require.NotNil(t, m, "README.md no longer states the handler's allocations in the sentence this test reads")
	want := func(i int) float64 {
		n, err := strconv.Atoi(string(m[i]))
		require.NoError(t, err)
		return float64(n)
	}

	h := benchHandler(t)
	basic := []string{basicHeader("alice", "secret")}
	tok := []string{"Bearer bench-token-0123456789"}
	cases := []struct {
		name   string
		method string
		path   string
		set    func(http.Header)
		want   float64
	}{
		{"cached Basic", "GET", "/api/v2/tenants/default_tenant/databases/default_database/collections",
			func(hd http.Header) { hd["Authorization"] = basic }, want(1)},
		{"token", "POST", "/api/v2/tenants/default_tenant/databases/default_database/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/query",
			func(hd http.Header) { hd["Authorization"] = tok }, want(2)},
		{"public", "GET", "/api/v2/heartbeat", func(http.Header) {}, want(3)},
	}
	for _, c := range cases {
		r := benchRequest(c.method, c.path)
		w := &codeWriter{h: http.Header{}}
		serve := func() {
			c.set(r.Header)
			clear(w.h)
			w.code = 0
			require.NoError(t, h.ServeHTTP(w, r, okNext))
		}
		serve() // the first Basic request verifies the hash; the rest are cached
		require.Equal(t, http.StatusOK, w.code, c.name)
		got := testing.AllocsPerRun(500, serve)
		require.Equal(t, http.StatusOK, w.code, c.name)
		require.Equal(t, c.want, got, "%s: allocations per request (README.md, Performance)", c.name)
	}
}
