package chromaauth

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const unauthorizedBody = `{"error":"AuthorizationError","message":"Unauthorized"}`

// assertUnauthorized checks Chroma's 401 and that nothing reached upstream.
func assertUnauthorized(t *testing.T, up *upstream, resp *http.Response, body string, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, msgAndArgs...)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), msgAndArgs...)
	assert.JSONEq(t, unauthorizedBody, body, msgAndArgs...)
	assert.Empty(t, up.requests(), msgAndArgs...)
	up.reset()
}

func proxyTo(up *upstream) string {
	return fmt.Sprintf(`	reverse_proxy %s {
		header_up X-Chroma-User {http.auth.user.id}
		header_up X-Chroma-Tenant {http.auth.user.tenant}
	}`, strings.TrimPrefix(up.URL, "http://"))
}

func TestBasicAuth(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"admin": "pa:ss:word", "bob": "bobpw"})
	g := startGateway(t, fmt.Sprintf("\tchroma_auth basic %s\n%s", ht, proxyTo(up)))

	resp, body := g.do(t, "GET", "/api/v2/tenants/default_tenant", map[string]string{"Authorization": basicHeader("admin", "pa:ss:word")})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	seen := up.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, "/api/v2/tenants/default_tenant", seen[0].URI)
	assert.Empty(t, seen[0].Authorization, "credentials are not forwarded upstream")
	assert.Equal(t, "admin", seen[0].User, "{http.auth.user.id} is set")
	assert.Equal(t, "*", seen[0].Tenant)
	up.reset()

	resp, body = g.do(t, "GET", "/api/v2/tenants/default_tenant", map[string]string{"authorization": "basic " + b64("bob:bobpw")})
	require.Equal(t, http.StatusOK, resp.StatusCode, "scheme is case-insensitive: %s", body)
	up.reset()

	bad := map[string]string{
		"no credentials":      "",
		"wrong password":      basicHeader("admin", "pa:ss"),
		"unknown user":        basicHeader("mallory", "pa:ss:word"),
		"empty password":      basicHeader("admin", ""),
		"no colon":            "Basic " + b64("admin"),
		"empty user":          "Basic " + b64(":pa:ss:word"),
		"invalid base64":      "Basic !!!notbase64",
		"scheme only":         "Basic",
		"non-ascii":           "Basic " + b64("ädmin:pä:ss"),
		"bearer not accepted": "Bearer pa:ss:word",
		"unknown scheme":      "Digest username=admin",
		"over-long":           "Basic " + strings.Repeat("A", 9000),
	}
	for name, h := range bad {
		hdr := map[string]string{}
		if h != "" {
			hdr["Authorization"] = h
		}
		resp, body := g.do(t, "GET", "/api/v2/tenants/default_tenant", hdr)
		assertUnauthorized(t, up, resp, body, name)
		assert.Equal(t, `Basic realm="Chroma", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"), name)
		assert.NotContains(t, body, "pa:ss", name)
	}
}

func TestTokenAuthorizationBearer(t *testing.T) {
	up := newUpstream(t)
	t.Setenv("CHROMA_TEST_TOKEN", "env-token-123")
	g := startGateway(t, "\tchroma_auth {\n\t\ttoken {env.CHROMA_TEST_TOKEN} other-token\n\t}\n"+proxyTo(up))

	for _, tok := range []string{"env-token-123", "other-token"} {
		resp, body := g.do(t, "POST", "/api/v2/tenants", map[string]string{"Authorization": "Bearer " + tok})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		seen := up.requests()
		require.Len(t, seen, 1)
		assert.Empty(t, seen[0].Authorization)
		assert.Equal(t, "anonymous", seen[0].User)
		up.reset()
	}
	for name, hdr := range map[string]map[string]string{
		"missing":          {},
		"wrong token":      {"Authorization": "Bearer env-token-12"},
		"empty bearer":     {"Authorization": "Bearer "},
		"x-chroma-token":   {"X-Chroma-Token": "env-token-123"},
		"basic with token": {"Authorization": basicHeader("anonymous", "env-token-123")},
		"unset env name":   {"Authorization": "Bearer {env.CHROMA_TEST_TOKEN}"},
	} {
		resp, body := g.do(t, "POST", "/api/v2/tenants", hdr)
		assertUnauthorized(t, up, resp, body, name)
		assert.Equal(t, `Bearer realm="Chroma"`, resp.Header.Get("WWW-Authenticate"), name)
	}
}

func TestTokenXChromaTokenHeaderSpellings(t *testing.T) {
	for _, spelling := range []string{"X-Chroma-Token", "X_CHROMA_TOKEN", "x-chroma-token"} {
		t.Run(spelling, func(t *testing.T) {
			up := newUpstream(t)
			g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken tok-1\n\t\ttoken_header %s\n\t}\n%s", spelling, proxyTo(up)))
			resp, body := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"X-Chroma-Token": "tok-1"})
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.Len(t, up.requests(), 1)
			assert.Empty(t, up.requests()[0].ChromaToken, "token not forwarded")
			up.reset()
			resp, body = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer tok-1"})
			assertUnauthorized(t, up, resp, body, "Bearer is not the configured header")
			assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
		})
	}
	up := newUpstream(t)
	g := startGateway(t, "\tchroma_auth {\n\t\ttoken tok-1\n\t\ttoken_header AUTHORIZATION\n\t}\n"+proxyTo(up))
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer tok-1"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "AUTHORIZATION spelling")
}

func TestBasicAndTokenTogether(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"admin": "secret"})
	tokens := writeTestFile(t, dir, "tokens.txt", "# tokens\nfile-token\n")
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\ttoken_file %s\n\t\ttoken_header X-Chroma-Token\n\t}\n%s", ht, tokens, proxyTo(up)))

	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("admin", "secret")})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"X-Chroma-Token": "file-token"})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, up.requests(), 2)
	assert.Equal(t, "admin", up.requests()[0].User)
	assert.Equal(t, "anonymous", up.requests()[1].User)
	up.reset()

	resp, body := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("admin", "secret"), "X-Chroma-Token": "file-token"})
	assertUnauthorized(t, up, resp, body, "two credentials at once are ambiguous")
	resp, body = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("admin", "wrong"), "X-Chroma-Token": "file-token"})
	assertUnauthorized(t, up, resp, body, "a wrong credential beside a good one")
	resp, body = g.raw(t, "GET", "/api/v2/tenants/t", "Authorization: "+basicHeader("admin", "secret"), "Authorization: "+basicHeader("admin", "secret"))
	assertUnauthorized(t, up, resp, body, "repeated Authorization headers")
	resp, body = g.raw(t, "GET", "/api/v2/tenants/t", "X-Chroma-Token: file-token", "X-Chroma-Token: file-token")
	assertUnauthorized(t, up, resp, body, "repeated X-Chroma-Token headers")
}

func TestForwardCredentials(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, "\tchroma_auth {\n\t\ttoken tok-1\n\t\tforward_credentials\n\t}\n"+proxyTo(up))
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer tok-1"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "Bearer tok-1", up.requests()[0].Authorization)
}

func TestPublicRoutes(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, "\tchroma_auth token tok-1\n"+proxyTo(up))
	for _, p := range DefaultPublic {
		for _, m := range []string{"GET", "HEAD"} {
			resp, _ := g.do(t, m, p, nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s %s", m, p)
		}
		resp, _ := g.do(t, "GET", p+"?x=1", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "query string on %s", p)
		// a bad credential on a public route does not matter, and is not forwarded
		resp, _ = g.do(t, "GET", p, map[string]string{"Authorization": "Bearer wrong"})
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	for _, seen := range up.requests() {
		assert.Empty(t, seen.Authorization)
	}
	up.reset()
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		resp, body := g.do(t, m, "/api/v2/heartbeat", nil)
		assertUnauthorized(t, up, resp, body, m)
	}
	for _, p := range []string{"/docs", "/openapi.json", "/api/v2/pre-flight-checks", "/api/v2/auth/identity", "/", "/api/v2/tenants"} {
		resp, body := g.do(t, "GET", p, nil)
		assertUnauthorized(t, up, resp, body, p)
	}
}

func TestPublicOptionAndNoDefaults(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, "\tchroma_auth {\n\t\ttoken tok-1\n\t\tno_default_public\n\t\tpublic /api/v2/pre-flight-checks /status\n\t}\n"+proxyTo(up))
	for _, p := range []string{"/api/v2/pre-flight-checks", "/status"} {
		resp, _ := g.do(t, "GET", p, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
	up.reset()
	for _, p := range DefaultPublic {
		resp, body := g.do(t, "GET", p, nil)
		assertUnauthorized(t, up, resp, body, p)
	}
}

// TestPathTricksNeverReachAProtectedRoute sends, byte for byte, variants of
// public paths that a lax matcher might take for public.
func TestPathTricksNeverReachAProtectedRoute(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, "\tchroma_auth token tok-1\n"+proxyTo(up))
	targets := []string{
		"/api/v2/heartbeat/",
		"//api/v2/heartbeat",
		"/api/v2//heartbeat",
		"/api/v2/heartbeat/../tenants",
		"/api/v2/heartbeat/..",
		"/api/v2/./heartbeat",
		"/api/v2/heartbeat/.",
		"/api/v2/%68eartbeat",
		"/api/v2/heartbeat%2F..%2Ftenants",
		"/api/v2/heartbeat%2f",
		"/api/v2%2Fheartbeat",
		"/api/v2/heartbeat%252F..%252Ftenants",
		"/api/v2/heartbeat/%2e%2e/tenants",
		"/api/v2/heartbeat%2e",
		"/api/v2/heartbeat;",
		"/api/v2/heartbeat;/../tenants",
		"/api/v2/heartbeat%00",
		"/api/v2/heartbeat%3F",
		"/api/v2/heartbeat%23",
		"/API/V2/HEARTBEAT",
		"/api/v2/Heartbeat",
		"/api/v2/heartbeat\\..\\tenants",
		"/api/v2/heartbeat%5C..%5Ctenants",
		"/api/v2/heartbeat ",
		"/api/v2/heartbeat%20",
		"/api/v2/heartbeatx",
		"/api/v2/heartbeat/x",
		"/api/v2/version/../../api/v2/tenants",
		"/api/v1/../v2/tenants",
		"/api/v2/heartbeat/%2E%2E/tenants",
	}
	for _, target := range targets {
		resp, body := g.raw(t, "GET", target)
		if resp.StatusCode == http.StatusBadRequest {
			// Go's server refused it before any handler: not a bypass.
			assert.Empty(t, up.requests(), target)
			up.reset()
			continue
		}
		assertUnauthorized(t, up, resp, body, target)
	}
	// Absolute-form request targets: the path is what counts.
	resp, _ := g.raw(t, "GET", "http://"+g.Addr+"/api/v2/heartbeat")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	up.reset()
	resp, body := g.raw(t, "GET", "http://"+g.Addr+"/api/v2/heartbeat/../tenants")
	assertUnauthorized(t, up, resp, body, "absolute form with dot segments")
	// Method overrides do not turn a GET into anything else, or back.
	resp, body = g.raw(t, "POST", "/api/v2/heartbeat", "X-HTTP-Method-Override: GET", "Content-Length: 0")
	assertUnauthorized(t, up, resp, body, "method override")
}

func TestConfigErrorsAreClear(t *testing.T) {
	dir := t.TempDir()
	good := writeHtpasswd(t, dir, map[string]string{"admin": "secret"})
	goodLine, err := os.ReadFile(good)
	require.NoError(t, err)
	apr1 := writeTestFile(t, dir, "apr1.htpasswd", string(goodLine)+"bob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n")
	dup := writeTestFile(t, dir, "dup.htpasswd", string(goodLine)+string(goodLine))
	malformed := writeTestFile(t, dir, "bad.htpasswd", "admin\n")
	empty := writeTestFile(t, dir, "empty.htpasswd", "")
	cases := map[string]struct {
		body string
		want []string
	}{
		"non-bcrypt":      {"chroma_auth basic " + apr1, []string{apr1 + ":2", `user "bob"`, "use htpasswd -B"}},
		"duplicate user":  {"chroma_auth basic " + dup, []string{dup + ":2", `user "admin"`, "duplicate"}},
		"malformed line":  {"chroma_auth basic " + malformed, []string{malformed + ":1", "malformed line"}},
		"empty file":      {"chroma_auth basic " + empty, []string{empty, "no users"}},
		"missing file":    {"chroma_auth basic " + dir + "/nope", []string{dir + "/nope", "no such file"}},
		"unknown option":  {"chroma_auth {\n\t\ttoken t\n\t\tbasik x\n\t}", []string{"Caddyfile:13", `unknown subdirective "basik"`}},
		"bad header":      {"chroma_auth {\n\t\ttoken t\n\t\ttoken_header X-Api-Key\n\t}", []string{"Caddyfile:13", "token_header", "Authorization or X-Chroma-Token"}},
		"no provider":     {"chroma_auth {\n\t\ttoken_header Authorization\n\t}", []string{"no credentials configured"}},
		"empty env token": {"chroma_auth token {env.CHROMA_SURELY_UNSET_VAR}", []string{"token #1: empty token"}},
		"basic no file":   {"chroma_auth basic", []string{"basic takes exactly one argument"}},
		"public relative": {"chroma_auth {\n\t\ttoken t\n\t\tpublic api/v2/x\n\t}", []string{"must start with /"}},
		"public escape":   {"chroma_auth {\n\t\ttoken t\n\t\tpublic /api/v2/%68\n\t}", []string{"no %-escapes"}},
		"one-line+block":  {"chroma_auth token t {\n\t\tpublic /x\n\t}", []string{"either the one-line form or a block"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := loadCaddyfile(caddyfileSite(freePort(t), "\t"+tc.body+"\n\trespond ok"))
			if err == nil {
				_ = caddy.Stop()
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "HqJZimcKQ", "no hash in errors")
		})
	}
}

// TestFromEnvWithChromaVariables runs a seed-style docker-compose
// environment unchanged: Chroma 0.5's token variables, then 0.4's basic.
func TestFromEnvWithChromaVariables(t *testing.T) {
	up := newUpstream(t)
	t.Setenv("CHROMA_SERVER_AUTHN_PROVIDER", "chromadb.auth.token_authn.TokenAuthenticationServerProvider")
	t.Setenv("CHROMA_SERVER_AUTHN_CREDENTIALS", "env-tok-1")
	t.Setenv("CHROMA_AUTH_TOKEN_TRANSPORT_HEADER", "X_CHROMA_TOKEN")
	g := startGateway(t, "\tchroma_auth from_env\n"+proxyTo(up))
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"X-Chroma-Token": "env-tok-1"})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	up.reset() // forget the good request: nothing may reach upstream from here
	resp, body := g.do(t, "GET", "/api/v2/tenants/t", bearer("env-tok-1"))
	assertUnauthorized(t, up, resp, body, "the transport header is X-Chroma-Token")
	require.NoError(t, caddy.Stop())

	for _, k := range []string{"CHROMA_SERVER_AUTHN_PROVIDER", "CHROMA_SERVER_AUTHN_CREDENTIALS", "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER"} {
		os.Unsetenv(k)
	}
	ht := writeHtpasswd(t, t.TempDir(), map[string]string{"admin": "admin-pw"})
	t.Setenv("CHROMA_SERVER_AUTH_PROVIDER", "chromadb.auth.basic.BasicAuthServerProvider")
	t.Setenv("CHROMA_SERVER_AUTH_CREDENTIALS_FILE", ht)
	g = startGateway(t, "\tchroma_auth from_env\n"+proxyTo(up))
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("admin", "admin-pw")})
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	t.Setenv("CHROMA_SERVER_AUTH_PROVIDER", "ldap")
	err := loadCaddyfile(caddyfileSite(freePort(t), "\tchroma_auth from_env\n"+proxyTo(up)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"ldap"`)
	assert.Contains(t, err.Error(), "chromadb.auth.basic_authn.BasicAuthenticationServerProvider")
	assert.Contains(t, err.Error(), "chromadb.auth.token.TokenAuthServerProvider")
}

// TestFromEnvInlineBasicHashes: Chroma's CHROMA_SERVER_AUTHN_CREDENTIALS
// with the basic provider holds user:bcrypt-hash lines; they work as is.
func TestFromEnvInlineBasicHashes(t *testing.T) {
	up := newUpstream(t)
	ht := writeHtpasswd(t, t.TempDir(), map[string]string{"admin": "admin-pw"})
	line, err := os.ReadFile(ht)
	require.NoError(t, err)
	t.Setenv("CHROMA_SERVER_AUTHN_PROVIDER", "chromadb.auth.basic_authn.BasicAuthenticationServerProvider")
	t.Setenv("CHROMA_SERVER_AUTHN_CREDENTIALS", strings.TrimSpace(string(line)))
	g := startGateway(t, "\tchroma_auth from_env\n"+proxyTo(up))
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("admin", "admin-pw")})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	up.reset() // forget the good request: nothing may reach upstream from here
	resp, body := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("admin", "wrong")})
	assertUnauthorized(t, up, resp, body)
}
