package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// auditCaddyfile is gatewayCaddyfile with Caddy's own `log` directive
// sending the audit logger to a file of its own, and keeping it out of the
// default log, as the README shows.
const auditCaddyfile = `{
	admin off
	persist_config off
	skip_install_trust
	auto_https disable_redirects
	storage file_system %q
	log {
		exclude http.handlers.chroma_auth.audit
	}
	log chroma_audit {
		output file %q
		format json
		include http.handlers.chroma_auth.audit
	}
}

localhost:%d {
	bind 127.0.0.1
	tls internal
	%s
	reverse_proxy %s
}
`

// gatewayCaddyfileNoLog is auditCaddyfile without any `log`: the audit
// writes to its own output, named in the directive (the file's name in a
// comment keeps auditCaddyfile's arguments).
const gatewayCaddyfileNoLog = `{
	admin off
	persist_config off
	skip_install_trust
	auto_https disable_redirects
	storage file_system %q
}
# audit file: %s

localhost:%d {
	bind 127.0.0.1
	tls internal
	%s
	reverse_proxy %s
}
`

// TestAuditLog is issue 15's audit log through the real binary and real
// Chroma: a run of allowed, 401 and 403 requests writes one line each to
// the file Caddy's `log` routes the audit logger to, and again to the
// audit's own output (audit { output file … }, issue 26), with the decision,
// status, user, provider, key id, action, tenant, database, collection,
// client address and request id, and no secret anywhere in the file.
func TestAuditLog(t *testing.T) {
	acme := uniqueName("audit-acme")
	createTenantAndDatabases(t, acme, "prod")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.jsonl")
	key := createKeyCLI(t, keys, "--user", "alice", "--tenant", acme, "--databases", "prod")
	htpasswd, user, password := suite.creds.htpasswd, suite.creds.user, suite.creds.password
	name := uniqueName("audited")
	collID := chromaDirectAt(t, acme, "prod").createCollection(name, map[string][]float32{"a": {1, 0, 0}})
	t.Cleanup(func() { chromaDirectAt(t, acme, "prod").deleteCollection(name) })
	other := uniqueName("audited-other")
	otherID := chromaDirectAt(t, acme, "prod").createCollection(other, map[string][]float32{"b": {0, 1, 0}})
	t.Cleanup(func() { chromaDirectAt(t, acme, "prod").deleteCollection(other) })

	keyCred := credential{kind: credBearer, token: key}
	wrongKey := "chk_" + keyID(key) + "_" + strings.Repeat("Z", 43)
	base := "/api/v2/tenants/" + acme + "/databases/prod/collections"
	run := []auditCase{
		{keyCred, "GET", base + "/" + name, "", 200, "allowed", "alice", "key", keyID(key), "collection:get_collection", name, "", acme, "prod"},
		{keyCred, "POST", base + "/" + collID + "/query", `{"query_embeddings":[[1,0,0]],"n_results":1}`, 200, "allowed", "alice", "key", keyID(key), "collection:query", name, collID, acme, "prod"}, // by id, named
		{credential{kind: credBasic, user: user, password: password}, "GET", "/api/v2/tenants/" + acme, "", 200, "allowed", user, "basic", "", "tenant:get_tenant", "", "", acme, ""},
		{keyCred, "GET", "/api/v2/tenants/default_tenant/databases/other/collections", "", 403, "forbidden", "alice", "key", keyID(key), "db:list_collections", "", "", acme, "other"},
		{credential{kind: credBearer, token: wrongKey}, "GET", base, "", 401, "unauthorized", "", "key", keyID(key), "db:list_collections", "", "", acme, "prod"},
		{credential{kind: credBasic, user: user, password: password + "x"}, "GET", base, "", 401, "unauthorized", user, "basic", "", "db:list_collections", "", "", acme, "prod"},
		{credential{}, "GET", base, "", 401, "unauthorized", "", "", "", "db:list_collections", "", "", acme, "prod"},
		// by id, by a caller the gateway does not scope: named once the
		// gateway has asked Chroma, after the answer
		{credential{kind: credBasic, user: user, password: password}, "GET", base + "/" + otherID + "/count", "", 200, "allowed", user, "basic", "", "collection:count", other, otherID, acme, "prod"},
	}
	// The audit through Caddy's `log` (as the README's first example),
	// and to its own output (audit { output file … }, no `log` at all).
	for _, own := range []bool{false, true} {
		t.Run(map[bool]string{false: "caddy-log", true: "own-output"}[own], func(t *testing.T) {
			dir := t.TempDir()
			port, err := freePort()
			require.NoError(t, err)
			storage := filepath.Join(dir, "caddy-storage")
			auditFile := filepath.Join(dir, "audit.log")
			auditBlock, cfg := "audit", auditCaddyfile
			if own {
				auditBlock, cfg = "audit {\n\t\t\toutput file "+auditFile+"\n\t\t}", gatewayCaddyfileNoLog
			}
			directive := "chroma_auth {\n\t\tbasic " + htpasswd + "\n\t\tkeys_file " + keys + "\n\t\t" + auditBlock + "\n\t}"
			config := filepath.Join(dir, "Caddyfile")
			require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, cfg, storage, auditFile, port, directive, suite.chroma.addr), 0o600))
			g := runGateway(t, gatewayRun{dir: dir, config: config, port: port, storage: storage, cwd: dir})
			checkAuditRun(t, g, auditFile, run, []string{key, keySecret(key), wrongKey, password, keySecret(wrongKey)})
		})
	}
}

// auditCase is one request of TestAuditLog and the audit line it writes.
type auditCase struct {
	cred        credential
	method      string
	path, body  string
	status      int
	decision    string
	user        string
	provider    string
	keyID       string
	action      string
	collection  string
	collID      string
	tenant, dbs string
}

// checkAuditRun makes run's requests to g, then reads one line per
// request from auditFile, each as its case says, none holding a secret.
func checkAuditRun(t *testing.T, g *gateway, auditFile string, run []auditCase, secrets []string) {
	for i, r := range run {
		if i == len(run)-1 {
			// The public heartbeat goes before the last audited request:
			// once that one's line is there, a line of the heartbeat
			// would be too (no waiting on "nothing more came").
			code, _ := keyRequest(t, g, credential{}, "GET", "/api/v2/heartbeat", "")
			require.Equal(t, http.StatusOK, code)
		}
		code, body := keyRequest(t, g, r.cred, r.method, r.path, r.body)
		require.Equal(t, r.status, code, "%s %s: %s", r.method, r.path, body)
	}

	// The lines are written as the decisions are taken; wait for all.
	var lines []map[string]any
	var raw []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, _ = os.ReadFile(auditFile)
		if n := strings.Count(string(raw), "\n"); n >= len(run) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	require.Len(t, lines, len(run), "one line per decision, none for the public heartbeat:\n%s", raw)

	seen := map[string]bool{}
	for i, r := range run {
		l := lines[i]
		what := fmt.Sprintf("line %d (%s %s)", i+1, r.method, r.path)
		assert.Equal(t, "http.handlers.chroma_auth.audit", l["logger"], what)
		assert.Equal(t, r.decision, l["decision"], what)
		assert.EqualValues(t, r.status, l["status"], what)
		assert.Equal(t, r.action, l["action"], what)
		assert.Equal(t, r.tenant, l["tenant"], what)
		for k, want := range map[string]string{"user": r.user, "provider": r.provider, "key_id": r.keyID,
			"collection": r.collection, "collection_id": r.collID, "database": r.dbs} {
			if want == "" {
				assert.Nil(t, l[k], "%s: %s", what, k)
			} else {
				assert.Equal(t, want, l[k], "%s: %s", what, k)
			}
		}
		assert.Equal(t, "127.0.0.1", l["client_ip"], what)
		id, _ := l["request_id"].(string)
		assert.Regexp(t, `^[0-9a-f-]{36}$`, id, what)
		assert.False(t, seen[id], "request ids are per request")
		seen[id] = true
	}
	for _, secret := range secrets {
		assert.NotContains(t, string(raw), secret, "a secret in the audit log")
	}
}
