package chromaauth

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// benchColls is how many collections the benchmark upstream's database
// holds: the filtered listing lists them all.
const benchColls = 1000

// benchUpstream answers like Chroma, quickly and without recording: a
// database of benchColls collections (ids by number, names team-NNNN),
// no by-id route, and "{}" for anything else.
func benchUpstream(b *testing.B) *httptest.Server {
	var list strings.Builder
	list.WriteByte('[')
	for i := 0; i < benchColls; i++ {
		if i > 0 {
			list.WriteByte(',')
		}
		fmt.Fprintf(&list, `{"id":"%s","name":"team-%04d","tenant":"acme","database":"prod","metadata":null}`, benchID(i), i)
	}
	list.WriteByte(']')
	all := list.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/by-id/"):
			w.WriteHeader(http.StatusNotFound)
		case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/collections"):
			if off, _ := strconv.Atoi(r.URL.Query().Get("offset")); off > 0 {
				_, _ = io.WriteString(w, "[]")
				return
			}
			_, _ = io.WriteString(w, all)
		default:
			_, _ = io.WriteString(w, "{}")
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }

const benchUsers = `users:
  - id: scoped
    role: reader
    tenant: acme
    databases: [prod]
    tokens: [tok-scoped]
  - id: restricted
    role: reader
    tenant: acme
    databases: [prod]
    tokens: [tok-restricted]
    collections:
      "team-00*": read
`

const benchRBAC = `roles_mapping:
  reader: { actions: [db:list_collections, collection:get_collection, collection:query, collection:get] }
`

// BenchmarkGateway is a whole request through Caddy on loopback, for each
// kind of caller, with plain reverse_proxy (no auth) as the baseline in
// the same run: report each as a ratio of its ns/op to plain's.
func BenchmarkGateway(b *testing.B) {
	up := benchUpstream(b)
	proxy := "\treverse_proxy " + strings.TrimPrefix(up.URL, "http://") + "\n"
	users := writeTestFile(b, b.TempDir(), "users.yaml", benchUsers)
	rbac := writeTestFile(b, b.TempDir(), "rbac.yaml", benchRBAC)
	withUsers := fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tauthz %s\n\t}\n", users, rbac)
	query := "/api/v2/tenants/acme/databases/prod/collections/" + benchID(7) + "/query"
	cases := []struct {
		name, cfg, method, path, token string
	}{
		{"plain-reverse-proxy", proxy, "POST", query, ""},
		{"token", "\tchroma_auth token tok-all\n" + proxy, "POST", query, "tok-all"},
		{"scoped-rbac-by-id", withUsers + proxy, "POST", query, "tok-scoped"},
		{"restricted-by-name", withUsers + proxy, "GET", "/api/v2/tenants/acme/databases/prod/collections/team-0007", "tok-restricted"},
		{"restricted-by-id", withUsers + proxy, "POST", query, "tok-restricted"},
		{"plain-list-1000", proxy, "GET", "/api/v2/tenants/acme/databases/prod/collections", ""},
		{"restricted-filtered-list-1000", withUsers + proxy, "GET", "/api/v2/tenants/acme/databases/prod/collections", "tok-restricted"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			g := startGateway(b, c.cfg)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			do := func() {
				var body io.Reader
				if c.method == "POST" {
					body = strings.NewReader(`{"query_embeddings":[[0.1,0.2]],"n_results":1}`)
				}
				req, _ := http.NewRequest(c.method, g.URL+c.path, body)
				if c.token != "" {
					req.Header.Set("Authorization", "Bearer "+c.token)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			do() // learn owners, warm the connection
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				do()
			}
		})
	}
}
