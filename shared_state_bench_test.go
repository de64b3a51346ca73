package chromaauth

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared/redistest"
)

// BenchmarkSharedStateAllowed is the allowed path of one identity with a
// rate quota (far above what the benchmark sends): without limits, with
// the rate counted in memory, and with it counted in a real Redis through
// leases. The shared run should cost about what the local one does: one
// Redis call per lease (100 000 requests at this rate), none per request.
//
//	go test -run '^$' -bench BenchmarkSharedStateAllowed -benchtime 200000x .
func BenchmarkSharedStateAllowed(b *testing.B) {
	lim := &QuotaConfig{Limits: quota.Limits{Rate: 1e6, Burst: 1e6}}
	for _, c := range []struct {
		name   string
		limits *QuotaConfig
		redis  bool
	}{{"no_limits", nil, false}, {"local", lim, false}, {"shared", lim, true}} {
		b.Run(c.name, func(b *testing.B) {
			h := &ChromaAuth{Handler: config.Handler{Tokens: []string{"tok"}, ReloadInterval: -1, Limits: c.limits}}
			if c.redis {
				h.SharedState = &SharedState{URL: redistest.Start(b, "").URL()}
			}
			h = provisioned(b, h)
			if c.redis && !h.quota.SharedStore().Up() {
				b.Fatal("Redis does not answer")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r := auditRequest("GET", quotaColl, map[string]string{"Authorization": "Bearer tok"})
				w := httptest.NewRecorder()
				if err := h.ServeHTTP(w, r, okNext); err != nil || w.Code != http.StatusOK {
					b.Fatalf("%v %d", err, w.Code)
				}
			}
		})
	}
}
