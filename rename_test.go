package chromaauth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renameUsers: a reader of team-* in acme/prod, and an admin of every
// tenant, database and collection (unscoped: the gateway never reads its
// bodies).
const renameUsers = `users:
  - id: reader
    tenant: acme
    databases: [prod]
    tokens: [tok-read]
    collections:
      "team-*": read
  - id: root
    tokens: [tok-root]
`

// renameSetup: one collection, team-x, in acme/prod, and the reader's
// request by its id (allowed, so the gateway knows its name).
func renameSetup(t *testing.T, site string) (*upstream, *gateway, string, func() int) {
	up := newUpstream(t)
	coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {coll}}
	up.names = map[string]string{coll: "team-x"}
	users := writeTestFile(t, t.TempDir(), "users.yaml", renameUsers)
	g := startGateway(t, fmt.Sprintf(site, users)+"\n"+proxyTo(up))
	byID := "/api/v2/tenants/acme/databases/prod/collections/" + coll
	get := func() int {
		resp, _ := g.doBody(t, "POST", byID+"/get", `{}`, bearer("tok-read"))
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, get(), "team-x is the reader's")
	return up, g, byID, get
}

// TestRenameByUnscopedCallerSeenAtOnce (issue 20): a rename through the
// gateway by a caller of everything, whose body the gateway does not read
// (here also far over 1 MiB, and with the new name last), takes the old
// name's access away from the next request on, whatever the name TTL.
func TestRenameByUnscopedCallerSeenAtOnce(t *testing.T) {
	for name, body := range map[string]string{
		"small":        `{"new_name":"payroll"}`,
		"over 1 MiB":   `{"new_metadata":{"blob":"` + strings.Repeat("x", 3<<20) + `"},"new_name":"payroll"}`,
		"escaped name": `{"new_name":"\u0070ayroll"}`,
	} {
		t.Run(name, func(t *testing.T) {
			up, g, byID, get := renameSetup(t, "\tchroma_auth {\n\t\ttoken_file %s\n\t\tcollection_name_ttl 1h\n\t}")
			resp, out := g.doBody(t, "PUT", byID, body, bearer("tok-root"))
			require.Equal(t, http.StatusOK, resp.StatusCode, out)
			seen := up.requests()
			assert.Equal(t, body, seen[len(seen)-1].Body, "the update reached Chroma unchanged")
			// Chroma renamed it.
			up.mu.Lock()
			up.names["0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"] = "payroll"
			up.mu.Unlock()
			assert.Equal(t, http.StatusForbidden, get(), "team-x's id is payroll now")
		})
	}
}

// TestRenamePastTheGatewaySeenAfterTTL (issue 20): a rename made on Chroma
// directly is seen once collection_name_ttl has passed.
func TestRenamePastTheGatewaySeenAfterTTL(t *testing.T) {
	up, _, _, get := renameSetup(t, "\tchroma_auth {\n\t\ttoken_file %s\n\t\tcollection_name_ttl 50ms\n\t}")
	up.mu.Lock()
	up.names["0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"] = "payroll"
	up.mu.Unlock()
	waitStatus(t, get, http.StatusForbidden, "team-x's id is payroll now")
}
