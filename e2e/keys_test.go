package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyCLI runs the gateway binary's `chroma-auth key ...` and returns its
// stdout and stderr apart (create prints the key alone on stdout).
func keyCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, append([]string{"chroma-auth", "key"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// createKeyCLI makes a key with the CLI and returns it.
func createKeyCLI(t *testing.T, file string, args ...string) string {
	t.Helper()
	out, errOut, err := keyCLI(t, append([]string{"create", "--file", file}, args...)...)
	require.NoError(t, err, "key create: %s", errOut)
	key := strings.TrimSpace(out)
	require.Regexp(t, `^chk_[0-9A-Za-z]{16}_[0-9A-Za-z]{43}$`, key)
	return key
}

// keyID and keySecret are the two halves of chk_<id>_<secret>.
func keyID(key string) string     { return strings.Split(key, "_")[1] }
func keySecret(key string) string { return strings.Split(key, "_")[2] }

// keyRequest sends one request with a credential through the gateway and
// returns the status and body.
func keyRequest(t *testing.T, g *gateway, cred credential, method, path string, body string) (int, string) {
	t.Helper()
	client, err := trustingHTTPClient(g.caRoot)
	require.NoError(t, err)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, g.url+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if name, value := cred.header(); name != "" {
		req.Header.Set(name, value)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// pollStatus repeats a request until it answers want, and fails past a
// generous bound (the gateway reloads every few hundred milliseconds).
func pollStatus(t *testing.T, g *gateway, cred credential, path string, want int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := keyRequest(t, g, cred, http.MethodGet, path, "")
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered %d; last %d %s", path, want, code, short([]byte(body)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAPIKeys is issue 15's keys through the real binary and real Chroma:
// keys made by `caddy chroma-auth key create` work in both headers while
// the file holds only their hashes; a key's tenant and database scope
// holds; a key of seconds expires with a message saying so; a revoked key
// is refused at the next reload while the user's other key goes on;
// `key list` prints no secret.
func TestAPIKeys(t *testing.T) {
	acme, globex := uniqueName("keys-acme"), uniqueName("keys-globex")
	createTenantAndDatabases(t, acme, "prod", "dev")
	createTenantAndDatabases(t, globex, "main")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.jsonl")
	one := createKeyCLI(t, keys, "--user", "alice", "--tenant", acme, "--databases", "prod", "--label", "laptop")
	two := createKeyCLI(t, keys, "--user", "alice", "--tenant", acme, "--databases", "prod", "--label", "ci", "--no-expiry")

	data, err := os.ReadFile(keys)
	require.NoError(t, err)
	for _, k := range []string{one, two} {
		assert.NotContains(t, string(data), keySecret(k), "the keys file holds a secret")
		assert.Contains(t, string(data), keyID(k))
	}
	st, err := os.Stat(keys)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	bearer := startGateway(t, "chroma_auth {\n\t\tkeys_file "+keys+"\n\t\treload_interval 200ms\n\t}")
	xtoken := startGateway(t, "chroma_auth {\n\t\tkeys_file "+keys+"\n\t\ttoken_header X-Chroma-Token\n\t\treload_interval 200ms\n\t}")
	prodPath := "/api/v2/tenants/" + acme + "/databases/prod/collections"

	t.Run("a key works in both headers, in real Chroma", func(t *testing.T) {
		name := uniqueName("keyed")
		t.Cleanup(func() { chromaDirectAt(t, acme, "prod").deleteCollection(name) })
		code, body := keyRequest(t, bearer, credential{kind: credBearer, token: one}, http.MethodPost, prodPath, `{"name":"`+name+`"}`)
		require.Equal(t, http.StatusOK, code, body)
		assert.NotEmpty(t, chromaDirectAt(t, acme, "prod").collectionID(name), "Chroma has the collection")
		code, body = keyRequest(t, xtoken, credential{kind: credXChromaToken, token: one}, http.MethodGet, prodPath, "")
		require.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, name)
		code, _ = keyRequest(t, bearer, credential{kind: credBearer, token: one + "x"}, http.MethodGet, prodPath, "")
		assert.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("the Python client with a key, in both headers", func(t *testing.T) {
		pyCollectionLife(t, bearer, credential{kind: credBearer, token: one}, acme, "prod")
		pyCollectionLife(t, xtoken, credential{kind: credXChromaToken, token: one}, acme, "prod")
		wrong := runPython(t, bearer, credential{kind: credBearer, token: one + "x"}, "COLLECTION="+uniqueName("py-nokey"),
			"TENANT="+acme, "DATABASE=prod", "STEPS=life")
		require.NotNil(t, wrong.LifeError, "a wrong key must fail")
		assert.Contains(t, wrong.LifeError.Message, "Unauthorized", "%+v", wrong.LifeError)
	})

	t.Run("a key's tenant and database scope holds", func(t *testing.T) {
		cred := credential{kind: credBearer, token: two}
		for _, path := range []string{
			"/api/v2/tenants/" + acme + "/databases/dev/collections",
			"/api/v2/tenants/" + globex + "/databases/main/collections",
		} {
			code, body := keyRequest(t, bearer, cred, http.MethodGet, path, "")
			assert.Equal(t, http.StatusForbidden, code, "%s: %s", path, body)
		}
		code, body := keyRequest(t, bearer, credential{kind: credBearer, token: two}, http.MethodGet, "/api/v2/auth/identity", "")
		require.Equal(t, http.StatusOK, code)
		assert.JSONEq(t, fmt.Sprintf(`{"user_id":"alice","tenant":%q,"databases":["prod"]}`, acme), body)
	})

	t.Run("a key's collection grants hold", func(t *testing.T) {
		docs, billing := uniqueName("kdocs"), uniqueName("kbilling")
		direct := chromaDirectAt(t, acme, "prod")
		docsID := direct.createCollection(docs, map[string][]float32{"d1": {1, 0, 0}})
		billingID := direct.createCollection(billing, map[string][]float32{"b1": {0, 1, 0}})
		t.Cleanup(func() { direct.deleteCollection(docs); direct.deleteCollection(billing) })
		reader := credential{kind: credBearer, token: createKeyCLI(t, keys, "--user", "carol", "--tenant", acme, "--databases", "prod", "--collections", docs+"=read")}
		pollStatus(t, bearer, reader, prodPath+"/"+docs, http.StatusOK) // in force after the next reload
		for _, c := range []struct {
			method, path, body string
			want               int
		}{
			{http.MethodPost, prodPath + "/" + docsID + "/get", `{}`, http.StatusOK},
			{http.MethodPost, prodPath + "/" + docsID + "/add", `{"ids":["x"],"embeddings":[[0,0,1]]}`, http.StatusForbidden},
			{http.MethodGet, prodPath + "/" + billing, "", http.StatusForbidden},
			{http.MethodPost, prodPath + "/" + billingID + "/get", `{}`, http.StatusForbidden},
		} {
			code, body := keyRequest(t, bearer, reader, c.method, c.path, c.body)
			assert.Equal(t, c.want, code, "%s %s: %s", c.method, c.path, body)
		}
		code, body := keyRequest(t, bearer, reader, http.MethodGet, prodPath, "")
		require.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, docs)
		assert.NotContains(t, body, billing, "the listing shows only the key's collections")
	})

	t.Run("a key of seconds expires, and says so", func(t *testing.T) {
		short := createKeyCLI(t, keys, "--user", "bob", "--expires", "4s")
		cred := credential{kind: credBearer, token: short}
		pollStatus(t, bearer, cred, "/api/v2/tenants/default_tenant/databases/default_database/collections", http.StatusOK)
		body := pollStatus(t, bearer, cred, "/api/v2/tenants/default_tenant/databases/default_database/collections", http.StatusUnauthorized)
		assert.JSONEq(t, `{"error":"AuthorizationError","message":"Unauthorized: API key expired"}`, body)
		code, body := keyRequest(t, xtoken, credential{kind: credXChromaToken, token: short}, http.MethodGet, "/api/v2/tenants/default_tenant", "")
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Contains(t, body, "API key expired")
	})

	t.Run("key list prints no secret", func(t *testing.T) {
		out, errOut, err := keyCLI(t, "list", "--file", keys)
		require.NoError(t, err, errOut)
		for _, k := range []string{one, two} {
			assert.Contains(t, out, keyID(k))
			assert.NotContains(t, out+errOut, keySecret(k))
		}
		assert.Contains(t, out, "laptop")
		assert.Contains(t, out, "(expired)", "bob's short key")
		assert.NotContains(t, out, "sha256")
	})

	t.Run("a revoked key is refused at the next reload; the user's other key goes on", func(t *testing.T) {
		out, errOut, err := keyCLI(t, "revoke", "--file", keys, keyID(one))
		require.NoError(t, err, errOut)
		assert.Contains(t, out, keyID(one))
		body := pollStatus(t, bearer, credential{kind: credBearer, token: one}, prodPath, http.StatusUnauthorized)
		assert.JSONEq(t, `{"error":"AuthorizationError","message":"Unauthorized"}`, body)
		pollStatus(t, xtoken, credential{kind: credXChromaToken, token: one}, prodPath, http.StatusUnauthorized)
		code, body := keyRequest(t, bearer, credential{kind: credBearer, token: two}, http.MethodGet, prodPath, "")
		assert.Equal(t, http.StatusOK, code, body)
		data, err := os.ReadFile(keys)
		require.NoError(t, err)
		assert.NotContains(t, string(data), keyID(one))
	})
}
