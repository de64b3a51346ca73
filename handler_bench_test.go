package chromaauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

// discardWriter is a ResponseWriter that costs nothing, so the benchmarks
// below measure the handler alone.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// benchRequest is one request reused across iterations, with the context
// Caddy's server gives a request (replacer and vars).
func benchRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "192.0.2.1:1234"
	repl := caddy.NewReplacer()
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	return r.WithContext(ctx)
}

func benchHandler(t testing.TB) *ChromaAuth {
	dir := t.TempDir()
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ht := writeTestFile(t, dir, "server.htpasswd", "alice:"+string(h)+"\n")
	return provisioned(t, &ChromaAuth{Handler: config.Handler{HtpasswdFile: ht, Tokens: []string{"bench-token-0123456789"}, ReloadInterval: -1}})
}

// runHandler serves r b.N times; set puts the credential headers back
// before each run, as the handler strips them.
func runHandler(b *testing.B, h *ChromaAuth, r *http.Request, set func(http.Header), want int) {
	w := &discardWriter{h: http.Header{}}
	code := 0
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		code = http.StatusOK
		return nil
	})
	b.ReportAllocs()
	for b.Loop() {
		set(r.Header)
		clear(w.h)
		code = 0
		_ = h.ServeHTTP(w, r, next)
	}
	if want == http.StatusOK && code != http.StatusOK {
		b.Fatalf("request was not let through")
	}
}

// BenchmarkHandler is the per-request cost of chroma_auth on each path a
// request can take (issue: allocations per request on the hot path).
func BenchmarkHandler(b *testing.B) {
	h := benchHandler(b)
	basic := []string{basicHeader("alice", "secret")}
	b.Run("cached-basic", func(b *testing.B) {
		r := benchRequest("GET", "/api/v2/tenants/default_tenant/databases/default_database/collections")
		if _, ok := h.auth.CachedBasic(h.policy.Load().Creds, "alice", "secret"); !ok {
			set := func(hd http.Header) { hd["Authorization"] = basic }
			set(r.Header)
			_ = h.ServeHTTP(&discardWriter{h: http.Header{}}, r, okNext) // verify once
		}
		runHandler(b, h, r, func(hd http.Header) { hd["Authorization"] = basic }, http.StatusOK)
	})
	b.Run("token", func(b *testing.B) {
		r := benchRequest("POST", "/api/v2/tenants/default_tenant/databases/default_database/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/query")
		tok := []string{"Bearer bench-token-0123456789"}
		runHandler(b, h, r, func(hd http.Header) { hd["Authorization"] = tok }, http.StatusOK)
	})
	b.Run("public", func(b *testing.B) {
		r := benchRequest("GET", "/api/v2/heartbeat")
		runHandler(b, h, r, func(http.Header) {}, http.StatusOK)
	})
	b.Run("rejected-missing", func(b *testing.B) {
		r := benchRequest("GET", "/api/v2/tenants/default_tenant")
		runHandler(b, h, r, func(http.Header) {}, http.StatusUnauthorized)
	})
	b.Run("rejected-bad-token", func(b *testing.B) {
		h := benchHandler(b)
		h.limiter = nil // measure the check, not the 429s it would turn into
		r := benchRequest("GET", "/api/v2/tenants/default_tenant")
		tok := []string{"Bearer wrong-token"}
		runHandler(b, h, r, func(hd http.Header) { hd["Authorization"] = tok }, http.StatusUnauthorized)
	})
}
