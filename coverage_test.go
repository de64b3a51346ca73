package chromaauth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/metrics"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// headerUpstream is an upstream that keeps the headers of the last
// request it got.
type headerUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	last http.Header
	n    int
}

func newHeaderUpstream(t *testing.T) *headerUpstream {
	u := &headerUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.last, u.n = r.Header.Clone(), u.n+1
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *headerUpstream) header(name string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last.Get(name)
}

func (u *headerUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}

func TestRealmOption(t *testing.T) {
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\trealm \"Vector DB\"\n\t}\n\trespond ok", ht))
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Basic realm="Vector DB", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"))
	require.NoError(t, caddy.Stop())

	g = startGateway(t, "\tchroma_auth {\n\t\ttoken tok-1\n\t\trealm team-a\n\t}\n\trespond ok")
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", bearer("wrong"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="team-a"`, resp.Header.Get("WWW-Authenticate"))

	err := loadCaddyfile(caddyfileSite(freePort(t), "\tchroma_auth {\n\t\ttoken tok-1\n\t\trealm `a\"b`\n\t}\n\trespond ok"))
	require.Error(t, err, "a quote would break the challenge header")
	assert.Contains(t, err.Error(), "realm")
}

// TestPlaceholders: the databases, provider and route of an allowed
// request reach header_up; the reason of a refused one reaches a deferred
// response header.
func TestPlaceholders(t *testing.T) {
	up := newHeaderUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	users := writeTestFile(t, dir, "users.yaml", `users:
  - id: alice
    tenant: acme
    databases: [prod, dev]
  - id: tokuser
    tenant: acme
    databases: [prod]
    tokens: [tok-acme]
`)
	g := startGateway(t, fmt.Sprintf(`	route {
		header >X-Reason {http.auth.chroma_auth.reason}
		chroma_auth {
			basic %s
			users_file %s
			failures_per_minute off
		}
		reverse_proxy %s {
			header_up X-Databases {http.auth.user.databases}
			header_up X-Provider {http.auth.user.provider}
			header_up X-Route {http.chroma_auth.route}
		}
	}`, ht, users, strings.TrimPrefix(up.URL, "http://")))

	resp, _ := g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections", map[string]string{"Authorization": basicHeader("alice", "pw")})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "prod,dev", up.header("X-Databases"))
	assert.Equal(t, "basic", up.header("X-Provider"))
	assert.Equal(t, "v2 list_collections", up.header("X-Route"))

	resp, _ = g.do(t, "GET", "/api/v2/tenants/acme", bearer("tok-acme"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "prod", up.header("X-Databases"))
	assert.Equal(t, "token", up.header("X-Provider"))
	assert.Equal(t, "v2 get_tenant", up.header("X-Route"))

	n := up.count()
	for hdr, reason := range map[string]string{
		"":                         reasonMissing,
		"Basic !!!":                reasonMalformed,
		basicHeader("alice", "no"): reasonInvalid,
		"Bearer tok-wrong":         reasonInvalid,
	} {
		h := map[string]string{}
		if hdr != "" {
			h["Authorization"] = hdr
		}
		resp, _ := g.do(t, "GET", "/api/v2/tenants/acme", h)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, hdr)
		assert.Equal(t, reason, resp.Header.Get("X-Reason"), hdr)
	}
	resp, _ = g.do(t, "GET", "/api/v2/tenants/beta", bearer("tok-acme"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "forbidden", resp.Header.Get("X-Reason"))
	assert.Equal(t, n, up.count(), "no refused request reached upstream")
}

// serveRec is serve with the whole answer.
func serveRec(h *ChromaAuth, ip, authz string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/api/v2/tenants/t/databases/d/collections", nil)
	r.RemoteAddr = ip + ":1234"
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	_ = h.ServeHTTP(w, r, okNext)
	return w
}

// TestBusyBcryptIs503WithRetryAfter: when every bcrypt slot stays taken
// past the queue timeout, the answer is 503 with Retry-After (the client
// should retry), counted as busy, and it does not spend the address's
// failure allowance.
func TestBusyBcryptIs503WithRetryAfter(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 1}})
	entered, release := make(chan struct{}, 8), make(chan struct{})
	// The one slot is held by a check that waits for release.
	h.auth = providers.NewAuthenticator(h.policy.Load().Creds, providers.Options{
		MaxConcurrentBcrypt: 1,
		BcryptQueueTimeout:  20 * time.Millisecond,
		OnBcrypt: func() {
			entered <- struct{}{}
			<-release
		},
	})
	busy0, reason0 := counterValue(t, "requests", resultBusy), counterValue(t, "denied", reasonBusy)
	first := make(chan int)
	go func() { first <- serve(h, "192.0.2.60", basicHeader("alice", "wrong")) }()
	<-entered

	w := serveRec(h, "192.0.2.61", basicHeader("bob", "bob-pw"))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), `"error":"ServiceUnavailable"`)
	assert.Equal(t, 1.0, counterValue(t, "requests", resultBusy)-busy0, "result busy")
	assert.Equal(t, 1.0, counterValue(t, "denied", reasonBusy)-reason0, "reason bcrypt_busy")

	close(release)
	assert.Equal(t, http.StatusUnauthorized, <-first)
	assert.Equal(t, http.StatusOK, serve(h, "192.0.2.61", basicHeader("bob", "bob-pw")), "a busy answer spent no try of the allowance of one")
}

// counterValue reads one child of the process-wide chroma_auth counters.
func counterValue(t *testing.T, vec, label string) float64 {
	t.Helper()
	m := metrics.RequestsVec()
	if vec == "denied" {
		m = metrics.DeniedVec()
	}
	require.NotNil(t, m, "metrics are set up by Provision")
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(m))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, lp := range s.GetLabel() {
				if lp.GetValue() == label {
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestUsersAndAuthzFilesReload: a changed users file moves a user to
// another tenant and a changed authz file gives a role a new action, each
// within the reload interval; a broken one of either is logged ("reload
// failed", naming the file) and the last good policy stays.
func TestUsersAndAuthzFilesReload(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	users := writeTestFile(t, dir, "users.yaml", "users:\n  - id: alice\n    role: reader\n    tenant: acme\n    databases: [prod]\n")
	roles := "roles_mapping:\n  reader:\n    actions: [\"tenant:get_tenant\", \"db:list_collections\"%s]\n"
	rbac := writeTestFile(t, dir, "rbac.yaml", fmt.Sprintf(roles, ""))
	logFile := filepath.Join(dir, "caddy.log")
	port := freePort(t)
	cfg := strings.Replace(caddyfileSite(port, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\tusers_file %s\n\t\tauthz %s\n\t\treload_interval 20ms\n\t}\n%s", ht, users, rbac, proxyTo(up))),
		"level ERROR", "output file "+logFile+"\n\t\tlevel ERROR", 1)
	g := serveConfig(t, port, cfg)
	alice := map[string]string{"Authorization": basicHeader("alice", "pw")}
	status := func(path string) func() int {
		return func() int {
			resp, _ := g.do(t, "GET", path, alice)
			return resp.StatusCode
		}
	}
	require.Equal(t, http.StatusOK, status("/api/v2/tenants/acme/databases/prod/collections")())
	require.Equal(t, http.StatusForbidden, status("/api/v2/tenants/beta/databases/main/collections")())
	require.Equal(t, http.StatusForbidden, status("/api/v2/tenants/beta/databases")(), "the reader may not list databases")

	replaceFile(t, users, "users:\n  - id: alice\n    role: reader\n    tenant: beta\n    databases: [\"*\"]\n")
	waitStatus(t, status("/api/v2/tenants/beta/databases/main/collections"), http.StatusOK, "alice moved to beta")
	assert.Equal(t, http.StatusForbidden, status("/api/v2/tenants/acme/databases/prod/collections")(), "and out of acme")

	replaceFile(t, rbac, fmt.Sprintf(roles, `, "db:list_databases"`))
	waitStatus(t, status("/api/v2/tenants/beta/databases"), http.StatusOK, "the reader may list databases now")

	logged := func(file string) func() bool {
		return func() bool {
			b, _ := os.ReadFile(logFile)
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, "reload failed; keeping the last good credentials and roles") && strings.Contains(line, file) {
					return true
				}
			}
			return false
		}
	}
	replaceFile(t, rbac, "roles_mapping: [\n")
	waitFor(t, logged(rbac), "a broken authz file is logged")
	assert.Equal(t, http.StatusOK, status("/api/v2/tenants/beta/databases")(), "the last good roles stay")

	replaceFile(t, rbac, fmt.Sprintf(roles, `, "db:list_databases"`))
	replaceFile(t, users, "users:\n  - id: alice\n    tenant: [\n")
	waitFor(t, logged(users), "a broken users file is logged")
	assert.Equal(t, http.StatusOK, status("/api/v2/tenants/beta/databases/main/collections")(), "the last good users stay")
	assert.Equal(t, http.StatusForbidden, status("/api/v2/tenants/acme/databases/prod/collections")())
}
