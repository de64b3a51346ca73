package chromaauth

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

// explainFixture is one gateway config, served by a real Caddy and
// written to a Caddyfile for explain, over a stand-in Chroma that knows
// two collections of acme/prod.
type explainFixture struct {
	up                 *upstream
	g                  *gateway
	config             string
	docs, billing, key string
	jwt                string
}

func newExplainFixture(t *testing.T) *explainFixture {
	f := &explainFixture{up: newUpstream(t), docs: "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", billing: "9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77"}
	f.up.byID = true
	f.up.collections = map[string][]string{"acme/prod": {f.docs, f.billing}}
	f.up.names = map[string]string{f.docs: "docs", f.billing: "billing"}
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", `users:
  - id: alice
    role: reader
    tenant: acme
    databases: [prod]
    collections: {"doc*": write}
    tokens: [alice-token-0123456789]
  - id: rowan
    role: reader
    tenant: acme
    databases: [prod]
    rows: {owner: rowan}
    tokens: [rowan-token-0123456789]
  - id: root
    role: admin
    tokens: [root-token-0123456789]
`)
	authzFile := writeTestFile(t, dir, "authz.yaml", `roles_mapping:
  reader:
    actions: [db:list_collections, collection:get_collection, collection:get, collection:query, collection:add, collection:count, collection:delete_collection]
  admin:
    actions: [db:list_collections, collection:get_collection, collection:get, collection:query, collection:add, collection:delete_collection, db:create_collection]
users:
  - id: alice
    role: reader
  - id: rowan
    role: reader
  - id: root
    role: admin
`)
	keys := filepath.Join(dir, "keys.jsonl")
	var out, errOut bytes.Buffer
	_, err := cli.RunKey(cli.IO{Stdout: &out, Stderr: &errOut}, cli.KeyArgs{Op: "create", File: keys, User: "alice", Tenant: "acme", Databases: "prod", Role: "reader", Collections: "docs=read"})
	require.NoError(t, err, errOut.String())
	f.key = strings.TrimSpace(out.String())
	secret := writeTestFile(t, dir, "secret", strings.Repeat("s", 40))
	f.jwt, err = cli.MintJWT(cli.JWTArgs{SecretFile: secret, Subject: "alice", Tenant: "acme", Databases: []string{"prod"}, Role: "reader", Collections: []string{"docs=read"}, Lifetime: time.Hour}, time.Now())
	require.NoError(t, err)
	port := freePort(t)
	text := caddyfileSite(port, fmt.Sprintf(`	chroma_auth {
		users_file %[1]s
		token_file %[1]s
		keys_file %[2]s
		authz %[3]s
		jwt {
			secret_file %[4]s
			tenant_claim chroma.tenant
			databases_claim chroma.databases
			role_claim chroma.role
			collections_claim chroma.collections
		}
	}
%[5]s`, users, keys, authzFile, secret, proxyTo(f.up)))
	f.config = writeTestFile(t, dir, "Caddyfile", text)
	f.g = serveConfig(t, port, text)
	return f
}

// explain runs `caddy chroma-auth explain` in-process.
func (f *explainFixture) explain(t *testing.T, as cli.As, method, path, body string, upstream bool) (int, string) {
	var out bytes.Buffer
	o := cli.ExplainOptions{Config: f.config, As: as, Args: []string{method, path}, Body: body, Open: openExplainer}
	if upstream {
		o.Upstream = f.up.URL
	}
	code, err := cli.RunExplain(cli.IO{Stdout: &out, Stderr: &out}, o)
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	return code, out.String()
}

// explain decides as the gateway does: for every request of a table
// (public, unauthenticated, scope, RBAC, grants by name and by id, a body
// the gateway refuses, rows, filtered listings, tokens, API keys, JWTs),
// explain's exit status and decision match the gateway's answer, and
// explain never sends the request itself.
func TestExplainAgreesWithGateway(t *testing.T) {
	f := newExplainFixture(t)
	base := "/api/v2/tenants/acme/databases/prod/collections"
	alice, rowan, root := "alice-token-0123456789", "rowan-token-0123456789", "root-token-0123456789"
	cases := []struct {
		name, token, method, path, body string
		as                              cli.As
	}{
		{"public", "", "GET", "/api/v2/heartbeat", "", cli.As{User: "alice"}},
		{"wrong token", "nope-0123456789", "GET", base, "", cli.As{Token: "nope-0123456789"}},
		{"other tenant", alice, "GET", "/api/v2/tenants/beta/databases/prod/collections", "", cli.As{Token: alice}},
		{"listing filtered", alice, "GET", base, "", cli.As{User: "alice"}},
		{"by name granted", alice, "GET", base + "/docs", "", cli.As{User: "alice"}},
		{"by name not granted", alice, "GET", base + "/billing", "", cli.As{User: "alice"}},
		{"by id granted", alice, "POST", base + "/" + f.docs + "/get", "{}", cli.As{User: "alice"}},
		{"by id not granted", alice, "POST", base + "/" + f.billing + "/get", "{}", cli.As{User: "alice"}},
		{"by id unknown", alice, "POST", base + "/5b3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/get", "{}", cli.As{Token: alice}},
		{"rbac refuses", alice, "POST", base + "/" + f.docs + "/upsert", "{}", cli.As{User: "alice"}},
		{"bad body", alice, "POST", base, "{not json", cli.As{User: "alice"}},
		{"rows delete collection", rowan, "DELETE", base + "/docs", "", cli.As{User: "rowan"}},
		{"rows get", rowan, "POST", base + "/" + f.docs + "/get", "{}", cli.As{User: "rowan"}},
		{"root deletes", root, "DELETE", base + "/docs", "", cli.As{Token: root}},
		{"root creates", root, "POST", base, `{"name":"x"}`, cli.As{User: "root"}},
		{"key reads docs", f.key, "POST", base + "/" + f.docs + "/get", "{}", cli.As{Key: f.key}},
		{"key writes docs", f.key, "POST", base + "/" + f.docs + "/add", `{"ids":["a"],"embeddings":[[1]]}`, cli.As{Key: f.key}},
		{"jwt reads billing", f.jwt, "POST", base + "/" + f.billing + "/get", "{}", cli.As{JWT: f.jwt}},
		{"jwt reads docs", f.jwt, "POST", base + "/" + f.docs + "/get", "{}", cli.As{JWT: f.jwt}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := map[string]string{}
			if c.token != "" {
				hdr = bearer(c.token)
			}
			if c.body != "" {
				hdr["Content-Type"] = "application/json"
			}
			resp, body := f.g.doBody(t, c.method, c.path, c.body, hdr)
			f.up.reset()
			code, out := f.explain(t, c.as, c.method, c.path, c.body, true)
			assert.Empty(t, nonLookups(f.up.requests()), "explain sent the request itself")
			if resp.StatusCode < 300 {
				assert.Equal(t, 0, code, "gateway %d %s\n%s", resp.StatusCode, body, out)
				assert.Contains(t, out, "decision: allowed (200)")
			} else {
				assert.Equal(t, 1, code, "gateway %d %s\n%s", resp.StatusCode, body, out)
				assert.Contains(t, out, fmt.Sprintf("(%d)", resp.StatusCode), "gateway %s", body)
			}
		})
	}
}

// nonLookups are the requests that are not explain's collection lookups.
func nonLookups(seen []seenRequest) []seenRequest {
	var out []seenRequest
	for _, s := range seen {
		if s.Method != http.MethodGet || !strings.Contains(s.URI, "/collections") {
			out = append(out, s)
		}
	}
	return out
}

// What explain prints: the caller's entry and line, role and action,
// grant and level, the check that refused, the collection behind an id;
// without --upstream, what it could not know, and no lookup is made.
func TestExplainSaysWhy(t *testing.T) {
	f := newExplainFixture(t)
	base := "/api/v2/tenants/acme/databases/prod/collections"

	code, out := f.explain(t, cli.As{User: "alice"}, "POST", base+"/"+f.billing+"/get", "{}", true)
	assert.Equal(t, 1, code, out)
	for _, want := range []string{
		"decision: refused (403)",
		"caller: alice (token), configured at " + filepath.Join(filepath.Dir(f.config), "users.yaml") + ":2",
		"scope: tenant acme, databases prod",
		"role: reader (RBAC file " + filepath.Join(filepath.Dir(f.config), "authz.yaml") + ")",
		"route: v2 collection_get, action collection:get, tenant acme, database prod",
		`grant: collection "billing": no grant matches it; the route needs read`,
		"refused by: owner (collection grants, judged by the name Chroma gives the id)",
		`touches: collection "billing" (id ` + f.billing + ")",
	} {
		assert.Contains(t, out, want)
	}

	code, out = f.explain(t, cli.As{User: "alice"}, "POST", base+"/"+f.docs+"/upsert", "{}", true)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "refused by: rbac (role reader lacks action collection:upsert)")

	code, out = f.explain(t, cli.As{User: "rowan"}, "POST", base+"/"+f.docs+"/get", "{}", true)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "rows: only records whose metadata holds owner=rowan")

	f.up.reset()
	code, out = f.explain(t, cli.As{User: "alice"}, "POST", base+"/"+f.docs+"/get", "{}", false)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "decision: not known without Chroma")
	assert.Contains(t, out, "unknown: where the collection lives: the decision asks Chroma GET "+base+"/by-id/"+f.docs+" (give --upstream <Chroma URL>)")
	assert.Contains(t, out, cli.ErrNeedsUpstream.Error())
	assert.Empty(t, f.up.requests(), "no --upstream: nothing is asked")

	code, out = f.explain(t, cli.As{Key: f.key}, "GET", base, "", false)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "key: ")
	assert.NotContains(t, out, f.key, "no secret is printed")
	code, out = f.explain(t, cli.As{JWT: f.jwt}, "GET", base, "", false)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "caller: alice (jwt)")
	assert.NotContains(t, out, f.jwt)
}

// Usage and config errors exit 2, naming what is wrong.
func TestExplainUsageErrors(t *testing.T) {
	f := newExplainFixture(t)
	for _, c := range []struct {
		as   cli.As
		args []string
		want string
	}{
		{cli.As{}, []string{"GET", "/api/v2/version"}, "exactly one of --user"},
		{cli.As{User: "a", Token: "b"}, []string{"GET", "/api/v2/version"}, "exactly one of --user"},
		{cli.As{User: "nobody"}, []string{"GET", "/api/v2/version"}, `user "nobody"`},
		{cli.As{User: "alice"}, []string{"GET"}, "want <METHOD> <path>"},
		{cli.As{User: "alice"}, []string{"GET", "http://x/api/v2"}, "want a method and a path"},
	} {
		var out bytes.Buffer
		code, err := cli.RunExplain(cli.IO{Stdout: &out, Stderr: &out}, cli.ExplainOptions{Config: f.config, As: c.as, Args: c.args, Open: openExplainer})
		assert.Equal(t, cli.ExitUsage, code, "%v %v", c.as, c.args)
		assert.ErrorContains(t, err, c.want)
	}
	code, err := cli.RunExplain(cli.IO{Stdout: &bytes.Buffer{}}, cli.ExplainOptions{Config: f.config, As: cli.As{User: "alice"}, Args: []string{"GET", "/"}, Upstream: "chroma:8000", Open: openExplainer})
	assert.Equal(t, cli.ExitUsage, code)
	assert.ErrorContains(t, err, "--upstream")
	bad := writeTestFile(t, t.TempDir(), "Caddyfile", "http://127.0.0.1:9 {\n\tchroma_auth users_file /nonexistent/users.yaml\n}\n")
	code, err = cli.RunExplain(cli.IO{Stdout: &bytes.Buffer{}}, cli.ExplainOptions{Config: bad, As: cli.As{User: "alice"}, Args: []string{"GET", "/"}, Open: openExplainer})
	assert.Equal(t, cli.ExitUsage, code)
	assert.ErrorContains(t, err, "/nonexistent/users.yaml")
}
