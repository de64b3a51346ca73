package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const jwtAudience = "urn:chroma:gateway"

// oidcProvider is e2e/oidc/provider.mjs: the npm oidc-provider package,
// issuing JWT access tokens by the client-credentials grant.
type oidcProvider struct {
	port   int
	issuer string
	secret string // client chroma-app's secret
	dir    string
	proc   *process
}

func newOIDCProvider(t *testing.T) *oidcProvider {
	port, err := freePort()
	require.NoError(t, err)
	return &oidcProvider{port: port, issuer: "http://127.0.0.1:" + strconv.Itoa(port), secret: randomHex(16), dir: t.TempDir()}
}

// start runs the provider with these signing keys (the first of alg's kind
// signs) and waits for its discovery document.
func (p *oidcProvider) start(t *testing.T, alg string, keys ...jose.JSONWebKey) {
	t.Helper()
	data, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	require.NoError(t, err)
	jwksFile := filepath.Join(p.dir, "jwks.json")
	require.NoError(t, os.WriteFile(jwksFile, data, 0o600))
	cmd := exec.Command("node", "oidc/provider.mjs")
	cmd.Dir = suite.e2eDir
	cmd.Env = append(os.Environ(), "OIDC_PORT="+strconv.Itoa(p.port), "OIDC_JWKS_FILE="+jwksFile,
		"OIDC_ALG="+alg, "OIDC_CLIENT_SECRET="+p.secret)
	p.proc, err = startProcess("oidc-provider", cmd, filepath.Join(p.dir, "oidc-"+alg+".log"))
	require.NoError(t, err)
	proc := p.proc
	t.Cleanup(func() {
		proc.stop()
		if t.Failed() {
			t.Logf("oidc-provider log:\n%s", proc.log())
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err = waitFor(ctx, plainHTTPClient(), p.issuer+"/.well-known/openid-configuration", p.proc)
	require.NoError(t, err)
}

func (p *oidcProvider) stop() { p.proc.stop() }

// accessToken asks the token endpoint for a client-credentials token for
// resource (the audience).
func (p *oidcProvider) accessToken(t *testing.T, resource string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {resource}, "scope": {"chroma"}}
	req, err := http.NewRequestWithContext(t.Context(), "POST", p.issuer+"/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("chroma-app", p.secret)
	resp, err := plainHTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "token endpoint: %s", body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(body, &out))
	require.Equal(t, 2, strings.Count(out.AccessToken, "."), "a JWT access token")
	return out.AccessToken
}

// tokenHeader reads a token's kid and alg, and its claims, unverified:
// what the test checks the provider issued.
func tokenHeader(t *testing.T, tok string) (kid, alg string, claims map[string]any) {
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	require.NoError(t, err)
	require.NoError(t, parsed.UnsafeClaimsWithoutVerification(&claims))
	return parsed.Headers[0].KeyID, parsed.Headers[0].Algorithm, claims
}

func forge(t *testing.T, key any, alg, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	require.NoError(t, err)
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	require.NoError(t, err)
	return tok
}

func forgedClaims(iss string, extra map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": iss, "aud": jwtAudience, "sub": "forged-app", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"chroma": map[string]any{"tenant": "default_tenant", "databases": []string{"default_database"}}}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// jwtCall lists the default database's collections through the gateway
// with a credential header.
func jwtCall(t *testing.T, g *gateway, authz string) (*http.Response, string) {
	t.Helper()
	client, err := trustingHTTPClient(g.caRoot)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), "GET", g.url+"/api/v2/tenants/default_tenant/databases/default_database/collections", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", authz)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// jwtEventually polls until a token gets want (bounded): key fetches
// happen in the background, at most once a second here.
func jwtEventually(t *testing.T, g *gateway, tok string, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, body := jwtCall(t, g, "Bearer "+tok)
		if resp.StatusCode == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("token still answered %d (%s), want %d", resp.StatusCode, body, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func signingKeys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey, jose.JSONWebKey, jose.JSONWebKey) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return rk, ek,
		jose.JSONWebKey{Key: rk, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: ek, KeyID: "ec-2", Algorithm: "ES256", Use: "sig"}
}

// TestJWTWithOIDCProvider: the gateway verifies access tokens of a real
// OpenID Connect provider (oidc-provider), found by discovery, for the JS
// client and chroma-go against real Chroma: down at start (503 for JWTs,
// Basic works), then up; forged and altered tokens refused; the signing
// key rotated with no gateway restart.
func TestJWTWithOIDCProvider(t *testing.T) {
	rk, _, rsaJWK, ecJWK := signingKeys(t)
	p := newOIDCProvider(t)
	g := startGateway(t, fmt.Sprintf(`chroma_auth {
		basic %s
		jwt {
			issuer %s
			audience %s
			tenant_claim chroma.tenant
			databases_claim chroma.databases
			role_claim chroma.role
			min_refresh_interval 1s
		}
	}`, suite.creds.htpasswd, p.issuer, jwtAudience))
	basic := credential{kind: credBasic, user: suite.creds.user, password: suite.creds.password}
	_, basicValue := basic.header()
	early := forge(t, rk, "RS256", "rsa-1", forgedClaims(p.issuer, nil))

	t.Run("provider down at start: 503 for JWTs, Basic works", func(t *testing.T) {
		resp, body := jwtCall(t, g, "Bearer "+early)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		assert.Contains(t, body, `"error":"ServiceUnavailable"`)
		resp, body = jwtCall(t, g, basicValue)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	})

	p.start(t, "RS256", rsaJWK)
	t.Run("provider up: JWTs work without a restart", func(t *testing.T) {
		jwtEventually(t, g, early, http.StatusOK)
	})

	real := p.accessToken(t, jwtAudience)
	kid, alg, claims := tokenHeader(t, real)
	require.Equal(t, "rsa-1", kid)
	require.Equal(t, "RS256", alg)
	require.Equal(t, jwtAudience, claims["aud"])
	bearer := credential{kind: credBearer, token: real}
	t.Run("JS client with the provider's token", func(t *testing.T) { jsCollectionLife(t, g, bearer) })
	t.Run("chroma-go with the provider's token", func(t *testing.T) { goCollectionLife(t, g, bearer) })
	t.Run("Python client with the provider's token", func(t *testing.T) {
		pyCollectionLife(t, g, bearer, "", "")
		tampered := real[:strings.LastIndexByte(real, '.')+1] + "AAAA" + real[strings.LastIndexByte(real, '.')+5:]
		r := runPython(t, g, credential{kind: credBearer, token: tampered}, "COLLECTION="+uniqueName("py-badjwt"), "STEPS=life")
		require.NotNil(t, r.LifeError, "a token with a bad signature must fail")
		assert.Contains(t, r.LifeError.Message, "Unauthorized", "%+v", r.LifeError)
	})

	t.Run("refused tokens", func(t *testing.T) {
		jwtRefusals(t, g, p, rk, real)
	})

	t.Run("signing key rotated: new tokens work without a restart", func(t *testing.T) {
		p.stop()
		p.start(t, "ES256", ecJWK, rsaJWK) // the new EC key signs; the old one is still published
		rotated := p.accessToken(t, jwtAudience)
		kid, alg, _ := tokenHeader(t, rotated)
		require.Equal(t, "ec-2", kid)
		require.Equal(t, "ES256", alg)
		jwtEventually(t, g, rotated, http.StatusOK)
		goCollectionLife(t, g, credential{kind: credBearer, token: rotated})
		resp, body := jwtCall(t, g, "Bearer "+real)
		require.Equal(t, http.StatusOK, resp.StatusCode, "a token of the old, still published key: %s", body)
	})
}

// jwtRefusals: expired, another audience, another issuer, alg none, HMAC
// signed with the public key, a tampered claim: all 401 with Chroma's
// body; the JS client sees ChromaUnauthorizedError.
func jwtRefusals(t *testing.T, g *gateway, p *oidcProvider, rk *rsa.PrivateKey, real string) {
	parts := strings.Split(real, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	tampered := strings.Replace(string(payload), `"default_tenant"`, `"other_tenant"`, 1)
	require.NotEqual(t, string(payload), tampered)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	expired := forge(t, rk, "RS256", "rsa-1", forgedClaims(p.issuer, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}))

	cases := map[string]string{
		"expired":                     expired,
		"another audience":            p.accessToken(t, "urn:other:service"),
		"another issuer":              forge(t, rk, "RS256", "rsa-1", forgedClaims("http://127.0.0.1:1", nil)),
		"alg none":                    none + "." + parts[1] + ".",
		"HMAC signed with public PEM": forge(t, pubPEM, "HS256", "rsa-1", forgedClaims(p.issuer, nil)),
		"HMAC signed with public DER": forge(t, der, "HS256", "rsa-1", forgedClaims(p.issuer, nil)),
		"tampered claim":              parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2],
		"made-up key id":              forge(t, rk, "RS256", "nobody", forgedClaims(p.issuer, nil)),
	}
	for name, tok := range cases {
		resp, body := jwtCall(t, g, "Bearer "+tok)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s: %s", name, body)
		assert.JSONEq(t, `{"error":"AuthorizationError","message":"Unauthorized"}`, body, name)
	}
	jsRefused(t, g, credential{kind: credBearer, token: expired})
}
