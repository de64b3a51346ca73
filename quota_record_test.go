package chromaauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/metrics"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// TestQuotaRefusalsRecorded: a quota's refusal is counted and audited
// under its own names: 429 for the rate is rate_limited with reason
// quota_rate, a size is quota_exceeded with reason quota_size, and the
// audit line says which.
func TestQuotaRefusalsRecorded(t *testing.T) {
	h, logs := observed(t, &ChromaAuth{Handler: config.Handler{Tokens: []string{"tok"}, Audit: &Audit{}, ReloadInterval: -1,
		Limits: &QuotaConfig{Limits: quota.Limits{Rate: 1.0 / 60, Burst: 1, MaxBatch: 1}}}})
	denied := func(reason string) float64 { return testutil.ToFloat64(metrics.DeniedVec().WithLabelValues(reason)) }
	result := func(r string) float64 { return testutil.ToFloat64(metrics.RequestsVec().WithLabelValues(r)) }
	rate0, size0, limited0, exceeded0 := denied(reasonQuotaRate), denied(reasonQuotaSize), result(resultRateLimited), result(resultQuota)

	serve := func(method, body string) int {
		r := auditRequest(method, quotaColl+"/add", map[string]string{"Authorization": "Bearer tok"})
		if body != "" {
			r.Body = ioNopCloser(body)
			r.ContentLength = int64(len(body))
		}
		w := httptest.NewRecorder()
		require.NoError(t, h.ServeHTTP(w, r, okNext))
		return w.Code
	}
	lastDecision := func() (string, any) {
		all := logs.TakeAll()
		require.Len(t, all, 1)
		m := all[0].ContextMap()
		return m["decision"].(string), m["status"]
	}

	assert.Equal(t, http.StatusBadRequest, serve("POST", `{"ids":["a","b"],"embeddings":[[1],[2]]}`))
	d, status := lastDecision()
	assert.Equal(t, audit.DecisionQuota, d)
	assert.EqualValues(t, 400, status)
	assert.Equal(t, size0+1, denied(reasonQuotaSize))
	assert.Equal(t, exceeded0+1, result(resultQuota))

	// the refused add spent the burst of 1 (a size is checked after the rate)
	assert.Equal(t, http.StatusTooManyRequests, serve("POST", `{"ids":["a"],"embeddings":[[1]]}`))
	d, status = lastDecision()
	assert.Equal(t, audit.DecisionRateLimited, d)
	assert.EqualValues(t, 429, status)
	assert.Equal(t, rate0+1, denied(reasonQuotaRate))
	assert.Equal(t, limited0+1, result(resultRateLimited))
}

type nopBody struct{ *strings.Reader }

func (nopBody) Close() error { return nil }

func ioNopCloser(s string) nopBody { return nopBody{strings.NewReader(s)} }
