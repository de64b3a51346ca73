package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainAndPolicyTests: `caddy chroma-auth explain` and `caddy
// chroma-auth test` from the built binary, deciding by-id requests with
// the real Chroma's answers (--upstream): exit 0 when allowed, 1 when
// refused (and when the decision needs Chroma and none was given, which
// it says), 2 on a usage or config error; test exits 0 when every case
// holds, 1 naming each failing case with the decision it got, 2 on a bad
// cases file.
func TestExplainAndPolicyTests(t *testing.T) {
	tenant := "explain-" + randomHex(4)
	createTenantDBsAt(t, suite.chroma.url, tenant, "main")
	d := directAt(t, suite.chroma.url, tenant, "main")
	docs := d.createCollection("docs-a", map[string][]float32{"1": {1, 0, 0}})
	secret := d.createCollection("secret", map[string][]float32{"1": {0, 1, 0}})

	dir := t.TempDir()
	users := writeUsers(t,
		tokenUser{id: "alice", tenant: tenant, databases: []string{"main"}, token: "alice-" + randomHex(16), collections: map[string]string{"docs-*": "read"}},
	)
	config := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(
		"http://127.0.0.1:9 {\n\tchroma_auth {\n\t\tusers_file %s\n\t\ttoken_file %s\n\t}\n\treverse_proxy %s\n}\n", users, users, suite.chroma.addr)), 0o600))

	explain := func(args ...string) (int, string) {
		return exitStatus(t, "", append([]string{"chroma-auth", "explain", "--config", config}, args...)...)
	}
	get := func(id string) string { return collPath(tenant, "main", id, "/get") }

	code, out := explain("--user", "alice", "--upstream", suite.chroma.url, "POST", get(docs), "--body", "{}")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "decision: allowed (200)")
	assert.Contains(t, out, fmt.Sprintf("touches: collection \"docs-a\" (id %s)", docs), "the name Chroma gave")
	assert.Contains(t, out, `grant: collection "docs-a": grant "docs-*" gives read; the route needs read`)
	assert.Contains(t, out, "configured at "+users+":2")

	code, out = explain("--user", "alice", "--upstream", suite.chroma.url, "POST", collPath(tenant, "main", docs, "/add"),
		"--body", `{"ids":["2"],"embeddings":[[1,1,1]]}`)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "decision: refused (403)")
	assert.Contains(t, out, `grant: collection "docs-a": grant "docs-*" gives read; the route needs write`)
	assert.Equal(t, []string{"1"}, d.ids(docs), "explain never sends the request")

	code, out = explain("--user", "alice", "--upstream", suite.chroma.url, "POST", get(secret), "--body", "{}")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "decision: refused (403)")
	assert.Contains(t, out, "refused by: owner")

	code, out = explain("--user", "alice", "POST", get(docs), "--body", "{}")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "decision: not known without Chroma")
	assert.Contains(t, out, "unknown: where the collection lives: the decision asks Chroma GET "+collPath(tenant, "main", "", "/by-id/"+docs))

	for _, bad := range [][]string{
		{"POST", get(docs)},                            // no credential
		{"--user", "nobody", "GET", "/api/v2/version"}, // no such user
		{"--user", "alice", "GET"},                     // no path
		{"--user", "alice", "--upstream", "ftp://x", "GET", "/api/v2/version"},
	} {
		code, out = explain(bad...)
		assert.Equal(t, 2, code, "%v: %s", bad, out)
	}
	code, out = exitStatus(t, "", "chroma-auth", "explain", "--config", filepath.Join(dir, "missing.Caddyfile"), "--user", "alice", "GET", "/api/v2/version")
	assert.Equal(t, 2, code, out)

	cases := filepath.Join(dir, "cases.yaml")
	require.NoError(t, os.WriteFile(cases, []byte(fmt.Sprintf(`cases:
  - name: alice reads docs-a
    as: {user: alice}
    request: {method: POST, path: %q, body: {limit: 1}}
    expect: allow
  - name: alice cannot read secret
    as: {user: alice}
    request: {method: POST, path: %q, body: {}}
    expect: deny
  - name: a wrong token is 401
    as: {token: not-a-token}
    request: {method: GET, path: /api/v2/tenants/%s/databases/main/collections}
    expect: 401
  - name: heartbeat is public
    as: {user: alice}
    request: {method: GET, path: /api/v2/heartbeat}
    expect: allow
`, get(docs), get(secret), tenant)), 0o600))
	test := func(file string, upstream bool) (int, string) {
		args := []string{"chroma-auth", "test", "--config", config, file}
		if upstream {
			args = append(args, "--upstream", suite.chroma.url)
		}
		return exitStatus(t, "", args...)
	}
	code, out = test(cases, true)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "OK: 4 case(s)")

	code, out = test(cases, false)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "FAIL  alice reads docs-a ("+cases+":2): expected allow, got unavailable (503)")
	assert.Contains(t, out, "unknown: where the collection lives")

	wrong := filepath.Join(dir, "wrong.yaml")
	require.NoError(t, os.WriteFile(wrong, []byte(fmt.Sprintf(`cases:
  - name: alice may write docs-a
    as: {user: alice}
    request: {method: POST, path: %q, body: {ids: ["3"], embeddings: [[1, 2, 3]]}}
    expect: allow
  - name: heartbeat is public
    as: {user: alice}
    request: {method: GET, path: /api/v2/heartbeat}
    expect: 200
`, collPath(tenant, "main", docs, "/add"))), 0o600))
	code, out = test(wrong, true)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "FAIL  alice may write docs-a ("+wrong+":2): expected allow, got refused (403)")
	assert.Contains(t, out, "ok    heartbeat is public")
	assert.Contains(t, out, "1 of 2 case(s) failed")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("cases:\n  - name: x\n    as: {user: alice}\n    request: {method: GET, path: /api/v2/heartbeat}\n    expect: maybe\n"), 0o600))
	code, out = test(bad, false)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, bad+":2")
}
