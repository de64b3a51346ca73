package chromaauth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHiddenIDAnsweredLikeMadeUpThroughTheGateway (issue 20, the timing
// oracle): through the gateway, a collection id the caller may not see
// (known to the gateway) and a made-up id cost the same upstream lookup
// and get the same answer; counted, not timed.
func TestHiddenIDAnsweredLikeMadeUpThroughTheGateway(t *testing.T) {
	const (
		team   = "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
		secret = "1d4d3f2e-7d41-4b0a-9a53-5f2c1a9e8b77"
		madeUp = "2e5e4f3e-7d41-4b0a-9a53-5f2c1a9e8b77"
	)
	up := newUpstream(t)
	up.byID = true
	up.collections = map[string][]string{"acme/prod": {team, secret}}
	up.names = map[string]string{team: "team-x", secret: "secret"}
	users := writeTestFile(t, t.TempDir(), "users.yaml", renameUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))
	count := func(id string) (int, string, int) {
		up.reset()
		resp, body := g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections/"+id+"/count", bearer("tok-read"))
		byID := 0
		for _, s := range up.requests() {
			if strings.Contains(s.URI, "/collections/by-id/") {
				byID++
			}
		}
		return resp.StatusCode, strings.ReplaceAll(body, id, "ID"), byID
	}
	status, _, _ := count(secret) // the gateway learns where secret lives, and its name
	require.Equal(t, http.StatusForbidden, status)

	hs, hb, hl := count(secret)
	ms, mb, ml := count(madeUp)
	assert.Equal(t, http.StatusForbidden, hs)
	assert.Equal(t, ms, hs)
	assert.Equal(t, mb, hb, "the same answer")
	assert.Equal(t, 1, ml, "a made-up id costs one by-id lookup")
	assert.Equal(t, ml, hl, "so does a hidden one the gateway knows")
}
