package explain

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// fakeJudge decides as a handler would, by the rules of the test: it
// resolves the collection cid by id (so that the lookup is asked) and
// allows; it authenticates the header it sees.
type fakeJudge struct {
	pol     *config.Policy
	header  string
	jwt     bool
	gotAuth http.Header // the headers Authenticate saw
	closed  bool
}

func (j *fakeJudge) Policy() *config.Policy      { return j.pol }
func (j *fakeJudge) TokenHeader() string         { return j.header }
func (j *fakeJudge) JWT() bool                   { return j.jwt }
func (j *fakeJudge) Close()                      { j.closed = true }
func (j *fakeJudge) Public(r *http.Request) bool { return r.URL.Path == "/api/v2/heartbeat" }

func (j *fakeJudge) Authenticate(r *http.Request) (*providers.Identity, authz.Decision) {
	j.gotAuth = r.Header.Clone()
	return nil, authz.Decision{Verdict: authz.VerdictUnauthenticated, Status: http.StatusUnauthorized, Reason: "invalid_credentials"}
}

func (j *fakeJudge) Decide(r *http.Request, id *providers.Identity, owners authz.OwnerResolver) authz.Decision {
	if _, err := owners.Resolve(r.Context(), "t", "d", cid); err != nil {
		return authz.Unavailable(id, nil, err)
	}
	return authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Identity: id}
}

func policy(t *testing.T) *config.Policy {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(path, []byte("users:\n  - id: alice\n    tokens: [tok-alice-0123]\n"), 0o600))
	creds, err := providers.Load(providers.Sources{TokenFiles: []string{path}})
	require.NoError(t, err)
	return &config.Policy{Creds: creds}
}

// cid is the collection the fake judge resolves by id.
const cid = "6d5a0b2e-0000-4000-8000-000000000001"

const handlerJSON = `{"handler":"chroma_auth","tokens":["tok-x"]}`

func open(t *testing.T, j *fakeJudge, upstream string) cli.Explainer {
	t.Helper()
	var got *config.Handler
	e, err := Open(json.RawMessage(handlerJSON), upstream, func(c *config.Handler) (Judge, error) { got = c; return j, nil })
	require.NoError(t, err)
	require.Equal(t, []string{"tok-x"}, got.Tokens, "the judge is opened with the handler's config")
	return e
}

// TestOpenRefusesBadInput: a config that does not decode, an upstream
// that is no Chroma URL and a judge that does not load are errors.
func TestOpenRefusesBadInput(t *testing.T) {
	never := func(*config.Handler) (Judge, error) { t.Error("the judge was opened"); return nil, nil }
	_, err := Open(json.RawMessage(`{"handler":"chroma_auth","no_such_field":1}`), "", never)
	assert.ErrorContains(t, err, "config: ")
	_, err = Open(json.RawMessage(handlerJSON), "chroma:8000", never)
	assert.ErrorContains(t, err, "--upstream")
	_, err = Open(json.RawMessage(handlerJSON), "", func(*config.Handler) (Judge, error) { return nil, errors.New("boom") })
	assert.EqualError(t, err, "boom")
}

// TestExplain: a public route is allowed as public; a user the files do
// not name is an error; a token goes in the handler's token header; a
// by-id decision without an upstream names the lookup it could not make,
// and with one asks it.
func TestExplain(t *testing.T) {
	ctx := context.Background()
	j := &fakeJudge{pol: policy(t), header: authz.HeaderAuthorization}
	e := open(t, j, "")
	x, err := e.Explain(ctx, cli.As{User: "alice"}, cli.Request{Method: "GET", Path: "/api/v2/heartbeat"})
	require.NoError(t, err)
	assert.True(t, x.Decision.Public)

	_, err = e.Explain(ctx, cli.As{User: "nobody"}, cli.Request{Method: "GET", Path: "/api/v2/x"})
	assert.ErrorContains(t, err, `user "nobody"`)
	_, err = e.Explain(ctx, cli.As{User: "alice"}, cli.Request{Method: "GET", Path: "http://elsewhere/api"})
	assert.ErrorContains(t, err, "want a method and a path")
	_, err = e.Explain(ctx, cli.As{JWT: "eyJ.x.y"}, cli.Request{Method: "GET", Path: "/api/v2/x"})
	assert.ErrorContains(t, err, "no jwt block")

	x, err = e.Explain(ctx, cli.As{Token: "tok-y"}, cli.Request{Method: "GET", Path: "/api/v2/x"})
	require.NoError(t, err)
	assert.Equal(t, "Bearer tok-y", j.gotAuth.Get("Authorization"))
	assert.Equal(t, authz.VerdictUnauthenticated, x.Decision.Verdict)
	j.header = authz.HeaderChromaToken
	_, err = e.Explain(ctx, cli.As{Key: "key-z"}, cli.Request{Method: "GET", Path: "/api/v2/x"})
	require.NoError(t, err)
	assert.Equal(t, "key-z", j.gotAuth.Get("X-Chroma-Token"))

	x, err = e.Explain(ctx, cli.As{User: "alice"}, cli.Request{Method: "GET", Path: "/api/v2/tenants/t/databases/d/collections/" + cid})
	require.NoError(t, err)
	assert.Equal(t, authz.VerdictUnavailable, x.Decision.Verdict, "%v", x.Decision.Err)
	require.Len(t, x.Unknown, 1)
	assert.Contains(t, x.Unknown[0], "GET /api/v2/tenants/t/databases/d/collections/by-id/"+cid)
	require.NotNil(t, x.Route, "a decision without a route is explained by its path")
	e.Close()
	assert.True(t, j.closed)

	var asked string
	chroma := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.Method + " " + r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"` + cid + `","name":"docs","tenant":"t","database":"d"}`))
	}))
	defer chroma.Close()
	e = open(t, &fakeJudge{pol: policy(t), header: authz.HeaderAuthorization}, chroma.URL+"/")
	x, err = e.Explain(ctx, cli.As{User: "alice"}, cli.Request{Method: "GET", Path: "/api/v2/tenants/t/databases/d/collections/" + cid})
	require.NoError(t, err)
	assert.Equal(t, "GET /api/v2/tenants/t/databases/d/collections/by-id/"+cid, asked)
	assert.Empty(t, x.Unknown)
}
