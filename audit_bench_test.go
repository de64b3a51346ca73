package chromaauth

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// BenchmarkAudit is the per-request cost of the audit log: off (it must
// cost nothing: compare the allocations with BenchmarkHandler) and on, its
// lines written as JSON to a file as Caddy's `output file` does, for an
// allowed API-key request and a refused one. Each run gets a fresh request
// id, as each request does in Caddy.
//
//	go test -run '^$' -bench BenchmarkAudit -benchmem .
func BenchmarkAudit(b *testing.B) {
	dir := b.TempDir()
	keysFile, keys := writeKeys(b, dir, providers.KeyEntry{User: "alice"})
	target := "/api/v2/tenants/default_tenant/databases/default_database/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/query"
	for _, mode := range []string{"off", "on-file", "on-discard"} {
		h := provisioned(b, &ChromaAuth{Handler: config.Handler{KeysFile: keysFile, ReloadInterval: -1, FailuresPerMinute: -1}})
		if mode != "off" {
			f, err := os.Create(filepath.Join(dir, "audit.log"))
			if mode == "on-discard" {
				f, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
			h.Audit = &Audit{}
			h.auditLog = zap.New(zapcore.NewCore(enc, zapcore.AddSync(f), zap.InfoLevel)).Named("http.handlers.chroma_auth.audit")
		}
		for _, c := range []struct {
			name string
			auth []string
			want int
		}{
			{"key-allowed", []string{"Bearer " + keys[0]}, http.StatusOK},
			{"rejected-missing", nil, http.StatusUnauthorized},
		} {
			b.Run(mode+"/"+c.name, func(b *testing.B) {
				r := auditRequest("POST", target, nil)
				vars := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
				w := &discardWriter{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					if c.auth != nil {
						r.Header["Authorization"] = c.auth
					}
					delete(vars, "uuid")
					clear(w.h)
					_ = h.ServeHTTP(w, r, okNext)
				}
			})
		}
	}
}
