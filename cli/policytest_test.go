package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// fakeExplainer allows GETs, refuses the rest, and remembers what it was
// opened on and asked.
type fakeExplainer struct {
	raw      string
	upstream string
	asked    []Request
	as       []As
	closed   bool
}

func (f *fakeExplainer) Explain(_ context.Context, as As, req Request) (Explanation, error) {
	f.asked, f.as = append(f.asked, req), append(f.as, as)
	d := authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Identity: &providers.Identity{User: "u", Tenant: "*", Databases: []string{"*"}}}
	switch {
	case as.Token == "bad":
		d = authz.Decision{Verdict: authz.VerdictUnauthenticated, Status: http.StatusUnauthorized, Reason: "invalid_credentials"}
	case req.Method != http.MethodGet:
		d.Verdict, d.Status, d.Reason, d.Rule.Check = authz.VerdictRefused, http.StatusForbidden, "no", "rbac"
	}
	return Explanation{Decision: d}, nil
}

func (f *fakeExplainer) Close() { f.closed = true }

func opener(f *fakeExplainer) OpenExplainer {
	return func(raw json.RawMessage, upstream string) (Explainer, error) {
		f.raw, f.upstream = string(raw), upstream
		return f, nil
	}
}

const twoSites = `{"apps":{"http":{"servers":{
 "a":{"listen":[":8443"],"routes":[{"match":[{"host":["gw.example.com"]}],"handle":[{"handler":"chroma_auth","tokens":["site-a"]}]}]},
 "b":{"listen":[":9443"],"routes":[{"handle":[{"handler":"subroute","routes":[{"handle":[{"handler":"chroma_auth","tokens":["site-b"]}]}]}]}]}
}}}}`

// --site picks the handler of a site by host and port; with several
// handlers and no --site (or one that matches none), exit 2 names them.
func TestExplainSite(t *testing.T) {
	config := filepath.Join(t.TempDir(), "caddy.json")
	require.NoError(t, os.WriteFile(config, []byte(twoSites), 0o600))
	run := func(site string) (*fakeExplainer, int, error, string) {
		f := &fakeExplainer{}
		io, out, _ := rw("")
		code, err := RunExplain(io, ExplainOptions{Config: config, Site: site, As: As{User: "u"}, Args: []string{"get", "/api/v2/x"}, Open: opener(f), Upstream: "http://chroma:8000"})
		return f, code, err, out.String()
	}
	for site, want := range map[string]string{
		"gw.example.com:8443":         "site-a",
		"https://gw.example.com:8443": "site-a",
		":9443":                       "site-b",
		"other.example.com:9443":      "site-b", // b's route has no host matcher
		"gw.example.com":              "site-a", // a's host matcher wins over b's catch-all
	} {
		f, code, err, out := run(site)
		require.NoError(t, err, site)
		assert.Equal(t, ExitOK, code, site)
		assert.Contains(t, f.raw, want, site)
		assert.Equal(t, "http://chroma:8000", f.upstream)
		assert.True(t, f.closed)
		assert.Equal(t, []Request{{Method: "GET", Path: "/api/v2/x", Body: []byte{}}}, f.asked, "the method upper-cased")
		assert.Contains(t, out, "decision: allowed (200)")
	}
	for _, site := range []string{"", ":7000", "other.example.com:8443"} {
		_, code, err, _ := run(site)
		assert.Equal(t, ExitUsage, code, site)
		require.Error(t, err, site)
		assert.Contains(t, err.Error(), "server a (:8443) › route host(gw.example.com)", site)
	}
}

func writeCases(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cases.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func oneHandler(t *testing.T) string {
	t.Helper()
	config := filepath.Join(t.TempDir(), "caddy.json")
	require.NoError(t, os.WriteFile(config, []byte(`{"apps":{"http":{"servers":{"a":{"listen":[":1"],"routes":[{"handle":[{"handler":"chroma_auth","tokens":["t"]}]}]}}}}}`), 0o600))
	return config
}

// test: 0 when every case holds, 1 naming each failing case with the
// decision it got; bodies as JSON, {env.*} in credentials.
func TestRunPolicyTest(t *testing.T) {
	t.Setenv("CASES_TOKEN", "from-env")
	cases := writeCases(t, `cases:
  - name: get is allowed
    as: {token: "{env.CASES_TOKEN}"}
    request: {method: get, path: /api/v2/a}
    expect: allow
  - name: post is refused
    as: {user: u}
    request: {method: POST, path: /api/v2/b, body: {ids: [1, "x"], n: null}}
    expect: deny
  - name: status
    as: {key: k}
    request: {method: DELETE, path: /api/v2/c, body: "raw text"}
    expect: 403
  - name: bad token is deny
    as: {token: bad}
    request: {method: GET, path: /api/v2/d}
    expect: deny
`)
	f := &fakeExplainer{}
	io, out, _ := rw("")
	code, err := RunPolicyTest(io, TestOptions{Config: oneHandler(t), Args: []string{cases}, Open: opener(f)})
	require.NoError(t, err, out.String())
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out.String(), "ok    post is refused")
	assert.Contains(t, out.String(), "OK: 4 case(s)")
	assert.Equal(t, "from-env", f.as[0].Token)
	assert.JSONEq(t, `{"ids":[1,"x"],"n":null}`, string(f.asked[1].Body))
	assert.Equal(t, "raw text", string(f.asked[2].Body))
	assert.Equal(t, "GET", f.asked[0].Method)

	failing := writeCases(t, `cases:
  - name: post is allowed
    as: {user: u}
    request: {method: POST, path: /api/v2/b}
    expect: allow
  - name: get is 403
    as: {user: u}
    request: {method: GET, path: /api/v2/a}
    expect: 403
  - name: get holds
    as: {user: u}
    request: {method: GET, path: /api/v2/a}
    expect: 200
`)
	io, out, _ = rw("")
	code, err = RunPolicyTest(io, TestOptions{Config: oneHandler(t), Args: []string{failing}, Open: opener(&fakeExplainer{})})
	assert.Equal(t, ExitFailed, code)
	assert.ErrorIs(t, err, ErrCasesFailed)
	assert.Contains(t, out.String(), "FAIL  post is allowed ("+failing+":2): expected allow, got refused (403)")
	assert.Contains(t, out.String(), "      refused by: rbac")
	assert.Contains(t, out.String(), "FAIL  get is 403 ("+failing+":6): expected 403, got allowed (200)")
	assert.Contains(t, out.String(), "ok    get holds")
	assert.Contains(t, out.String(), "2 of 3 case(s) failed")
}

// A cases file that is wrong is exit 2, naming the file and line.
func TestPolicyTestBadCases(t *testing.T) {
	config := oneHandler(t)
	for _, c := range []struct{ text, want string }{
		{"cases: []\n", "no cases"},
		{"case:\n  - name: x\n", "field case not found"},
		{"cases:\n  - name: x\n    as: {user: u}\n    request: {method: GET, path: /}\n    expect: maybe\n", `:2: case 1: "x": expect "maybe"`},
		{"cases:\n  - name: x\n    as: {user: u, token: t}\n    request: {method: GET, path: /}\n    expect: allow\n", "exactly one of"},
		{"cases:\n  - name: x\n    as: {}\n    request: {method: GET, path: /}\n    expect: allow\n", "exactly one of"},
		{"cases:\n  - name: x\n    as: {user: u}\n    request: {path: /}\n    expect: allow\n", "a method and a path"},
		{"cases:\n  - as: {user: u}\n    request: {method: GET, path: /}\n    expect: allow\n", "no name"},
		{"cases:\n  - name: x\n    as: {user: u}\n    request: {method: GET, path: /, header: 1}\n    expect: allow\n", "field header not found"},
		{"cases:\n  - name: x\n    as: {token: \"{env.NOPE_UNSET_VAR}\"}\n    request: {method: GET, path: /}\n    expect: allow\n", "unset variable"},
		{"cases:\n  - name: x\n    as: {user: u}\n    request: {method: GET, path: /}\n    expect: allow\n  - name: x\n    as: {user: u}\n    request: {method: GET, path: /}\n    expect: deny\n", `:6: case "x": the name is taken at line 2`},
	} {
		path := writeCases(t, c.text)
		io, _, _ := rw("")
		code, err := RunPolicyTest(io, TestOptions{Config: config, Args: []string{path}, Open: opener(&fakeExplainer{})})
		assert.Equal(t, ExitUsage, code, c.text)
		if assert.Error(t, err, c.text) {
			assert.Contains(t, err.Error(), path, c.text)
			assert.Contains(t, err.Error(), c.want, c.text)
		}
	}
	io, _, _ := rw("")
	code, err := RunPolicyTest(io, TestOptions{Config: config, Open: opener(&fakeExplainer{})})
	assert.Equal(t, ExitUsage, code)
	assert.ErrorContains(t, err, "one cases file")
	code, _ = RunPolicyTest(io, TestOptions{Config: filepath.Join(t.TempDir(), "none.json"), Args: []string{writeCases(t, "cases:\n  - name: x\n    as: {user: u}\n    request: {method: GET, path: /}\n    expect: allow\n")}, Open: opener(&fakeExplainer{})})
	assert.Equal(t, ExitUsage, code)
}
