package chromaauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The audit names a collection addressed by id also for a caller the
// gateway does not scope, off the request's path: a cold burst of such
// requests for unknown ids is answered while the lookups are held (no
// answer waits), Chroma is asked once per id for the whole burst, every
// line names its collection once the answer comes (an id Chroma does not
// know keeps collection_id alone), and later requests are named from what
// was learned, with no new lookup.
func TestAuditNamesByIDOffThePath(t *testing.T) {
	up := newUpstream(t)
	docs, billing, nowhere := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", "9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77", "5b3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	up.byID = true
	up.collections = map[string][]string{"acme/prod": {docs, billing}}
	up.names = map[string]string{docs: "docs", billing: "billing"}
	gate := make(chan struct{})
	up.byIDGate = gate
	dir := t.TempDir()
	auditFile := filepath.Join(dir, "audit.log")
	port := freePort(t)
	g := serveConfig(t, port, fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
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
		token root-token-0123456789
		audit
	}
%s
}
`, auditFile, port, proxyTo(up)))
	ids := []string{docs, billing, nowhere}
	want := map[string]string{docs: "docs", billing: "billing", nowhere: ""}
	client := &http.Client{Timeout: 5 * time.Second}
	query := func(id string) error {
		req, err := http.NewRequest("POST", g.URL+"/api/v2/tenants/acme/databases/prod/collections/"+id+"/query", strings.NewReader(`{}`))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer root-token-0123456789")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	const burst = 60
	errs := make([]error, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = query(ids[i%3]) }(i)
	}
	wg.Wait() // with every by-id answer held
	for i, err := range errs {
		require.NoError(t, err, "request %d waited for the audit's lookup, or failed", i)
	}
	close(gate)
	lines := waitAuditLines(t, auditFile, burst)
	for _, l := range lines {
		id, _ := l["collection_id"].(string)
		require.Contains(t, want, id, "%v", l)
		if want[id] == "" {
			assert.Nil(t, l["collection"], "%v", l)
		} else {
			assert.Equal(t, want[id], l["collection"], "%v", l)
		}
		assert.Equal(t, "allowed", l["decision"])
		assert.EqualValues(t, 200, l["status"])
	}
	byID := func() map[string]int {
		n := map[string]int{}
		for _, s := range up.requests() {
			if i := strings.Index(s.URI, "/by-id/"); i >= 0 {
				n[s.URI[i+len("/by-id/"):]]++
			}
		}
		return n
	}
	assert.Equal(t, map[string]int{docs: 1, billing: 1, nowhere: 1}, byID(), "one lookup per id for the burst")

	for _, id := range ids {
		require.NoError(t, query(id))
	}
	lines = waitAuditLines(t, auditFile, burst+3)
	for _, l := range lines[burst:] {
		id, _ := l["collection_id"].(string)
		if want[id] != "" {
			assert.Equal(t, want[id], l["collection"], "%v", l)
		}
	}
	assert.Equal(t, map[string]int{docs: 1, billing: 1, nowhere: 1}, byID(), "named from what was learned; a miss is not asked again at once")
}

// waitAuditLines polls the audit file until it holds n lines, and returns
// them.
func waitAuditLines(t *testing.T, file string, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(file)
		lines = lines[:0]
		for _, s := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if s == "" {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(s), &m), s)
			lines = append(lines, m)
		}
		if len(lines) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Len(t, lines, n)
	return lines
}
