package chromaauth

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Behind a trusted balancer that names no untrusted address (no
// X-Forwarded-For, or only trusted hops), the failures are counted against
// the balancer's own address, and the audit names it (clientaddr.go:75:
// the peer is the connection's address, "@" only for a Unix socket).
func TestOnlyTrustedHopsKeyOnThePeer(t *testing.T) {
	g, auditFile := balancedGateway(t, false)
	try := func(xff, user, pass string) int {
		h := map[string]string{"Authorization": basicHeader(user, pass)}
		if xff != "" {
			h["X-Forwarded-For"] = xff
		}
		resp, _ := g.do(t, "GET", "/api/v2/tenants/t/databases/d/collections", h)
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, try("", "alice", "wrong"))
	require.Equal(t, http.StatusUnauthorized, try("10.0.0.3", "alice", "wrong"))
	require.Equal(t, http.StatusUnauthorized, try("10.0.0.4, 127.0.0.1", "alice", "wrong"))
	assert.Equal(t, http.StatusTooManyRequests, try("", "bob", "bob-pw"), "one budget: the balancer's")
	assert.Equal(t, http.StatusOK, try("203.0.113.5", "bob", "bob-pw"), "a client it names keeps its own")

	data, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 5, "%s", data)
	for i, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		want := "127.0.0.1"
		if i == 4 {
			want = "203.0.113.5"
		}
		assert.Equal(t, want, m["client_ip"], "line %d: %s", i, line)
	}
}
