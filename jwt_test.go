package chromaauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth/jwttest"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

const jwtTestSecret = "jwt-test-secret-0123456789abcdef-0123456789abcdef"

func signJWT(t testing.TB, key any, alg, kid string, claims map[string]any) string {
	return jwttest.Sign(t, key, alg, kid, claims)
}

func jwtClaims(iss string, extra map[string]any) map[string]any {
	c := map[string]any{"iss": iss, "aud": "chroma", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func proxyWithClaims(up *upstream) string {
	return fmt.Sprintf(`	reverse_proxy %s {
		header_up X-Chroma-User {http.auth.user.id}
		header_up X-Chroma-Tenant {http.auth.user.tenant}
		header_up X-Chroma-Role {http.auth.user.provider}
	}`, strings.TrimPrefix(up.URL, "http://"))
}

func TestJWTSelfIssuedThroughGateway(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"bob": "bob-pw"})
	t.Setenv("CHROMA_TEST_JWT_SECRET", jwtTestSecret)
	g := startGateway(t, `	chroma_auth {
		basic `+ht+`
		token static-token-1
		jwt {
			secret {env.CHROMA_TEST_JWT_SECRET}
			issuer self
			tenant_claim chroma.tenant
			databases_claim chroma.databases
		}
	}
`+proxyWithClaims(up))
	scoped := map[string]any{"chroma": map[string]any{"tenant": "acme", "databases": []string{"prod"}}}
	tok := signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", scoped))
	for _, hdr := range []string{"Authorization", "X-Chroma-Token"} {
		val := tok
		if hdr == "Authorization" {
			val = "Bearer " + tok
		}
		resp, body := g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections", map[string]string{hdr: val})
		if hdr == "X-Chroma-Token" {
			assertUnauthorized(t, up, resp, body, "the token header is Authorization")
			continue
		}
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		seen := up.requests()
		require.Len(t, seen, 1)
		assert.Equal(t, "alice", seen[0].User)
		assert.Equal(t, "acme", seen[0].Tenant)
		assert.Equal(t, "jwt", seen[0].Role, "{http.auth.user.provider}")
		assert.Empty(t, seen[0].Authorization, "the JWT does not go upstream")
		up.reset()
	}
	// the claims scope the token: another tenant is forbidden
	resp, body := g.do(t, "GET", "/api/v2/tenants/other/databases/prod/collections", map[string]string{"Authorization": "Bearer " + tok})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	up.reset()

	for name, bad := range map[string]string{
		"expired":      signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", map[string]any{"chroma": scoped["chroma"], "exp": time.Now().Add(-time.Minute).Unix()})),
		"no tenant":    signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", nil)),
		"other secret": signJWT(t, []byte(strings.Repeat("x", 48)), "HS256", "", jwtClaims("self", scoped)),
		"other issuer": signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("evil", scoped)),
	} {
		resp, body := g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections", map[string]string{"Authorization": "Bearer " + bad})
		assertUnauthorized(t, up, resp, body, name)
	}
	// Basic and static tokens keep working beside JWTs
	for _, authz := range []string{basicHeader("bob", "bob-pw"), "Bearer static-token-1"} {
		resp, body := g.do(t, "GET", "/api/v2/tenants/acme", map[string]string{"Authorization": authz})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	}
}

// testIDP serves OpenID Connect discovery and a JWKS, or 503s while down.
type testIDP struct {
	*httptest.Server
	down atomic.Bool
	keys atomic.Pointer[jose.JSONWebKeySet]
}

func newTestIDP(t *testing.T) *testIDP {
	p := &testIDP{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.URL, "jwks_uri": p.URL + "/jwks"})
		case "/jwks":
			_ = json.NewEncoder(w).Encode(p.keys.Load())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func TestJWTProviderDownAtStart(t *testing.T) {
	up := newUpstream(t)
	p := newTestIDP(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.keys.Store(&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	p.down.Store(true)
	ht := writeHtpasswd(t, t.TempDir(), map[string]string{"bob": "bob-pw"})
	g := startGateway(t, `	chroma_auth {
		basic `+ht+`
		jwt {
			issuer `+p.URL+`
			audience chroma
			min_refresh_interval 1s
		}
	}
`+proxyWithClaims(up))
	tok := signJWT(t, key, "ES256", "k1", jwtClaims(p.URL, nil))
	resp, body := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer " + tok})
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.JSONEq(t, string(bodyJWTUnavailable), body)
	resp, body = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("bob", "bob-pw")})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	p.down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer " + tok})
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	// a token for another audience
	resp, body = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer " + signJWT(t, key, "ES256", "k1", jwtClaims(p.URL, map[string]any{"aud": "other"}))})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
}

func TestJWTCaddyfileAndJSON(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"unknown option":    {"jwt {\n bogus x\n}", `unknown option "bogus"`},
		"argument":          {"jwt x {\n secret y\n}", "jwt takes a block"},
		"bad leeway":        {"jwt {\n secret " + jwtTestSecret + "\n leeway soon\n}", "leeway wants a duration"},
		"no audience":       {"jwt {\n issuer https://idp.example\n}", "audience is required"},
		"hmac with pubkeys": {"jwt {\n jwks_url https://idp.example/jwks\n audience a\n algorithms HS256\n}", "HMAC HS256/384/512 only with secret"},
		"empty secret":      {"jwt {\n secret {env.CHROMA_TEST_UNSET_SECRET}\n}", "secret is empty"},
		"missing key file":  {"jwt {\n key_file /nonexistent/key.pem\n}", "no such file"},
	} {
		err := loadCaddyfile(caddyfileSite(freePort(t), "\tchroma_auth {\n"+c.body+"\n}\n\trespond 200"))
		require.ErrorContains(t, err, c.want, name)
	}

	var h ChromaAuth
	require.NoError(t, caddy.StrictUnmarshalJSON([]byte(`{"jwt":{"issuer":"https://idp.example","audience":["chroma"],"key_files":["/k.pem"],"leeway":"30s","tenant_claim":"chroma.tenant","cache_size":5}}`), &h))
	require.NotNil(t, h.JWT)
	assert.Equal(t, caddy.Duration(30*time.Second), h.JWT.Leeway)
	assert.Equal(t, []string{"/k.pem"}, h.JWT.KeyFiles)
	require.NoError(t, h.Validate(), "jwt alone counts as credentials")
}

// TestJWTCleanupStopsEverything: provisioning and cleaning up handlers
// with remote keys and watched key files leaves no goroutine behind.
func TestJWTCleanupStopsEverything(t *testing.T) {
	p := newTestIDP(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.keys.Store(&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}}})
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "pub.pem")
	require.NoError(t, os.WriteFile(keyFile, pemPublic(t, &key.PublicKey), 0o600))
	secretFile := writeTestFile(t, dir, "secret", jwtTestSecret)
	before := runtime.NumGoroutine()
	for range 10 {
		h := &ChromaAuth{Handler: config.Handler{JWT: &JWTConfig{JWKSURL: p.URL + "/jwks", Audience: []string{"chroma"}, KeyFiles: []string{keyFile}, SecretFile: secretFile}, ReloadInterval: caddy.Duration(10 * time.Millisecond)}}
		ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
		require.NoError(t, h.Provision(ctx))
		require.True(t, h.jwt.Ready())
		require.NoError(t, h.Cleanup())
		cancel()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before+2)
}

// TestJWTCommandMintsWhatTheGatewayAccepts: `caddy chroma-auth jwt` signs
// a token that a gateway with the documented self-issued block accepts,
// scoped as asked.
func TestJWTCommandMintsWhatTheGatewayAccepts(t *testing.T) {
	up := newUpstream(t)
	t.Setenv("CHROMA_TEST_JWT_SECRET", jwtTestSecret)
	out, err := runChromaAuth(t, "", "jwt", "--secret-env", "CHROMA_TEST_JWT_SECRET", "--subject", "app-user",
		"--issuer", "my-app", "--tenant", "acme", "--database", "prod", "--collection", "docs=read", "--lifetime", "5m")
	require.NoError(t, err)
	tok := strings.TrimSpace(out)
	require.NotContains(t, out, jwtTestSecret)
	g := startGateway(t, `	chroma_auth {
		jwt {
			secret {env.CHROMA_TEST_JWT_SECRET}
			issuer my-app
			tenant_claim      chroma.tenant
			databases_claim   chroma.databases
			role_claim        chroma.role
			collections_claim chroma.collections
		}
	}
`+proxyWithClaims(up))
	resp, body := g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections", map[string]string{"Authorization": "Bearer " + tok})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = g.do(t, "GET", "/api/v2/tenants/acme/databases/dev/collections", map[string]string{"Authorization": "Bearer " + tok})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)

	_, err = runChromaAuth(t, "", "jwt", "--subject", "x")
	require.ErrorContains(t, err, "exactly one of")
}

// TestJWTInXChromaTokenAndCheck: with token_header X-Chroma-Token a JWT
// comes in that header; `check` reports a jwt block's unreadable key file
// and lists its files.
func TestJWTInXChromaTokenAndCheck(t *testing.T) {
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{TokenHeader: "X-Chroma-Token", ReloadInterval: -1, JWT: &JWTConfig{Secret: jwtTestSecret}}})
	tok := signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("x", nil))
	r := httptest.NewRequest("GET", "/api/v2/tenants/t", nil)
	caddyhttp.NewTestReplacer(r)
	r.Header.Set("X-Chroma-Token", tok)
	w := httptest.NewRecorder()
	require.NoError(t, h.ServeHTTP(w, r, okNext))
	require.Equal(t, http.StatusOK, w.Code)
	r.Header.Set("X-Chroma-Token", tok+"x")
	w = httptest.NewRecorder()
	require.NoError(t, h.ServeHTTP(w, r, okNext))
	require.Equal(t, http.StatusUnauthorized, w.Code)

	dir := t.TempDir()
	secret := writeTestFile(t, dir, "secret", jwtTestSecret)
	raw := []byte(`{"handler":"chroma_auth","jwt":{"key_files":["` + dir + `/missing.pem"],"secret_file":"` + secret + `"}}`)
	rep := cli.Inspect(raw)
	require.Len(t, rep.Errors, 1)
	assert.Contains(t, rep.Errors[0], "missing.pem")
	assert.Contains(t, rep.Files, secret)
	raw = []byte(`{"handler":"chroma_auth","jwt":{"secret_file":"` + secret + `"}}`)
	rep = cli.Inspect(raw)
	assert.Empty(t, rep.Errors)
}

// TestJWTRefusalsLoggedWithoutTheToken: the debug denial log says why a
// JWT was refused (expired, bad signature, ...) and never holds the token.
func TestJWTRefusalsLoggedWithoutTheToken(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "caddy.log")
	port := freePort(t)
	cfg := fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
	log {
		output file %s
		level DEBUG
	}
}

http://127.0.0.1:%d {
	chroma_auth {
		jwt {
			secret %s
			audience chroma
		}
	}
	reverse_proxy %s
}
`, logFile, port, jwtTestSecret, strings.TrimPrefix(up.URL, "http://"))
	g := serveConfig(t, port, cfg)

	expired := signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("x", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	badSig := signJWT(t, []byte(strings.Repeat("k", 40)), "HS256", "", jwtClaims("x", nil))
	otherAud := signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("x", map[string]any{"aud": "other"}))
	for _, tok := range []string{expired, badSig, otherAud} {
		resp, body := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer " + tok})
		assertUnauthorized(t, up, resp, body)
	}
	require.NoError(t, caddy.Stop())
	logs, err := os.ReadFile(logFile)
	require.NoError(t, err)
	for _, reason := range []string{"jwt_expired", "jwt_bad_signature", "jwt_wrong_audience"} {
		assert.Contains(t, string(logs), `"reason":"`+reason+`"`)
	}
	for _, tok := range []string{expired, badSig, otherAud} {
		for _, part := range strings.Split(tok, ".") {
			assert.NotContains(t, string(logs), part)
		}
	}
	assert.NotContains(t, string(logs), jwtTestSecret)
}
