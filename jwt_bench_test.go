package chromaauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

// BenchmarkJWT is the per-request cost of a JWT through the handler: a
// reused (cached) token beside a static token, and the first request of a
// new RS256 or ES256 token (signature check, claims, cache insert).
func BenchmarkJWT(b *testing.B) {
	dir := b.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	keys := writeTestFile(b, dir, "keys.pem", string(pemPublic(b, &rsaKey.PublicKey))+string(pemPublic(b, &ecKey.PublicKey)))
	h := provisioned(b, &ChromaAuth{Handler: config.Handler{
		Tokens:         []string{"bench-token-0123456789"},
		ReloadInterval: -1,
		// unscoped, as the static token is: the same authorization work
		JWT: &JWTConfig{KeyFiles: []string{keys}, Secret: jwtTestSecret, Issuer: "bench", RoleClaim: "chroma.role"},
	},
	})
	h.limiter = nil
	path := "/api/v2/tenants/acme/databases/prod/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/query"
	claims := func(i int) map[string]any {
		return jwtClaims("bench", map[string]any{"jti": strconv.Itoa(i), "chroma": map[string]any{"role": "reader"}})
	}
	b.Run("static-token", func(b *testing.B) {
		r := benchRequest("POST", path)
		tok := []string{"Bearer bench-token-0123456789"}
		runHandler(b, h, r, func(hd http.Header) { hd["Authorization"] = tok }, http.StatusOK)
	})
	for _, alg := range []string{"HS256", "RS256", "ES256"} {
		key := map[string]any{"HS256": []byte(jwtTestSecret), "RS256": rsaKey, "ES256": ecKey}[alg]
		b.Run("cached-"+alg, func(b *testing.B) {
			r := benchRequest("POST", path)
			tok := []string{"Bearer " + signJWT(b, key, alg, "", claims(-1))}
			runHandler(b, h, r, func(hd http.Header) { hd["Authorization"] = tok }, http.StatusOK)
		})
	}
	for _, alg := range []string{"RS256", "ES256"} {
		key := map[string]any{"RS256": rsaKey, "ES256": ecKey}[alg]
		b.Run("first-request-"+alg, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			code := 0
			next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { code = http.StatusOK; return nil })
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := benchRequest("POST", path)
				r.Header.Set("Authorization", "Bearer "+signJWT(b, key, alg, "", claims(i)))
				code = 0
				b.StartTimer()
				_ = h.ServeHTTP(w, r, next)
				if code != http.StatusOK {
					b.Fatal("a fresh token was not let through")
				}
			}
		})
	}
}
