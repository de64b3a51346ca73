package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// Issue 11 ("One sound authorization core") end to end: the real gateway
// binary, the real Chroma, and an upstream recorder in between where the
// test must see what reached the upstream.

// TestCorePlaceholderKeepsBody: a placeholder that names the route, used in
// reverse_proxy's header_up as the README offers, must not read (and so
// empty) the body Chroma receives. Before the fix a token user of every
// tenant creating a collection got 502 and Chroma got no body.
func TestCorePlaceholderKeepsBody(t *testing.T) {
	every, scoped := "every-"+randomHex(8), "scoped-"+randomHex(8)
	tenant := uniqueName("ph")
	createTenantAndDatabases(t, tenant, "prod")
	users := writeUsers(t,
		tokenUser{id: "every@all", token: every},
		tokenUser{id: "scoped@ph", token: scoped, tenant: tenant, databases: []string{"prod"}})
	directive := "chroma_auth {\n\t\ttoken_file " + users + "\n\t}"
	headers := "header_up X-Action {http.chroma_auth.action}\n\t\theader_up X-Route {http.chroma_auth.route}"

	t.Run("real Chroma creates the collection with its metadata", func(t *testing.T) {
		rec := startRecorder(t, suite.chroma.url)
		c := newGWClient(t, startGatewayTo(t, rec.addr(), headers, directive))
		oracle := chromaDirect(t)
		name := uniqueName("placeholder")
		t.Cleanup(func() { oracle.deleteCollection(name) })
		body := `{"name":"` + name + `","metadata":{"owner":"placeholder-test","n":7}}`

		a := c.do(http.MethodPost, dbPath+"/collections", every, body)
		require.Equal(t, http.StatusOK, a.status, "%s", a)
		got := rec.matching(http.MethodPost, dbPath+"/collections")
		require.Len(t, got, 1, "%v", rec.paths())
		assert.Equal(t, body, string(got[0].body), "Chroma received the body unchanged")
		assert.Equal(t, "db:create_collection", got[0].header.Get("X-Action"))
		assert.Equal(t, "v2 create_collection", got[0].header.Get("X-Route"))

		var col struct {
			ID       string         `json:"id"`
			Metadata map[string]any `json:"metadata"`
		}
		require.Equal(t, http.StatusOK, oracle.do(http.MethodGet, "/collections/"+name, nil, &col))
		assert.Equal(t, map[string]any{"owner": "placeholder-test", "n": float64(7)}, col.Metadata)

		// get_or_create of the same name, with the placeholder again.
		a = c.do(http.MethodPost, dbPath+"/collections", every, `{"name":"`+name+`","get_or_create":true}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a)
		assert.Contains(t, string(a.body), col.ID)
	})

	t.Run("an echoing upstream gets exactly the bytes sent", func(t *testing.T) {
		echo := startRecorder(t, "")
		c := newGWClient(t, startGatewayTo(t, echo.addr(), headers, directive))
		big := strings.Repeat("é0123456789", 30000) // ~360 KB, multi-byte
		create := collPath(tenant, "prod", "", "")
		cases := []struct{ name, token, path, body string }{
			{"every tenant, create", every, dbPath + "/collections", `{"name":"e-` + randomHex(3) + `","metadata":{"big":"` + big + `"}}`},
			{"every tenant, add", every, dbPath + "/collections/" + newUUID() + "/add", `{"ids":["a"],"embeddings":[[1,2,3]],"documents":["` + big + `"]}`},
			{"scoped, create (body read by the gateway)", scoped, create, `{"name":"s-` + randomHex(3) + `","metadata":{"big":"` + big + `"}}`},
			{"scoped, get_or_create", scoped, create, `{"get_or_create":true,"name":"s-` + randomHex(3) + `"}`},
		}
		for _, tc := range cases {
			a := c.do(http.MethodPost, tc.path, tc.token, tc.body)
			require.Equal(t, http.StatusOK, a.status, "%s: %s", tc.name, a)
			assert.Equal(t, tc.body, string(a.body), "%s: echoed body", tc.name)
		}
		// Over 1 MiB for a scoped user (issue 20): read as it streams,
		// forwarded whole. Only names over the bound are refused, and
		// nothing of them forwarded.
		huge := `{"metadata":{"big":"` + strings.Repeat("x", 3<<20) + `"},"name":"h-x"}`
		a := c.do(http.MethodPost, create, scoped, huge)
		require.Equal(t, http.StatusOK, a.status, "%.300s", a)
		assert.True(t, string(a.body) == huge, "echoed body of %d bytes, sent %d", len(a.body), len(huge))
		before := len(echo.matching(http.MethodPost, create))
		a = c.do(http.MethodPost, create, scoped, `{"name":"`+strings.Repeat("x", 2<<20)+`"}`)
		assert.Equal(t, http.StatusRequestEntityTooLarge, a.status, "%.300s", a)
		assert.False(t, a.upstream(), "the gateway's own answer")
		assert.Len(t, echo.matching(http.MethodPost, create), before, "not forwarded")
	})

	t.Run("real Chroma takes a scoped create over 1 MiB", func(t *testing.T) {
		// Large metadata is ordinary: the gateway reads the body as it
		// streams (the name is after 1.5 MB of metadata) and forwards it
		// whole, and Chroma creates the collection with it (issue 20).
		rec := startRecorder(t, suite.chroma.url)
		c := newGWClient(t, startGatewayTo(t, rec.addr(), "", directive))
		oracle := chromaDirectAt(t, tenant, "prod")
		name := uniqueName("large")
		t.Cleanup(func() { oracle.deleteCollection(name) })
		blob := strings.Repeat("0123456789abcdef", 96<<10) // 1.5 MiB
		body := `{"metadata":{"blob":"` + blob + `"},"name":"` + name + `"}`
		create := collPath(tenant, "prod", "", "")
		a := c.do(http.MethodPost, create, scoped, body)
		require.Equal(t, http.StatusOK, a.status, "%.300s", a)
		got := rec.matching(http.MethodPost, create)
		require.Len(t, got, 1)
		assert.True(t, string(got[0].body) == body, "Chroma received the body unchanged (%d bytes of %d)", len(got[0].body), len(body))
		var col struct {
			Name     string         `json:"name"`
			Metadata map[string]any `json:"metadata"`
		}
		require.NoError(t, json.Unmarshal(a.body, &col))
		assert.Equal(t, name, col.Name)
		assert.Equal(t, len(blob), len(fmt.Sprint(col.Metadata["blob"])), "Chroma kept the metadata")
		assert.NotEmpty(t, oracle.collectionID(name), "created in the scoped user's database")
	})
}

// TestCoreColdGateway: a gateway just started knows no collection's
// owner. A scoped user's 50 concurrent first requests by id must all pass
// (they wait for one shared lookup), and names that need escaping (é, %,
// ;) must be looked up escaped once.
func TestCoreColdGateway(t *testing.T) {
	eachChroma(t, func(t *testing.T, _ *chromaServer) { coreColdGatewaySuite(t) })
}

func coreColdGatewaySuite(t *testing.T) {
	tenant := uniqueName("cold")
	dbs := []string{"prod"}
	// Chroma 1.5.9 refuses such database names (400); 1.0.x makes them.
	odd := suite.chroma == suite.chromaNPM
	if odd {
		dbs = append(dbs, "café", "a%b;c")
	}
	createTenantAndDatabases(t, tenant, dbs...)
	ids := map[string]string{}
	for i, db := range dbs {
		o := directAt(t, suite.chroma.url, tenant, db)
		name := fmt.Sprintf("cold-%d-%s", i, randomHex(3))
		ids[db] = o.createCollection(name, map[string][]float32{"a": {1, 0, 0}, "b": {0, 1, 0}})
		t.Cleanup(func() { o.deleteCollection(name) })
	}
	tok := "cold-" + randomHex(8)
	users := writeUsers(t, tokenUser{id: "cold@user", token: tok, tenant: tenant, databases: dbs})
	rec := startRecorder(t, suite.chroma.url)
	c := newGWClient(t, startGatewayTo(t, rec.addr(), "", "chroma_auth {\n\t\ttoken_file "+users+"\n\t}"))

	t.Run("50 concurrent first requests by id all pass", func(t *testing.T) {
		id := ids["prod"]
		answers := make([]answer, 50)
		errs := make([]error, 50)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%2 == 0 {
					answers[i], errs[i] = c.try(http.MethodGet, collPath(tenant, "prod", id, "/count"), tok, "")
				} else {
					answers[i], errs[i] = c.try(http.MethodPost, collPath(tenant, "prod", id, "/get"), tok, `{"include":[]}`)
				}
			}()
		}
		close(start)
		wg.Wait()
		for i, a := range answers {
			require.NoError(t, errs[i], "request %d", i)
			assert.Equal(t, http.StatusOK, a.status, "request %d: %s", i, a)
		}
		// One shared lookup, not one per request.
		byID := len(rec.matching(http.MethodGet, "/collections/by-id/"+id))
		lists := len(rec.matching(http.MethodGet, collPath(tenant, "prod", "", "")))
		assert.LessOrEqual(t, byID, 2, "by-id lookups upstream: %v", rec.paths())
		assert.LessOrEqual(t, lists, 2, "listings upstream: %v", rec.paths())
		assert.Positive(t, byID+lists, "the gateway looked the owner up")
	})

	if !odd {
		return
	}
	t.Run("database names that need escaping", func(t *testing.T) {
		for _, db := range []string{"café", "a%b;c"} {
			a := c.do(http.MethodGet, collPath(tenant, db, ids[db], "/count"), tok, "")
			assert.Equal(t, http.StatusOK, a.status, "%s: %s", db, a)
			assert.Equal(t, "2", strings.TrimSpace(string(a.body)), db)
			a = c.do(http.MethodPost, collPath(tenant, db, ids[db], "/get"), tok, `{"include":[]}`)
			assert.Equal(t, http.StatusOK, a.status, "%s: %s", db, a)
		}
		for _, p := range rec.paths() {
			// é escaped twice is %25C3%25A9; % escaped twice is %2525.
			assert.NotContains(t, p, "%25C3", "a lookup escaped twice: %s", p)
			assert.NotContains(t, p, "%2525", "a lookup escaped twice: %s", p)
		}
		assert.NotEmpty(t, rec.matching(http.MethodGet, collPath(tenant, "a%b;c", "", "")), "the gateway listed a%%b;c: %v", rec.paths())
		assert.NotEmpty(t, rec.matching(http.MethodGet, collPath(tenant, "café", "", "")), "the gateway listed café: %v", rec.paths())
		// Another tenant's id through these paths is still refused.
		a := c.do(http.MethodGet, collPath(tenant, "café", ids["prod"], "/count"), tok, "")
		assert.Equal(t, http.StatusForbidden, a.status, "prod's id through café: %s", a)
	})
}

// TestCoreOwnChroma runs a Chroma of its own (CORS allowed for one origin)
// that it can stop: a lookup the upstream cannot answer is 503 with
// Retry-After, never a 403, and 200 once Chroma is back; CORS preflights
// reach Chroma without credentials, nothing else passes as one.
func TestCoreOwnChroma(t *testing.T) {
	const origin = "http://app.example"
	own := startCoreChroma(t, origin)
	tenant := uniqueName("own")
	createTenantDBsAt(t, own.url, tenant, "prod")
	id := directAt(t, own.url, tenant, "prod").createCollection("own-coll", map[string][]float32{"a": {1, 0, 0}})
	tok := "own-" + randomHex(8)
	users := writeUsers(t, tokenUser{id: "own@user", token: tok, tenant: tenant, databases: []string{"prod"}})
	c := newGWClient(t, startGatewayTo(t, own.addr, "", "chroma_auth {\n\t\ttoken_file "+users+"\n\t}"))
	getPath := collPath(tenant, "prod", id, "/get")

	t.Run("CORS preflight reaches Chroma", func(t *testing.T) {
		a := c.do(http.MethodOptions, getPath, "", "", "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,content-type")
		assert.Equal(t, http.StatusOK, a.status, "%s", a)
		assert.True(t, a.upstream(), "Chroma's answer")
		assert.Equal(t, origin, a.header.Get("Access-Control-Allow-Origin"))

		for _, h := range [][]string{
			nil,
			{"Origin", origin},
			{"Access-Control-Request-Method", "POST"},
		} {
			a := c.do(http.MethodOptions, getPath, "", "", h...)
			assert.Equal(t, http.StatusUnauthorized, a.status, "OPTIONS with %v: %s", h, a)
			assert.JSONEq(t, chromaUnauthorized, string(a.body), "%v", h)
			assert.False(t, a.upstream(), "%v", h)
		}
		// With a body it is no preflight.
		a = c.do(http.MethodOptions, getPath, "", `{}`, "Origin", origin, "Access-Control-Request-Method", "POST")
		assert.Equal(t, http.StatusUnauthorized, a.status, "OPTIONS with a body: %s", a)
		// A real request from the browser still needs credentials.
		a = c.do(http.MethodPost, getPath, "", `{}`, "Origin", origin)
		assert.Equal(t, http.StatusUnauthorized, a.status, "%s", a)
	})

	t.Run("upstream down during a lookup: 503, then 200", func(t *testing.T) {
		own.stop(t)
		a := c.do(http.MethodPost, getPath, tok, `{"include":[]}`)
		assert.Equal(t, http.StatusServiceUnavailable, a.status, "%s", a)
		assert.NotEmpty(t, a.header.Get("Retry-After"), "Retry-After")
		var e struct{ Error, Message string }
		assert.NoError(t, json.Unmarshal(a.body, &e), "JSON error body: %s", a.body)
		assert.NotEmpty(t, e.Error, "%s", a.body)

		own.start(t)
		a = c.do(http.MethodPost, getPath, tok, `{"include":[]}`)
		assert.Equal(t, http.StatusOK, a.status, "%s", a)
		assert.Contains(t, string(a.body), `"a"`)
	})
}

// TestCoreUnlistedUsersRefused: with users_file set, an htpasswd user the
// file does not list must fail the load (naming the file and the user),
// unless unlisted_users says what such users get.
func TestCoreUnlistedUsersRefused(t *testing.T) {
	dir := t.TempDir()
	ht := filepath.Join(dir, "users.htpasswd")
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ht, fmt.Appendf(nil, "listed:%s\nmissing-bob:%s\n", hash, hash), 0o600))
	users := writeUsers(t, tokenUser{id: "listed", token: "tok-" + randomHex(8), tenant: "acme"})
	write := func(extra string) string {
		port, err := freePort()
		require.NoError(t, err)
		directive := "chroma_auth {\n\t\tbasic " + ht + "\n\t\tusers_file " + users + extra + "\n\t}"
		path := filepath.Join(dir, fmt.Sprintf("Caddyfile-%d", port))
		text := fmt.Sprintf(gatewayCaddyfile, filepath.Join(dir, "storage"), "", port, directive, suite.chroma.addr)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, suite.gatewayBin, args...)
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "xdg"), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
		return cmd.CombinedOutput()
	}

	bad := write("")
	out, err := run("run", "--config", bad, "--adapter", "caddyfile")
	out = []byte(strings.ReplaceAll(string(out), `\"`, `"`)) // the log is JSON
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the gateway must refuse to start: %s", out)
	assert.Contains(t, string(out), users, "names the users file")
	assert.Contains(t, string(out), `"missing-bob"`, "names the missing user")
	assert.NotContains(t, string(out), `"listed"`, "names only the missing users")

	out, err = run("chroma-auth", "check", "--config", bad, "--adapter", "caddyfile")
	out = []byte(strings.ReplaceAll(string(out), `\"`, `"`))
	require.ErrorAs(t, err, &exit, "check must fail: %s", out)
	assert.Contains(t, string(out), users)
	assert.Contains(t, string(out), `"missing-bob"`)

	for _, opt := range []string{"all", "deny"} {
		out, err = run("chroma-auth", "check", "--config", write("\n\t\tunlisted_users "+opt), "--adapter", "caddyfile")
		assert.NoError(t, err, "unlisted_users %s: %s", opt, out)
	}
}
