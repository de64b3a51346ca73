package chromaauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// writeKeys writes a keys file with one key per entry and returns the
// file and the keys, in order.
func writeKeys(t testing.TB, dir string, entries ...providers.KeyEntry) (string, []string) {
	t.Helper()
	var lines []string
	var keys []string
	for _, e := range entries {
		key, id, err := providers.NewKey()
		require.NoError(t, err)
		e.ID = id
		if e.Created.IsZero() {
			e.Created = time.Now().UTC().Truncate(time.Second)
		}
		e.Hash, err = providers.HashKey(key)
		require.NoError(t, err)
		line, err := e.MarshalLine()
		require.NoError(t, err)
		lines = append(lines, string(line))
		keys = append(keys, key)
	}
	return writeTestFile(t, dir, "keys.jsonl", strings.Join(lines, "\n")+"\n"), keys
}

// auditRequest is a request with the context Caddy's server gives one:
// replacer, vars and the access log's extra fields.
func auditRequest(method, target string, hdr map[string]string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "192.0.2.7:1234"
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx = context.WithValue(ctx, caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields))
	r = r.WithContext(ctx)
	caddyhttp.NewTestReplacer(r)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return r
}

// observed provisions h with its audit log going to an observer.
func observed(t *testing.T, h *ChromaAuth) (*ChromaAuth, *observer.ObservedLogs) {
	t.Helper()
	h = provisioned(t, h)
	core, logs := observer.New(zap.InfoLevel)
	if h.Audit != nil {
		h.auditLog = zap.New(core).Named("http.handlers.chroma_auth.audit")
	}
	return h, logs
}

func TestAuditLines(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Second)
	keysFile, keys := writeKeys(t, dir,
		providers.KeyEntry{User: "alice", Tenant: "acme", Databases: []string{"prod"}, Label: "scoped"},
		providers.KeyEntry{User: "alice", Label: "wide"},
		providers.KeyEntry{User: "bob", Expires: now.Add(-time.Minute)})
	scoped, wide, expired := keys[0], keys[1], keys[2]
	h, logs := observed(t, &ChromaAuth{Handler: config.Handler{KeysFile: keysFile, Audit: &Audit{}, ReloadInterval: -1, FailuresPerMinute: -1}})

	status := http.StatusOK
	var upstreamErr error
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if upstreamErr != nil {
			return upstreamErr
		}
		w.WriteHeader(status)
		return nil
	})
	serveAs := func(method, target string, hdr map[string]string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		require.NoError(t, h.ServeHTTP(w, auditRequest(method, target, hdr), next))
		return w
	}
	last := func() map[string]any {
		all := logs.TakeAll()
		require.Len(t, all, 1, "one line per decision")
		assert.Equal(t, "http.handlers.chroma_auth.audit", all[0].LoggerName)
		return all[0].ContextMap()
	}
	id := func(key string) string { kid, _, _ := providers.SplitKey(key); return kid }
	const collID = "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	var lines []map[string]any

	// Allowed, by name: the upstream's status.
	status = http.StatusNotFound
	w := serveAs("GET", "/api/v2/tenants/acme/databases/prod/collections/docs", map[string]string{"Authorization": "Bearer " + scoped})
	assert.Equal(t, http.StatusNotFound, w.Code)
	l := last()
	lines = append(lines, l)
	assert.Equal(t, "allowed", l["decision"])
	assert.EqualValues(t, 404, l["status"])
	assert.Equal(t, "alice", l["user"])
	assert.Equal(t, "key", l["provider"])
	assert.Equal(t, id(scoped), l["key_id"])
	assert.Equal(t, "collection:get_collection", l["action"])
	assert.Equal(t, "acme", l["tenant"])
	assert.Equal(t, "prod", l["database"])
	assert.Equal(t, "docs", l["collection"])
	assert.Equal(t, "192.0.2.7", l["client_ip"])
	assert.Regexp(t, `^[0-9a-f-]{36}$`, l["request_id"])

	// Allowed by id on the unscoped fast path: classified for the audit.
	status = http.StatusOK
	serveAs("POST", "/api/v2/tenants/t/databases/d/collections/"+collID+"/query", map[string]string{"Authorization": "Bearer " + wide})
	l = last()
	lines = append(lines, l)
	assert.Equal(t, "collection:query", l["action"])
	assert.Equal(t, collID, l["collection_id"])
	assert.Nil(t, l["collection"], "no name is known for an id yet")
	assert.EqualValues(t, 200, l["status"])

	// The upstream failed: Caddy answers with the error's status.
	upstreamErr = caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp: refused"))
	w = httptest.NewRecorder()
	err := h.ServeHTTP(w, auditRequest("GET", "/api/v2/tenants/t/databases/d/collections", map[string]string{"Authorization": "Bearer " + wide}), next)
	require.Error(t, err)
	upstreamErr = nil
	l = last()
	assert.EqualValues(t, 502, l["status"])
	assert.Equal(t, "allowed", l["decision"])

	// Forbidden: another tenant.
	w = serveAs("GET", "/api/v2/tenants/other/databases/prod/collections", map[string]string{"Authorization": "Bearer " + scoped})
	assert.Equal(t, http.StatusForbidden, w.Code)
	l = last()
	lines = append(lines, l)
	assert.Equal(t, "forbidden", l["decision"])
	assert.EqualValues(t, 403, l["status"])
	assert.Equal(t, "alice", l["user"])
	assert.Equal(t, id(scoped), l["key_id"])
	assert.Equal(t, "other", l["tenant"])
	assert.Equal(t, "db:list_collections", l["action"])
	assert.NotEmpty(t, l["reason"])

	// Expired: 401 that says so, with the key's id and no secret.
	w = serveAs("GET", "/api/v2/tenants/acme/databases/prod/collections", map[string]string{"Authorization": "Bearer " + expired})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.JSONEq(t, `{"error":"AuthorizationError","message":"Unauthorized: API key expired"}`, w.Body.String())
	l = last()
	lines = append(lines, l)
	assert.Equal(t, "unauthorized", l["decision"])
	assert.Equal(t, "key_expired", l["reason"])
	assert.Equal(t, "key", l["provider"])
	assert.Equal(t, id(expired), l["key_id"])
	assert.Equal(t, "db:list_collections", l["action"])

	// A wrong secret for a known id: plain 401.
	kid, secret, _ := providers.SplitKey(wide)
	wrong := providers.KeyPrefix + kid + "_" + strings.Repeat("x", len(secret))
	w = serveAs("GET", "/api/v2/tenants/t/databases/d/collections", map[string]string{"Authorization": "Bearer " + wrong})
	assert.JSONEq(t, string(bodyUnauthorized), w.Body.String())
	l = last()
	lines = append(lines, l)
	assert.Equal(t, "invalid_credentials", l["reason"])

	// No credential.
	serveAs("GET", "/api/v2/tenants/t", nil)
	l = last()
	lines = append(lines, l)
	assert.Equal(t, "missing_credentials", l["reason"])
	assert.Equal(t, "tenant:get_tenant", l["action"])

	// Identity answers and public routes (not audited by default).
	serveAs("GET", "/api/v2/auth/identity", map[string]string{"Authorization": "Bearer " + scoped})
	lines = append(lines, last())
	serveAs("GET", "/api/v2/heartbeat", nil)
	assert.Zero(t, logs.Len(), "public routes are not audited unless asked")

	raw, err := json.Marshal(lines)
	require.NoError(t, err)
	for _, k := range append(keys, wrong) {
		_, s, _ := providers.SplitKey(k)
		assert.NotContains(t, string(raw), s, "a secret in the audit")
	}
}

func TestAuditPublicAndOff(t *testing.T) {
	dir := t.TempDir()
	keysFile, keys := writeKeys(t, dir, providers.KeyEntry{User: "alice"})
	h, logs := observed(t, &ChromaAuth{Handler: config.Handler{KeysFile: keysFile, Audit: &Audit{Public: true}, ReloadInterval: -1}})
	require.NoError(t, h.ServeHTTP(httptest.NewRecorder(), auditRequest("GET", "/api/v2/heartbeat", nil), okNext))
	all := logs.TakeAll()
	require.Len(t, all, 1)
	assert.Equal(t, "allowed", all[0].ContextMap()["decision"])
	assert.Nil(t, all[0].ContextMap()["user"])

	off := provisioned(t, &ChromaAuth{Handler: config.Handler{KeysFile: keysFile, ReloadInterval: -1}})
	assert.Nil(t, off.auditLog)
	r := auditRequest("GET", "/api/v2/tenants/t/databases/d/collections", map[string]string{"Authorization": "Bearer " + keys[0]})
	w := httptest.NewRecorder()
	require.NoError(t, off.ServeHTTP(w, r, okNext))
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestAuditCaddyfile(t *testing.T) {
	for in, want := range map[string]*Audit{
		"chroma_auth {\n keys_file k.jsonl\n audit\n}":                {},
		"chroma_auth {\n keys_file k.jsonl\n audit {\n public\n }\n}": {Public: true},
		"chroma_auth {\n keys_file k.jsonl\n audit {\n output file /var/log/a.log\n }\n}": {
			WriterRaw: json.RawMessage(`{"filename":"/var/log/a.log","output":"file"}`)},
	} {
		var m ChromaAuth
		require.NoError(t, m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)), in)
		assert.Equal(t, "k.jsonl", m.KeysFile)
		assert.Equal(t, want, m.Audit)
	}
	for _, in := range []string{
		"chroma_auth {\n audit on\n}",
		"chroma_auth {\n audit {\n private\n }\n}",
		"chroma_auth {\n keys_file\n}",
		"chroma_auth {\n keys_file a\n keys_file b\n}",
		"chroma_auth {\n audit\n audit\n}",
		"chroma_auth {\n audit {\n output\n }\n}",
		"chroma_auth {\n audit {\n output nosuch\n }\n}",
	} {
		var m ChromaAuth
		assert.Error(t, m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)), in)
	}
}

// TestAuditLoggerInCaddy runs a real config whose `log` routes the audit
// logger by name to a file, apart from the rest.
func TestAuditLoggerInCaddy(t *testing.T) {
	dir := t.TempDir()
	keysFile, keys := writeKeys(t, dir, providers.KeyEntry{User: "alice"})
	auditFile := filepath.Join(dir, "audit.log")
	port := freePort(t)
	cfg := fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
	log {
		level ERROR
		exclude http.handlers.chroma_auth.audit
	}
	log audit {
		output file %s
		format json
		include http.handlers.chroma_auth.audit
	}
}

http://127.0.0.1:%d {
	chroma_auth {
		keys_file %s
		audit
	}
	respond "ok"
}
`, auditFile, port, keysFile)
	g := serveConfig(t, port, cfg)
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t/databases/d/collections", map[string]string{"Authorization": "Bearer " + keys[0]})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	data, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2, "%s", data)
	for i, want := range []string{"allowed", "unauthorized"} {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &m))
		assert.Equal(t, "http.handlers.chroma_auth.audit", m["logger"])
		assert.Equal(t, want, m["decision"])
	}
	_, secret, _ := providers.SplitKey(keys[0])
	assert.NotContains(t, string(data), secret)
}

// TestAuditOutputInCaddy runs real configs whose audit writes to a file
// of its own (`audit { output file … }`), with no `log` at all: the lines
// are there, as Caddy's logger would write them; a reload to the same
// output goes on writing to it; a config that cannot open its output does
// not load, naming the option, and the one before goes on; and a config
// without the audit writes no line. Each config marks its answers (X-Gen),
// and each try names a tenant of its own, so an answer of the previous
// config's server, which can still take a connection while a reload swaps
// servers, is neither counted nor its line taken for the new one's.
func TestAuditOutputInCaddy(t *testing.T) {
	dir := t.TempDir()
	keysFile, keys := writeKeys(t, dir, providers.KeyEntry{User: "alice"})
	auditFile := filepath.Join(dir, "audit", "chroma.log")
	port := freePort(t)
	site := func(gen, audit string) string {
		return caddyfileSite(port, fmt.Sprintf("\theader X-Gen %s\n\tchroma_auth {\n\t\tkeys_file %s\n%s\t}\n\trespond \"ok\"", gen, keysFile, audit))
	}
	withOutput := "\t\taudit {\n\t\t\toutput file " + auditFile + " {\n\t\t\t\troll_keep 2\n\t\t\t}\n\t\t}\n"
	g := serveConfig(t, port, site("1", withOutput))
	tries := 0
	// ask sends GETs of a tenant of their own until config gen answers;
	// it returns the status and the tenant of that answer.
	ask := func(gen string, hdr map[string]string) (int, string) {
		for i := 0; i < 50; i++ {
			tries++
			tenant := fmt.Sprintf("try-%d", tries)
			resp, _ := g.do(t, "GET", "/api/v2/tenants/"+tenant, hdr)
			if resp.Header.Get("X-Gen") == gen {
				return resp.StatusCode, tenant
			}
		}
		t.Fatalf("config %s never answered", gen)
		return 0, ""
	}
	lineOf := func(tenant string) map[string]any {
		data, err := os.ReadFile(auditFile)
		require.NoError(t, err)
		_, secret, _ := providers.SplitKey(keys[0])
		require.NotContains(t, string(data), secret)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &m), l)
			if m["tenant"] == tenant {
				return m
			}
		}
		return nil
	}
	bearer := map[string]string{"Authorization": "Bearer " + keys[0]}
	for _, c := range []struct {
		hdr      map[string]string
		status   int
		decision string
	}{{bearer, http.StatusOK, "allowed"}, {nil, http.StatusUnauthorized, "unauthorized"}} {
		code, tenant := ask("1", c.hdr)
		assert.Equal(t, c.status, code)
		m := lineOf(tenant)
		require.NotNil(t, m, "no line for %s", tenant)
		assert.Equal(t, "http.handlers.chroma_auth.audit", m["logger"])
		assert.Equal(t, "decision", m["msg"])
		assert.Equal(t, c.decision, m["decision"])
	}

	require.NoError(t, loadCaddyfile(site("2", withOutput)), "a reload to the same output")
	code, tenant := ask("2", bearer)
	assert.Equal(t, http.StatusOK, code)
	require.NotNil(t, lineOf(tenant), "the reloaded config writes to the same file")

	err := loadCaddyfile(site("3", "\t\taudit {\n\t\t\toutput file "+filepath.Join(keysFile, "under-a-file.log")+"\n\t\t}\n"))
	require.ErrorContains(t, err, "chroma_auth: audit: output")
	code, tenant = ask("2", bearer)
	assert.Equal(t, http.StatusOK, code)
	require.NotNil(t, lineOf(tenant), "the config before goes on, writing its lines")

	require.NoError(t, loadCaddyfile(site("4", "")), "a config without the audit")
	code, tenant = ask("4", bearer)
	assert.Equal(t, http.StatusOK, code)
	require.Nil(t, lineOf(tenant), "no audit, no line")
}

// With the audit off, recording a decision costs nothing but the
// counters: no allocation, no route classified.
func TestAuditOffAllocatesNothing(t *testing.T) {
	h := &ChromaAuth{logger: zap.NewNop()}
	r := auditRequest("POST", "/api/v2/tenants/t/databases/d/collections/c/query", nil)
	id := providers.AnonymousIdentity()
	allowed := authz.Decide(r.Context(), nil, id, nil, nil)
	public := authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Public: true}
	missing := authz.Decision{Verdict: authz.VerdictUnauthenticated, Status: http.StatusUnauthorized, Reason: reasonMissing}
	refused := authz.Decision{Verdict: authz.VerdictRefused, Status: http.StatusForbidden, Reason: "no", Identity: id}
	n := testing.AllocsPerRun(100, func() {
		h.record(r, &allowed)
		h.record(r, &public)
		_ = h.recordAfter(okWriter{}, r, &allowed, func(http.ResponseWriter) error { return nil })
	})
	assert.Zero(t, n)
	for _, d := range []*authz.Decision{&missing, &refused} {
		d := d
		n = testing.AllocsPerRun(100, func() { h.record(r, d) })
		assert.LessOrEqual(t, n, 1.0, "a refusal sets its reason placeholder, nothing else")
	}
	assert.Nil(t, allowed.Route, "nothing classified for an audit that is off")
}

// TestAuditPublicCoversPreflights: with audit { public }, a CORS
// preflight, which passes like a public route, has its audit line too.
func TestAuditPublicCoversPreflights(t *testing.T) {
	dir := t.TempDir()
	keysFile, _ := writeKeys(t, dir, providers.KeyEntry{User: "alice"})
	h, logs := observed(t, &ChromaAuth{Handler: config.Handler{KeysFile: keysFile, Audit: &Audit{Public: true}, ReloadInterval: -1}})
	r := auditRequest("OPTIONS", "/api/v2/tenants/t/databases/d/collections", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	require.NoError(t, h.ServeHTTP(httptest.NewRecorder(), r, okNext))
	all := logs.TakeAll()
	require.Len(t, all, 1)
	assert.Equal(t, "allowed", all[0].ContextMap()["decision"])
	assert.Equal(t, "OPTIONS", all[0].ContextMap()["method"])
}

type okWriter struct{}

func (okWriter) Header() http.Header         { return nil }
func (okWriter) Write(p []byte) (int, error) { return len(p), nil }
func (okWriter) WriteHeader(int)             {}

// TestPublicRouteAllocatesNothing: with the audit off, a public route
// costs no allocation through the whole handler: the decision of a
// request the audit does not see stays on the stack (the audit writes a
// copy).
func TestPublicRouteAllocatesNothing(t *testing.T) {
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{Tokens: []string{"tok-0123456789abcdef"}, ReloadInterval: -1}})
	r := auditRequest("GET", "/api/v2/heartbeat", nil)
	n := testing.AllocsPerRun(200, func() {
		if err := h.ServeHTTP(okWriter{}, r, okNext); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, n)
}
