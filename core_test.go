package chromaauth

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A placeholder that names the action must not read, and so empty, the
// body of the request the proxy has already copied: for a caller of every
// tenant without RBAC the route is classified from its path alone.
func TestActionPlaceholderLeavesTheBodyAlone(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, fmt.Sprintf(`	chroma_auth token tok-all
	reverse_proxy %s {
		header_up X-Chroma-Action {http.chroma_auth.action}
	}`, strings.TrimPrefix(up.URL, "http://")))
	const body = `{"name":"docs","metadata":{"team":"a"},"get_or_create":true}`
	resp, got := g.doBody(t, "POST", "/api/v2/tenants/acme/databases/prod/collections", body, bearer("tok-all"))
	require.Equal(t, http.StatusOK, resp.StatusCode, got)
	seen := up.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, body, seen[0].Body, "Chroma receives the body as sent")
	assert.Equal(t, "db:create_collection", seen[0].Action, "the path's action; the body is not read for a placeholder")
}

// Every request for a collection whose owner is not known yet waits for
// the one lookup in flight: a burst of a scoped user's requests on a cold
// gateway all pass, with one listing of the database.
func TestColdBurstByIDWaitsForOneLookup(t *testing.T) {
	up := newUpstream(t)
	coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {coll}}
	up.listDelay = 200 * time.Millisecond
	users := writeTestFile(t, t.TempDir(), "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))

	const n = 50
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest("GET", g.URL+"/api/v2/tenants/acme/databases/prod/collections/"+coll+"/count", nil)
			req.Header.Set("Authorization", "Bearer tok-acme-admin")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		assert.Equal(t, http.StatusOK, c, "request %d", i)
	}
	byID := 0
	for _, s := range up.requests() {
		if strings.Contains(s.URI, "/collections/by-id/") {
			byID++
		}
	}
	// One listing, shared by the burst (should a request of the burst
	// come after it ended, one more, never within the relist interval).
	assert.GreaterOrEqual(t, up.spacedListings(t, "acme", "prod", time.Second), 1)
	// One probe finds the route missing; a request that had checked just
	// before it ended may still probe once more.
	assert.LessOrEqual(t, byID, 2, "by-id probes: then listings only")
	assert.GreaterOrEqual(t, byID, 1)
}

// Where Chroma offers GET .../collections/by-id/{id}, the gateway asks
// that rather than listing the database.
func TestOwnerLookupPrefersByID(t *testing.T) {
	up := newUpstream(t)
	up.byID = true
	own, foreign := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", "9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {own}, "beta/main": {foreign}}
	users := writeTestFile(t, t.TempDir(), "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))

	resp, body := g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections/"+own+"/count", bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections/"+foreign+"/count", bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	for _, s := range up.requests() {
		assert.NotContains(t, s.URI, "/collections?", "no listing when by-id is offered")
		assert.False(t, strings.HasSuffix(s.URI, foreign+"/count"), "the foreign collection is never reached")
	}
}

// An owner that cannot be learned because Chroma does not answer is a 503
// with Retry-After, never a 403; once Chroma is back, the same request
// passes without a gateway restart.
func TestOwnerLookupUpstreamDownIs503(t *testing.T) {
	port := freePort(t)
	users := writeTestFile(t, t.TempDir(), "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n\treverse_proxy 127.0.0.1:%d", users, port))
	coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	path := "/api/v2/tenants/acme/databases/prod/collections/" + coll + "/count"

	resp, body := g.do(t, "GET", path, bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, body, `"error":"ServiceUnavailable"`)

	up := newUpstream(t)
	up.collections = map[string][]string{"acme/prod": {coll}}
	up.Close() // re-serve the same handler on the port the gateway proxies to
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err)
	srv := &http.Server{Handler: up.Config.Handler}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	resp, body = g.do(t, "GET", path, bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// A database whose name needs escaping is listed under its own name,
// escaped once.
func TestOwnerLookupEscapesNamesOnce(t *testing.T) {
	for _, db := range []string{"café", "a%b", "semi;colon", "q?mark", "hash#"} {
		t.Run(db, func(t *testing.T) {
			up := newUpstream(t)
			coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
			up.collections = map[string][]string{"acme/" + db: {coll}}
			users := writeTestFile(t, t.TempDir(), "users.yaml", fmt.Sprintf("users:\n  - id: u\n    tenant: acme\n    databases: [%q]\n    tokens: [tok-u]\n", db))
			g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))
			esc := strings.NewReplacer("%", "%25", ";", "%3B", "?", "%3F", "#", "%23", "é", "%C3%A9").Replace(db)
			resp, body := g.do(t, "GET", "/api/v2/tenants/acme/databases/"+esc+"/collections/"+coll+"/count", bearer("tok-u"))
			assert.Equal(t, http.StatusOK, resp.StatusCode, body)
			listed := false
			for _, s := range up.requests() {
				if strings.HasPrefix(s.URI, "/api/v2/tenants/acme/databases/"+esc+"/collections?") {
					listed = true
				}
			}
			assert.True(t, listed, "listed as %s: %+v", esc, up.requests())
		})
	}
}

// A CORS preflight reaches Chroma without credentials; nothing else
// passes as one.
func TestCORSPreflightPasses(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, "\tchroma_auth token tok\n"+proxyTo(up))
	path := "/api/v2/tenants/acme/databases/prod/collections"
	resp, body := g.do(t, "OPTIONS", path, map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Len(t, up.requests(), 1)
	assert.Equal(t, "OPTIONS", up.requests()[0].Method)

	for name, hdr := range map[string]map[string]string{
		"no origin":     {"Access-Control-Request-Method": "POST"},
		"no method":     {"Origin": "https://app.example"},
		"not OPTIONS":   nil,
		"empty headers": {"Origin": "", "Access-Control-Request-Method": ""},
	} {
		method := "OPTIONS"
		if hdr == nil {
			method, hdr = "POST", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
		}
		resp, _ := g.do(t, method, path, hdr)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
	}
	resp, _ = g.doBody(t, "OPTIONS", path, `{"name":"x"}`, map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a preflight has no body")
	assert.Len(t, up.requests(), 1, "nothing else reached Chroma")
}

// Checks that need nothing but the request run first: a by-id request the
// caller's role already refuses costs no lookup upstream, and one outside
// the caller's database neither.
func TestRefusedBeforeAnyLookup(t *testing.T) {
	up := newUpstream(t)
	coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {coll}}
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	rbac := writeTestFile(t, dir, "rbac.yaml", rbacYAML)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tauthz %s\n\t}\n%s", users, rbac, proxyTo(up)))

	resp, body := g.doBody(t, "POST", "/api/v2/tenants/acme/databases/prod/collections/"+coll+"/add", `{}`, bearer("tok-acme-reader"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = g.doBody(t, "POST", "/api/v2/tenants/acme/databases/dev/collections/"+coll+"/get", `{}`, bearer("tok-acme-reader"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	assert.Empty(t, up.requests(), "no lookup, nothing forwarded")

	resp, body = g.doBody(t, "POST", "/api/v2/tenants/acme/databases/prod/collections/"+coll+"/get", `{}`, bearer("tok-acme-reader"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.NotEmpty(t, up.requests(), "an allowed request looks the owner up and goes on")
}
