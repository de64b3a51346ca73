package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restartUsers: a user of one tenant and database, and one of another.
const restartUsers = `users:
  - id: scoped
    tenant: %[1]s
    databases: [%[2]s]
    tokens: [%[3]s]
  - id: other
    tenant: %[4]s
    databases: [%[2]s]
    tokens: [%[5]s]
`

// restartEnv is a gateway in front of a Chroma of the test's own, with a
// Basic user of everything and two scoped token users.
type restartEnv struct {
	chroma        *ownChroma
	g             *prodGateway
	client        *http.Client // keep-alive
	creds         prodCreds
	tenant, other string
	db            string
	scoped, elsew credential // the scoped user, the user of the other tenant
}

func newRestartEnv(t *testing.T) *restartEnv {
	t.Helper()
	e := &restartEnv{chroma: startOwnChroma(t), creds: newProdCreds(t, 0),
		tenant: uniqueName("rst"), other: uniqueName("rsto"), db: "prod"}
	e.chroma.createTenantAndDatabase(t, e.tenant, e.db)
	e.chroma.createTenantAndDatabase(t, e.other, e.db)
	e.scoped = credential{kind: credBearer, token: "scoped-" + randomHex(12)}
	e.elsew = credential{kind: credBearer, token: "other-" + randomHex(12)}
	users := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(users, fmt.Appendf(nil, restartUsers, e.tenant, e.db, e.scoped.token, e.other, e.elsew.token), 0o600))
	e.g = startProdGateway(t, prodSite{upstreams: e.chroma.addr, lines: fmt.Sprintf(`	chroma_auth {
		basic %s
		token_file %s
		failures_per_minute off
	}`, e.creds.htpasswd, users)})
	c, err := trustingHTTPClient(e.g.caRoot)
	require.NoError(t, err)
	e.client = c
	return e
}

// dbPath is the v2 path of a tenant's database.
func (e *restartEnv) dbPath(tenant string) string {
	return "/api/v2/tenants/" + tenant + "/databases/" + e.db
}

func (e *restartEnv) do(t *testing.T, cred credential, method, path, body string) (int, []byte) {
	t.Helper()
	status, _, b := probe(t, e.client, method, e.g.url+path, cred, body)
	return status, b
}

// createCollection makes a collection through the gateway as cred, with
// one document, and returns its id.
func (e *restartEnv) createCollection(t *testing.T, cred credential, name string) string {
	t.Helper()
	status, body := e.do(t, cred, http.MethodPost, e.dbPath(e.tenant)+"/collections", fmt.Sprintf(`{"name":%q}`, name))
	require.Equal(t, http.StatusOK, status, "create %s: %s", name, body)
	var c struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(body, &c))
	status, body = e.do(t, cred, http.MethodPost, e.dbPath(e.tenant)+"/collections/"+c.ID+"/add",
		`{"ids":["`+name+`"],"embeddings":[[1,0,0]]}`)
	require.Equal(t, http.StatusCreated, status, "add to %s: %s", name, body)
	return c.ID
}

// getByID is a scoped by-id route: the documents of collection id, asked
// as cred through tenant's path.
func (e *restartEnv) getByID(t *testing.T, cred credential, tenant, id string) (int, []byte) {
	t.Helper()
	return e.do(t, cred, http.MethodPost, e.dbPath(tenant)+"/collections/"+id+"/get", `{"include":[]}`)
}

// TestProdChromaRestart stops Chroma under load and starts it again on the
// same port and data: meanwhile valid requests get 502 (the gateway's 503
// where it needed Chroma itself to learn a collection's owner), requests
// without or with a wrong credential get 401 and never reach anything, and
// afterwards everything answers again from the same gateway process.
func TestProdChromaRestart(t *testing.T) {
	e := newRestartEnv(t)
	name := uniqueName("rst-col")
	known := e.createCollection(t, e.scoped, name)
	basic := e.creds.basic()
	db := e.g.url + e.dbPath(e.tenant)
	l := startLoad(t.Context(), loadSpec{
		workers: 4, max: 40000, limit: 40 * time.Second,
		client: keepAliveClients(t, e.g.caRoot),
		next: func(_ int, i int64) loadReq {
			up := []int{http.StatusOK, http.StatusBadGateway}
			switch i % 4 {
			case 0:
				return loadReq{kind: "basic", method: http.MethodGet, url: db + "/collections_count", cred: basic, want: up}
			case 1:
				return loadReq{kind: "scoped", method: http.MethodPost, url: db + "/collections/" + known + "/get",
					cred: e.scoped, body: `{"include":[]}`, want: up}
			case 2:
				return loadReq{kind: "none", method: http.MethodGet, url: db + "/collections_count",
					want: []int{http.StatusUnauthorized}}
			}
			return loadReq{kind: "wrong", method: http.MethodPost, url: db + "/collections/" + known + "/get",
				cred: credential{kind: credBearer, token: e.scoped.token + "x"}, body: `{}`, want: []int{http.StatusUnauthorized}}
		},
	})
	waitForMore(t, l, "basic", http.StatusOK, 50)
	waitForMore(t, l, "scoped", http.StatusOK, 50)

	e.chroma.stop()
	waitForMore(t, l, "basic", http.StatusBadGateway, 0)
	waitForMore(t, l, "scoped", http.StatusBadGateway, 0)
	t.Run("while Chroma is down", func(t *testing.T) {
		status, _ := e.do(t, basic, http.MethodGet, e.dbPath(e.tenant)+"/collections_count", "")
		assert.Equal(t, http.StatusBadGateway, status, "valid Basic")
		status, _ = e.getByID(t, e.scoped, e.tenant, known)
		assert.Equal(t, http.StatusBadGateway, status, "scoped user, a collection the gateway knows")
		status, body := e.getByID(t, e.scoped, e.tenant, randomUUID())
		assert.Equal(t, http.StatusServiceUnavailable, status, "scoped user, an id the gateway must ask Chroma about: %s", body)
		status, _ = e.getByID(t, credential{}, e.tenant, known)
		assert.Equal(t, http.StatusUnauthorized, status, "no credential")
		status, _ = e.do(t, credential{}, http.MethodGet, "/api/v2/heartbeat", "")
		assert.Equal(t, http.StatusBadGateway, status, "public heartbeat")
	})

	e.chroma.start(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, _ := e.do(t, basic, http.MethodGet, e.dbPath(e.tenant)+"/collections_count", "")
		if status == http.StatusOK {
			break
		}
		require.True(t, time.Now().Before(deadline), "the gateway did not reach Chroma again: %d", status)
		time.Sleep(100 * time.Millisecond)
	}
	for _, kind := range []string{"basic", "scoped"} {
		waitForMore(t, l, kind, http.StatusOK, countOf(l, kind, http.StatusOK)+50)
	}
	stats := l.stop()
	t.Logf("Chroma restart under load: %s", stats.summary())
	stats.requireClean(t, "restart load")
	status, body := e.getByID(t, e.scoped, e.tenant, known)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, wantIDs(name)(status, body), "the data survived the restart")

	// A collection the gateway has not seen: it lists the database again
	// once the interval after the failed listing is over (503 until then,
	// never 403).
	later := e.chroma.direct(t, e.tenant, e.db).createCollection(uniqueName("rst-later"), map[string][]float32{"z": {0, 0, 1}})
	took := pollUntil(t, time.Now(), 10*time.Second, func() bool {
		status, body := e.getByID(t, e.scoped, e.tenant, later)
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, status, "%s", body)
		return status == http.StatusOK
	})
	t.Logf("a collection created behind the gateway after the restart: reachable by id after %v", took.Round(10*time.Millisecond))
	gone, _ := e.g.proc.exited()
	require.False(t, gone, "the same gateway process serves on")
}

// countOf is how many answers of kind the load has seen with status.
func countOf(l *load, kind string, status int) int {
	l.stats.mu.Lock()
	defer l.stats.mu.Unlock()
	return l.stats.count(kind, status)
}

// waitForMore waits (bounded) until the load has seen more than since
// answers of kind with status; its checks say each was allowed.
func waitForMore(t *testing.T, l *load, kind string, status, since int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for countOf(l, kind, status) <= since {
		require.True(t, time.Now().Before(deadline), "the load saw no more %s answered %d", kind, status)
		time.Sleep(20 * time.Millisecond)
	}
}

func randomUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// TestProdCollectionRecreated deletes a collection and creates it again
// with the same name while the gateway runs, once through the gateway and
// once behind its back (directly on Chroma). The scoped user reaches the
// new collection by its id; the old ids, which the gateway still knows
// as this database's, reach nothing (Chroma answers 404); the user of
// another tenant reaches none of them.
func TestProdCollectionRecreated(t *testing.T) {
	e := newRestartEnv(t)
	name := uniqueName("recreated")
	path := e.dbPath(e.tenant) + "/collections/" + name
	id1 := e.createCollection(t, e.scoped, name)
	status, body := e.getByID(t, e.scoped, e.tenant, id1)
	require.Equal(t, http.StatusOK, status, "%s", body)

	// Through the gateway: it learns the new id from the create answer.
	status, body = e.do(t, e.scoped, http.MethodDelete, path, "")
	require.Equal(t, http.StatusOK, status, "delete: %s", body)
	id2 := e.createCollection(t, e.scoped, name)
	require.NotEqual(t, id1, id2)
	status, body = e.getByID(t, e.scoped, e.tenant, id2)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, wantIDs(name)(status, body))

	// Behind its back: the new id is unknown; the gateway lists the
	// database once and finds it there.
	d := e.chroma.direct(t, e.tenant, e.db)
	d.deleteCollection(name)
	id3 := d.createCollection(name, map[string][]float32{"direct": {0, 1, 0}})
	status, body = e.getByID(t, e.scoped, e.tenant, id3)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, wantIDs("direct")(status, body))

	for _, old := range []string{id1, id2} {
		status, body = e.getByID(t, e.scoped, e.tenant, old)
		assert.Equal(t, http.StatusNotFound, status, "old id %s: %s", old, body)
		assert.NotContains(t, string(body), `"ids"`)
		status, body = e.do(t, e.scoped, http.MethodPost, e.dbPath(e.tenant)+"/collections/"+old+"/add",
			`{"ids":["late"],"embeddings":[[0,0,1]]}`)
		assert.Equal(t, http.StatusNotFound, status, "add to old id %s: %s", old, body)
	}
	assert.Equal(t, []string{"direct"}, d.ids(id3), "nothing was written through an old id")

	for _, id := range []string{id1, id2, id3} {
		status, body = e.getByID(t, e.elsew, e.other, id)
		assert.Equal(t, http.StatusForbidden, status, "other tenant's user, its own path, id %s: %s", id, body)
		status, body = e.getByID(t, e.elsew, e.tenant, id)
		assert.Equal(t, http.StatusForbidden, status, "other tenant's user, this tenant's path, id %s: %s", id, body)
	}
}
