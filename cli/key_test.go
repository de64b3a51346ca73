package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

var keyNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// runKey runs a key command and returns its stdout and stderr.
func runKey(t *testing.T, a KeyArgs) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if a.Now == nil {
		a.Now = func() time.Time { return keyNow }
	}
	_, err := RunKey(IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}, a)
	return out.String(), errOut.String(), err
}

func createKey(t *testing.T, a KeyArgs) string {
	t.Helper()
	a.Op = "create"
	out, _, err := runKey(t, a)
	require.NoError(t, err)
	return strings.TrimSpace(out)
}

func TestKeyCreatePrintsTheKeyOnceAndStoresOnlyItsHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	out, errOut, err := runKey(t, KeyArgs{Op: "create", File: path, User: "alice", Tenant: "acme", Databases: "prod, dev",
		Role: "reader", Collections: "docs=read, team-*=write", Label: "laptop"})
	require.NoError(t, err)
	key := strings.TrimSpace(out)
	assert.Equal(t, key+"\n", out, "stdout is the key alone")
	id, secret, ok := providers.SplitKey(key)
	require.True(t, ok, "not a key: %q", key)
	assert.Contains(t, errOut, id)
	assert.Contains(t, errOut, "2027-02-23T12:00:00Z", "default lifetime is 90 days")
	assert.NotContains(t, errOut, secret)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), secret)
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
	assert.Equal(t, 1, bytes.Count(data, []byte("\n")), "one line per key")

	// The gateway's own loader takes the file and the key.
	c, err := providers.Load(providers.Sources{KeysFile: path})
	require.NoError(t, err)
	ident, err := providers.NewAuthenticator(c, providers.Options{}).CheckToken(c, key)
	require.NoError(t, err)
	assert.Equal(t, "alice", ident.User)
	assert.Equal(t, "acme", ident.Tenant)
	assert.Equal(t, []string{"prod", "dev"}, ident.Databases)
	assert.Equal(t, "reader", ident.Role)
	assert.Equal(t, id, ident.KeyID)
	assert.Equal(t, "docs=read,team-*=write", ident.Collections.String())
}

func TestKeyListShowsNoSecretOrHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	k1 := createKey(t, KeyArgs{File: path, User: "alice", Label: "ci", Expires: "30s"})
	k2 := createKey(t, KeyArgs{File: path, User: "bob", NoExpiry: true, Collections: "docs=admin"})
	entries, err := KeyList(path)
	require.NoError(t, err)
	require.Len(t, entries, 2)

	later := func() time.Time { return keyNow.Add(time.Minute) }
	out, _, err := runKey(t, KeyArgs{Op: "list", File: path, Now: later})
	require.NoError(t, err)
	for _, k := range []string{k1, k2} {
		id, secret, _ := providers.SplitKey(k)
		assert.Contains(t, out, id)
		assert.NotContains(t, out, secret)
	}
	for _, e := range entries {
		assert.NotContains(t, out, e.Hash)
		_, salt, _ := strings.Cut(e.Hash, ":")
		salt, _, _ = strings.Cut(salt, ":")
		assert.NotContains(t, out, salt)
	}
	assert.NotContains(t, out, "sha256")
	assert.Contains(t, out, "2026-11-25T12:00:30Z (expired)")
	assert.Contains(t, out, "never")
	assert.Contains(t, out, "docs=admin")
	assert.Contains(t, out, "ci")
}

func TestKeyRevokeKeepsOtherLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("# team keys\n\n"), 0o640))
	k1 := createKey(t, KeyArgs{File: path, User: "alice", Label: "one"})
	k2 := createKey(t, KeyArgs{File: path, User: "alice", Label: "two"})
	id1, _, _ := providers.SplitKey(k1)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	out, _, err := runKey(t, KeyArgs{Op: "revoke", File: path, Args: []string{id1}})
	require.NoError(t, err)
	assert.Contains(t, out, "revoked key "+id1+` of user "alice"`)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(before), "\n")
	assert.Equal(t, lines[0]+lines[1]+lines[3], string(after), "exactly the key's line is gone")
	assert.Equal(t, os.FileMode(0o640), mode(t, path), "the file keeps its mode")

	c, err := providers.Load(providers.Sources{KeysFile: path})
	require.NoError(t, err)
	a := providers.NewAuthenticator(c, providers.Options{})
	_, err = a.CheckToken(c, k1)
	assert.ErrorIs(t, err, providers.ErrBadCredentials)
	_, err = a.CheckToken(c, k2)
	assert.NoError(t, err)

	_, _, err = runKey(t, KeyArgs{Op: "revoke", File: path, Args: []string{id1}})
	assert.ErrorIs(t, err, ErrNoSuchKey)
	// The whole key is taken too: revoking a leaked key by pasting it.
	_, _, err = runKey(t, KeyArgs{Op: "revoke", File: path, Args: []string{k2}})
	require.NoError(t, err)
	c, err = providers.Load(providers.Sources{KeysFile: path})
	require.NoError(t, err)
	assert.Zero(t, c.NumKeys())
}

func TestKeyCreateFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	for _, tc := range []struct {
		a    KeyArgs
		want string
	}{
		{KeyArgs{}, "--user is required"},
		{KeyArgs{User: "a b"}, "spaces"},
		{KeyArgs{User: "a", Expires: "0s"}, "--expires"},
		{KeyArgs{User: "a", Expires: "-1d"}, "--expires"},
		{KeyArgs{User: "a", Expires: "soon"}, "--expires"},
		{KeyArgs{User: "a", Expires: "1d", NoExpiry: true}, "give one"},
		{KeyArgs{User: "a", Collections: "docs"}, "name=level"},
		{KeyArgs{User: "a", Collections: "docs=own"}, "unknown access level"},
		{KeyArgs{User: "a", Collections: "docs=read,docs=write"}, "twice"},
		{KeyArgs{User: "a", Databases: "prod,"}, "database"},
		{KeyArgs{User: "a", Tenant: "a b"}, "tenant"},
	} {
		tc.a.Op, tc.a.File = "create", path
		out, _, err := runKey(t, tc.a)
		require.Error(t, err, "%+v", tc.a)
		assert.Contains(t, err.Error(), tc.want)
		assert.Empty(t, out, "no key printed on failure")
	}
	_, err := os.Stat(path)
	assert.True(t, os.IsNotExist(err), "a failed create writes nothing")

	for in, want := range map[string]time.Duration{"": 90 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "36h": 36 * time.Hour, "30s": 30 * time.Second} {
		d, err := ParseLifetime(in)
		require.NoError(t, err)
		assert.Equal(t, want, d, in)
	}
}

func TestKeyRefusesABrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"id\":\"nope\"}\n"), 0o600))
	_, _, err := runKey(t, KeyArgs{Op: "create", File: path, User: "alice"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keys.jsonl:1")
	_, _, err = runKey(t, KeyArgs{Op: "list", File: filepath.Join(t.TempDir(), "missing")})
	assert.Error(t, err)
}

// Concurrent creates all land: the directory lock serializes the edits.
func TestKeyConcurrentCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	const n = 8
	var wg sync.WaitGroup
	keys := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = KeyCreate(path, providers.KeyEntry{User: "alice", Created: keyNow})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	c, err := providers.Load(providers.Sources{KeysFile: path})
	require.NoError(t, err)
	assert.Equal(t, n, c.NumKeys())
}
