package rowsproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const coll = "/api/v2/tenants/t/databases/d/collections/c"

func route(t *testing.T, method, path string) *authz.Route {
	t.Helper()
	rt := authz.ClassifyPath(method, httptest.NewRequest(method, path, nil).URL)
	return &rt
}

// TestVerdict: an identity with rows may use the record routes the rows
// rewrite and count; what acts on the whole collection is refused, and a
// bad rows map refuses everything (never widens).
func TestVerdict(t *testing.T) {
	id := &providers.Identity{User: "alice", Rows: map[string]string{"owner": "alice"}}
	assert.Empty(t, Verdict(id, route(t, http.MethodPost, coll+"/get")))
	assert.Empty(t, Verdict(id, route(t, http.MethodPost, coll+"/add")))
	assert.Empty(t, Verdict(id, route(t, http.MethodGet, coll+"/count")))
	assert.Equal(t, rowsRefusedWhole, Verdict(id, route(t, http.MethodDelete, coll)))
	assert.Equal(t, rowsRefusedWhole, Verdict(id, route(t, http.MethodPut, coll)))
	bad := &providers.Identity{User: "mallory", Rows: map[string]string{"$or": "x"}}
	assert.Equal(t, rowsRefusal, Verdict(bad, route(t, http.MethodPost, coll+"/get")))
}

// serve runs Serve on one request of alice's, allowed, with upstream as
// the rest of the chain.
func serve(t *testing.T, method, path, body string, header http.Header, upstream caddyhttp.HandlerFunc) (Result, *httptest.ResponseRecorder) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		r.Header[k] = v
	}
	id := &providers.Identity{User: "alice", Rows: map[string]string{"owner": "alice"}}
	d := &authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Identity: id, Route: route(t, method, path)}
	w := httptest.NewRecorder()
	return Serve(w, r, upstream, d, authz.NewOwners(16)), w
}

// TestServe: Serve says what it did for the handler to record: a route it
// does not rewrite goes on as anyone's; a rewritten get reaches the
// upstream filtered and is served; a compressed body, an upstream's 4xx
// to a count's get and a count are answered; a rewrite that finds
// another identity's record is refused.
func TestServe(t *testing.T) {
	never := func(http.ResponseWriter, *http.Request) error {
		t.Error("the upstream was asked")
		return nil
	}
	res, _ := serve(t, http.MethodGet, "/api/v2/tenants/t/databases/d/collections", "", nil, never)
	assert.Equal(t, Forward, res.Kind)

	var seen string
	res, w := serve(t, http.MethodPost, coll+"/get", `{"limit":1}`, nil, func(w http.ResponseWriter, r *http.Request) error {
		b, _ := io.ReadAll(r.Body)
		seen = string(b)
		w.WriteHeader(http.StatusOK)
		_, err := w.Write([]byte(`{"ids":[]}`))
		return err
	})
	require.Equal(t, Served, res.Kind)
	assert.Equal(t, http.StatusOK, res.D.Status)
	assert.Contains(t, seen, `"owner"`, "the get reached the upstream with alice's filter")
	assert.Equal(t, `{"ids":[]}`, w.Body.String())

	res, _ = serve(t, http.MethodPost, coll+"/get", `{}`, http.Header{"Content-Encoding": {"gzip"}}, never)
	require.Equal(t, Answer, res.Kind)
	assert.Equal(t, http.StatusUnsupportedMediaType, res.Status)
	assert.Equal(t, authz.VerdictBadBody, res.D.Verdict)
	assert.Equal(t, rowsCompressedBody, res.D.Detail)

	res, _ = serve(t, http.MethodGet, coll+"/count", "", nil, func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		_, err := w.Write([]byte(`{"ids":["a","b","c"]}`))
		return err
	})
	require.Equal(t, Answer, res.Kind)
	assert.Equal(t, "3", string(res.Body))

	res, _ = serve(t, http.MethodGet, coll+"/count", "", nil, func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNotFound)
		_, err := w.Write([]byte(`{"error":"NotFoundError","message":"no such collection"}`))
		return err
	})
	require.Equal(t, Answer, res.Kind)
	assert.Equal(t, http.StatusNotFound, res.Status, "Chroma's 4xx is handed on as it came")

	res, _ = serve(t, http.MethodPost, coll+"/add", `{"ids":["x"],"metadatas":[{"owner":"bob"}]}`, nil, func(w http.ResponseWriter, r *http.Request) error {
		_, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
		return nil
	})
	require.Equal(t, Refuse, res.Kind, "a record stamped with another owner is refused")
	assert.Equal(t, authz.VerdictRefused, res.D.Verdict)
	assert.Equal(t, rowsRefusedRecord, res.D.Reason)
}
