package chromaauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const grantUsers = `users:
  - id: reader
    tenant: acme
    databases: [prod]
    tokens: [tok-read]
    collections:
      "team-*": read
  - id: admin
    tenant: acme
    databases: [prod]
    tokens: [tok-admin]
    collections:
      "bot-*": admin
      "team-*": admin
  - id: nobody
    tenant: acme
    databases: [prod]
    tokens: [tok-none]
    collections: {}
`

// names lists the names of a listing's answer.
func names(t *testing.T, body string) []string {
	var list []struct{ Name string }
	require.NoError(t, json.Unmarshal([]byte(body), &list), body)
	out := []string{}
	for _, c := range list {
		out = append(out, c.Name)
	}
	return out
}

func TestFilteredListing(t *testing.T) {
	up := newUpstream(t)
	up.collections = map[string][]string{}
	up.names = map[string]string{}
	var want []string
	for i := 0; i < 2500; i++ { // more than one page of the gateway's own listing
		id := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		name := fmt.Sprintf("other-%04d", i)
		if i%100 == 7 {
			name = fmt.Sprintf("team-%04d", i)
			want = append(want, name)
		}
		up.collections["acme/prod"] = append(up.collections["acme/prod"], id)
		up.names[id] = name
	}
	users := writeTestFile(t, t.TempDir(), "users.yaml", grantUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))
	base := "/api/v2/tenants/acme/databases/prod/collections"

	resp, body := g.do(t, "GET", base, bearer("tok-read"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, want, names(t, body), "exactly the readable collections")

	resp, body = g.do(t, "GET", base+"?limit=10&offset=20", bearer("tok-read"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, want[20:25], names(t, body), "limit and offset apply to the filtered list")

	resp, body = g.do(t, "GET", base+"?offset=100", bearer("tok-read"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "[]", body)

	resp, body = g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections_count", bearer("tok-read"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, fmt.Sprint(len(want)), body)

	resp, body = g.do(t, "GET", base, bearer("tok-none"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "[]", body, "collections: {} sees none")

	resp, _ = g.do(t, "GET", base+"?limit=-1", bearer("tok-read"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestGrantsFollowRenames(t *testing.T) {
	up := newUpstream(t)
	coll := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {coll}}
	up.names = map[string]string{coll: "bot-one"}
	users := writeTestFile(t, t.TempDir(), "users.yaml", grantUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))
	byID := "/api/v2/tenants/acme/databases/prod/collections/" + coll

	resp, body := g.doBody(t, "POST", byID+"/add", `{"ids":["a"]}`, bearer("tok-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, _ = g.doBody(t, "POST", byID+"/get", `{}`, bearer("tok-read"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "bot-one is not the reader's")
	resp, body = g.doBody(t, "PUT", byID, `{"new_name":"billing"}`, bearer("tok-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a rename out of the admin grant: %s", body)
	resp, body = g.doBody(t, "POST", byID+"/fork", `{"new_name":"other-copy"}`, bearer("tok-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "fork into a name without admin: %s", body)
	resp, body = g.doBody(t, "PUT", byID, `{"new_name":"team-two"}`, bearer("tok-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	// The gateway judges the collection by its new name from now on.
	resp, body = g.doBody(t, "POST", byID+"/get", `{}`, bearer("tok-read"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, _ = g.doBody(t, "POST", byID+"/add", `{"ids":["b"]}`, bearer("tok-read"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "read is not write")
}
