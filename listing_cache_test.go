package chromaauth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listings counts the listing sub-requests that reached the upstream.
func (u *upstream) listings() int {
	n := 0
	for _, s := range u.requests() {
		if s.Method == "GET" && strings.HasSuffix(strings.SplitN(s.URI, "?", 2)[0], "/collections") {
			n++
		}
	}
	return n
}

// Concurrent filtered listings of one database share one listing upstream,
// every caller still gets exactly its own collections, and a collection
// created through the gateway is in the very next listing.
func TestFilteredListingsShareOneListing(t *testing.T) {
	up := newUpstream(t)
	up.collections = map[string][]string{}
	up.names = map[string]string{}
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		up.collections["acme/prod"] = append(up.collections["acme/prod"], id)
		up.names[id] = fmt.Sprintf("team-%04d", i)
		if i%3 == 0 {
			up.names[id] = fmt.Sprintf("bot-%04d", i)
		}
	}
	// Slow listings: the burst below arrives while the first is on its way.
	up.listDelay = 200 * time.Millisecond
	users := writeTestFile(t, t.TempDir(), "users.yaml", grantUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))
	base := "/api/v2/tenants/acme/databases/prod/collections"

	const n = 24
	var wg sync.WaitGroup
	bodies := make([]string, n)
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := "tok-read"
			if i%2 == 1 {
				tok = "tok-admin"
			}
			req, _ := http.NewRequest("GET", g.URL+base, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			codes[i], bodies[i] = resp.StatusCode, string(b)
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		require.Equal(t, http.StatusOK, codes[i], "caller %d: %s", i, bodies[i])
		got := names(t, bodies[i])
		if i%2 == 1 {
			assert.Len(t, got, 300, "admin (team-* and bot-*) sees all")
		} else {
			assert.Len(t, got, 200, "reader (team-* only) sees the team collections")
			for _, name := range got {
				assert.True(t, strings.HasPrefix(name, "team-"), name)
			}
		}
	}
	assert.Less(t, up.listings(), n/2, "concurrent filtered listings share the listing upstream")

	// A collection made through the gateway drops the shared listing.
	up.listDelay = 0
	resp, body := g.doBody(t, "POST", base, `{"name":"team-new"}`, bearer("tok-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var made struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &made))
	up.mu.Lock()
	up.names[made.ID] = "team-new"
	up.mu.Unlock()
	before := up.listings()
	resp, body = g.do(t, "GET", base, bearer("tok-read"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Len(t, names(t, body), 201, "the new collection is listed at once")
	assert.Equal(t, before+1, up.listings(), "the write dropped the kept listing")
}

func TestListingWrite(t *testing.T) {
	for _, c := range []struct {
		method, path string
		ok           bool
	}{
		{"POST", "/api/v2/tenants/a/databases/d/collections", true},
		{"PUT", "/api/v2/tenants/a/databases/d/collections/x", true},
		{"DELETE", "/api/v2/tenants/a/databases/d/collections/x", true},
		{"POST", "/api/v2/tenants/a/databases/d/collections/x/fork", true},
		{"DELETE", "/api/v2/tenants/a/databases/d", true},
		{"POST", "/api/v2/tenants/a/databases/d/collections/x/add", false},
		{"GET", "/api/v2/tenants/a/databases/d/collections", false},
		{"POST", "/api/v2/tenants/a/databases", false},
		{"POST", "/api/v2/other/a/databases/d/collections", false},
	} {
		r, _ := http.NewRequest(c.method, "http://x"+c.path, nil)
		tenant, db, ok := listingWrite(r)
		assert.Equal(t, c.ok, ok, "%s %s", c.method, c.path)
		if ok {
			assert.Equal(t, []string{"a", "d"}, []string{tenant, db}, "%s %s", c.method, c.path)
		}
	}
}
