package chromaauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loggedGateway runs a site whose chroma_auth block is body (with the
// audit on), the handler's DEBUG lines, the audit and the access log each
// in a file of their own, and the admin endpoint (metrics) on admin.
type loggedGateway struct {
	*gateway
	admin                   string
	debugLog, auditLog, acc string
}

func startLoggedGateway(t *testing.T, global, body string) *loggedGateway {
	t.Helper()
	dir := t.TempDir()
	port, adminPort := freePort(t), freePort(t)
	g := &loggedGateway{admin: fmt.Sprintf("127.0.0.1:%d", adminPort),
		debugLog: filepath.Join(dir, "debug.log"), auditLog: filepath.Join(dir, "audit.log"), acc: filepath.Join(dir, "access.log")}
	cfg := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	%s
	log {
		level ERROR
		exclude http.handlers.chroma_auth http.handlers.chroma_auth.audit http.log.access
	}
	log denials {
		output file %s
		level DEBUG
		include http.handlers.chroma_auth
		exclude http.handlers.chroma_auth.audit
		format json
	}
	log audit {
		output file %s
		include http.handlers.chroma_auth.audit
		format json
	}
}

http://127.0.0.1:%d {
	log {
		output file %s
		format json
	}
	chroma_auth {
%s
		audit
	}
	respond "ok"
}
`, g.admin, global, g.debugLog, g.auditLog, port, g.acc, body)
	g.gateway = serveConfig(t, port, cfg)
	return g
}

// jsonLines are the JSON lines of a log file whose msg is msg.
func jsonLines(t *testing.T, file, msg string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		if l == "" || json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestEveryRefusalIsLoggedAuditedAndCounted: a refused body (400) is a
// decision like any other: an audit line (decision bad_request, reason
// bad_body), a denial line with the caller's provider, the result
// bad_request and the reason bad_body in the metrics (not the 401s'
// denied). A 413, if the gateway gives one, the same with body_too_large.
// A 403's denial line names the provider, though the credential headers
// are gone by then.
func TestEveryRefusalIsLoggedAuditedAndCounted(t *testing.T) {
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", "users:\n  - id: alice\n    tenant: acme\n    databases: [prod]\n    tokens: [tok-acme]\n")
	g := startLoggedGateway(t, "", "\t\ttoken_file "+users)
	series := map[string]string{
		"bad_request":    `caddy_chroma_auth_requests_total{result="bad_request"}`,
		"denied":         `caddy_chroma_auth_requests_total{result="denied"}`,
		"bad_body":       `caddy_chroma_auth_denied_total{reason="bad_body"}`,
		"body_too_large": `caddy_chroma_auth_denied_total{reason="body_too_large"}`,
	}
	before := map[string]float64{}
	for k, s := range series {
		before[k] = scrape(t, g.admin, s)
	}
	delta := func(k string) float64 { return scrape(t, g.admin, series[k]) - before[k] }
	tok := map[string]string{"Authorization": "Bearer tok-acme", "Content-Type": "application/json"}
	create := "/api/v2/tenants/acme/databases/prod/collections"

	resp, _ := g.doBody(t, "POST", create, "not json", tok)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = g.doBody(t, "POST", create, `{"name":"`+strings.Repeat("x", 2<<20)+`"}`, tok)
	tooLarge := resp.StatusCode == http.StatusRequestEntityTooLarge
	resp, _ = g.do(t, "GET", "/api/v2/tenants/globex", tok)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	assert.Equal(t, 0.0, delta("denied"), "400 and 413 are not counted as denied (401)")
	assert.Equal(t, 1.0, delta("bad_body"))
	if tooLarge {
		assert.Equal(t, 2.0, delta("bad_request"))
		assert.Equal(t, 1.0, delta("body_too_large"))
	} else {
		assert.Equal(t, 1.0, delta("bad_request"))
	}

	audits := jsonLines(t, g.auditLog, "decision")
	want := []struct {
		status float64
		reason string
	}{{400, "bad_body"}}
	if tooLarge {
		want = append(want, struct {
			status float64
			reason string
		}{413, "body_too_large"})
	}
	require.Len(t, audits, len(want)+1, "one audit line per decision: %v", audits)
	for i, w := range want {
		assert.Equal(t, "bad_request", audits[i]["decision"])
		assert.Equal(t, w.status, audits[i]["status"])
		assert.Equal(t, w.reason, audits[i]["reason"])
		assert.Equal(t, "alice", audits[i]["user"])
		assert.Equal(t, "token", audits[i]["provider"])
	}
	assert.Equal(t, "forbidden", audits[len(want)]["decision"])

	denials := jsonLines(t, g.debugLog, "request denied")
	require.Len(t, denials, len(want)+1, "%v", denials)
	for i, w := range want {
		assert.Equal(t, w.reason, denials[i]["reason"])
		assert.Equal(t, "token", denials[i]["provider"], "the provider of a refused body's denial line")
	}
	last := denials[len(want)]
	assert.Equal(t, "forbidden", last["reason"])
	assert.Equal(t, "alice", last["user"])
	assert.Equal(t, "token", last["provider"], "a 403's denial line names the provider")
	assert.NotEmpty(t, last["detail"])
}

// TestAuditRequestIDIsTheAccessLogs: the audit line's request_id is the
// access log's uuid of the same request, and its client_ip is Caddy's
// client address, which honours trusted_proxies.
func TestAuditRequestIDIsTheAccessLogs(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-good\n")
	g := startLoggedGateway(t, "servers {\n\t\ttrusted_proxies static 127.0.0.0/8\n\t}", "\t\ttoken_file "+tokens)
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer tok-good", "X-Forwarded-For": "203.0.113.9"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer wrong", "X-Forwarded-For": "203.0.113.10"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	audits := jsonLines(t, g.auditLog, "decision")
	require.Len(t, audits, 2)
	var access []map[string]any
	require.Eventually(t, func() bool {
		access = jsonLines(t, g.acc, "handled request")
		return len(access) == 2
	}, 5e9, 2e7, "two access log lines")
	for i, ip := range []string{"203.0.113.9", "203.0.113.10"} {
		assert.NotEmpty(t, audits[i]["request_id"])
		assert.Equal(t, access[i]["uuid"], audits[i]["request_id"], "audit request_id = access log uuid")
		assert.Equal(t, ip, audits[i]["client_ip"], "the client address behind the trusted proxy")
	}
}
