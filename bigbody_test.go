package chromaauth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLargeBodiesForwardedForScopedAndRBACCallers (issue 20): creates,
// renames, forks and conditional commits over 1 MiB (large metadata,
// commits carrying embeddings), with what the decision needs after the
// bulk, are decided from the body as it streams and forwarded unchanged
// to scoped and RBAC callers, never 413; a body whose decision is a
// refusal is still refused (the get_or_create at its end), and one whose
// names are themselves over the bound gets 413 with nothing forwarded.
func TestLargeBodiesForwardedForScopedAndRBACCallers(t *testing.T) {
	up := newUpstream(t)
	coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {coll}}
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	rbac := writeTestFile(t, dir, "rbac.yaml", `roles_mapping:
  admin:
    actions: ["db:create_collection", "db:get_or_create_collection", "collection:update_collection",
      "collection:fork_collection", "collection:upsert", "collection:add", "collection:get"]
  reader:
    actions: ["collection:get", "db:create_collection"]
`)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tauthz %s\n\t}\n%s", users, rbac, proxyTo(up)))
	db := "/api/v2/tenants/acme/databases/prod/collections"
	blob := strings.Repeat("é0123456789", 200000) // 2.4 MB
	vec := strings.TrimSuffix(strings.Repeat("0.125,", 400000), ",")

	for _, c := range []struct{ name, method, path, token, body string }{
		{"create", "POST", db, "tok-acme-admin", `{"metadata":{"blob":"` + blob + `"},"name":"big"}`},
		{"rename", "PUT", db + "/" + coll, "tok-acme-admin", `{"new_metadata":{"blob":"` + blob + `"},"new_name":"bigger"}`},
		{"fork", "POST", db + "/" + coll + "/fork", "tok-acme-admin", `{"pad":"` + blob + `","new_name":"copy"}`},
		{"conditional commit", "POST", db + "/" + coll + "/conditional/commit", "tok-acme-admin",
			`{"operations":[{"records":{"ids":["a"],"embeddings":[[` + vec + `]]},"operation":"upsert"}]}`},
		{"create by a caller of everything (RBAC)", "POST", db, "tok-root", `{"metadata":{"blob":"` + blob + `"},"name":"big2"}`},
	} {
		up.reset()
		resp, out := g.doBody(t, c.method, c.path, c.body, bearer(c.token))
		require.NotEqual(t, http.StatusRequestEntityTooLarge, resp.StatusCode, c.name)
		require.Less(t, resp.StatusCode, 300, "%s: %.200s", c.name, out)
		seen := up.requests()
		require.NotEmpty(t, seen, c.name)
		last := seen[len(seen)-1]
		assert.Equal(t, c.method, last.Method, c.name)
		assert.True(t, last.Body == c.body, "%s: the body reached Chroma unchanged (%d bytes, sent %d)", c.name, len(last.Body), len(c.body))
	}

	// The reader may not create: the decision is in the body's last bytes.
	up.reset()
	resp, out := g.doBody(t, "POST", db, `{"metadata":{"blob":"`+blob+`"},"name":"x","get_or_create":true}`, bearer("tok-acme-reader"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%.200s", out)
	assert.Empty(t, up.requests(), "nothing forwarded")

	// Members the decision needs over the bound: 413, nothing forwarded.
	resp, out = g.doBody(t, "POST", db, `{"name":"`+blob+`"}`, bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%.200s", out)
	assert.Empty(t, up.requests(), "nothing forwarded")
}
