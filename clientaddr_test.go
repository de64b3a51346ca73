package chromaauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// balancedGateway runs chroma_auth behind a balancer Caddy trusts
// (loopback and 10/8), with a failure budget of 3 and the audit in a file.
func balancedGateway(t *testing.T, strict bool) (*gateway, string) {
	t.Helper()
	dir := t.TempDir()
	htpasswd := writeHtpasswd(t, dir, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	auditFile := filepath.Join(dir, "audit.log")
	strictLine := ""
	if strict {
		strictLine = "trusted_proxies_strict"
	}
	port := freePort(t)
	cfg := fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
	servers {
		trusted_proxies static 127.0.0.1/32 10.0.0.0/8
		%s
	}
	log {
		level ERROR
		exclude http.handlers.chroma_auth.audit
	}
	log audit {
		output file %s
		format json
		include http.handlers.chroma_auth.audit
	}
}

http://127.0.0.1:%d {
	chroma_auth {
		basic %s
		failures_per_minute 3
		audit
	}
	respond "ok"
}
`, strictLine, auditFile, port, htpasswd)
	return serveConfig(t, port, cfg), auditFile
}

// TestLimiterKeysOnNearestUntrusted (issue 20): behind a balancer Caddy
// trusts, a client that writes a new address left of X-Forwarded-For on
// each try keeps spending one budget, the one of the address its balancer
// appends, whether the server is strict or not; another client keeps its
// own; the audit names the same address.
func TestLimiterKeysOnNearestUntrusted(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			g, auditFile := balancedGateway(t, strict)
			try := func(xff, user, pass string) int {
				resp, _ := g.do(t, "GET", "/api/v2/tenants/t/databases/d/collections", map[string]string{
					"Authorization": basicHeader(user, pass), "X-Forwarded-For": xff,
				})
				return resp.StatusCode
			}
			for i := 0; i < 3; i++ {
				require.Equal(t, http.StatusUnauthorized, try(fmt.Sprintf("198.51.100.%d, 203.0.113.9", i+1), "alice", "wrong"), "try %d", i)
			}
			assert.Equal(t, http.StatusTooManyRequests, try("198.51.100.77, 203.0.113.9", "alice", "alice-pw"), "a new left is no new budget")
			assert.Equal(t, http.StatusTooManyRequests, try("203.0.113.9", "bob", "bob-pw"), "no left at all")
			assert.Equal(t, http.StatusTooManyRequests, try("192.0.2.1, 203.0.113.9, 10.0.0.3", "bob", "bob-pw"), "a second trusted hop")
			assert.Equal(t, http.StatusOK, try("198.51.100.1, 203.0.113.10", "alice", "alice-pw"), "another client keeps its budget")

			data, err := os.ReadFile(auditFile)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			require.Len(t, lines, 7, "%s", data)
			for i, line := range lines {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &m))
				want := "203.0.113.9"
				if i == 6 {
					want = "203.0.113.10"
				}
				assert.Equal(t, want, m["client_ip"], "line %d: %s", i, line)
			}
		})
	}
}
