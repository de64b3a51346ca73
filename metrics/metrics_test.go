package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsSurviveAReload: the metrics are one process-wide set; a
// second config's registry takes them as they are (no error, counts
// kept), and the counters count.
func TestMetricsSurviveAReload(t *testing.T) {
	require.NoError(t, Init(prometheus.NewRegistry()))
	before := testutil.ToFloat64(RequestsVec().WithLabelValues("allowed"))
	Request("allowed")
	Denied("forbidden")
	reg := prometheus.NewRegistry()
	require.NoError(t, Init(reg), "a reload registers the same set again")
	require.NoError(t, Init(reg), "twice in one registry is no error either")
	assert.Equal(t, before+1, testutil.ToFloat64(RequestsVec().WithLabelValues("allowed")))
	assert.GreaterOrEqual(t, testutil.ToFloat64(DeniedVec().WithLabelValues("forbidden")), 1.0)
	n, err := testutil.GatherAndCount(reg, "caddy_chroma_auth_requests_total", "caddy_chroma_auth_denied_total")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 2)

	require.NoError(t, InitShared(reg))
	require.NoError(t, InitShared(reg))
	SharedUp("redis://h:1/0", true)
	assert.Equal(t, 1.0, testutil.ToFloat64(SharedUpGauge("redis://h:1/0")))
	SharedUp("redis://h:1/0", false)
	assert.Equal(t, 0.0, testutil.ToFloat64(SharedUpGauge("redis://h:1/0")))
	SharedGone("redis://h:1/0")
}
