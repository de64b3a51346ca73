package providers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTestKey makes a key and its file line with the given scope.
func newTestKey(t testing.TB, e KeyEntry) (key string, line string) {
	t.Helper()
	key, id, err := NewKey()
	require.NoError(t, err)
	e.ID = id
	if e.User == "" {
		e.User = "alice"
	}
	if e.Created.IsZero() {
		e.Created = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	}
	e.Hash, err = HashKey(key)
	require.NoError(t, err)
	b, err := e.MarshalLine()
	require.NoError(t, err)
	return key, string(b)
}

func TestNewKeyShape(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		key, id, err := NewKey()
		require.NoError(t, err)
		assert.Len(t, key, len(KeyPrefix)+KeyIDLen+1+KeySecretLen)
		gotID, secret, ok := SplitKey(key)
		require.True(t, ok, key)
		assert.Equal(t, id, gotID)
		assert.Len(t, secret, KeySecretLen)
		assert.False(t, seen[key], "a key made twice")
		seen[key] = true
	}
}

func TestSplitKeyRefuses(t *testing.T) {
	secret := strings.Repeat("a", KeySecretLen)
	for _, tok := range []string{
		"", "chk_", "chk_abcdefgh", "chk_abcdefgh_", "chk__" + secret,
		"CHK_abcdefgh_" + secret, "chk_abcdefgh_" + secret[1:], // secret too short
		"chk_abc_" + secret,                             // id too short
		"chk_abcdefgh_" + secret + "_x",                 // a third part
		"chk_abcd-fgh_" + secret,                        // not base62
		"chk_abcdefgh_" + secret + "=",                  // not base62
		"chk_abcdefgh_" + strings.Repeat("a", 129),      // secret too long
		"chk_" + strings.Repeat("a", 65) + "_" + secret, // id too long
	} {
		_, _, ok := SplitKey(tok)
		assert.False(t, ok, tok)
	}
	id, s, ok := SplitKey("chk_abcdefgh_" + secret)
	assert.True(t, ok)
	assert.Equal(t, "abcdefgh", id)
	assert.Equal(t, secret, s)
}

func TestKeysFileRoundTripAndScope(t *testing.T) {
	exp := time.Date(2027, 2, 23, 12, 0, 0, 0, time.UTC)
	g, err := NewGrants(map[string]string{"docs": "read", "team-*": "write"})
	require.NoError(t, err)
	key, line := newTestKey(t, KeyEntry{User: "bob", Label: "laptop · CI", Expires: exp, Tenant: "acme", Databases: []string{"prod"}, Role: "reader", Collections: g})
	assert.NotContains(t, line, key)
	_, secret, _ := SplitKey(key)
	assert.NotContains(t, line, secret)
	assert.Contains(t, line, `"expires":"2027-02-23T12:00:00Z"`)

	entries, err := ParseKeys("keys.jsonl", []byte("# keys\n\n"+line+"\n"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	e := entries[0]
	assert.Equal(t, 3, e.Line)
	assert.Equal(t, "bob", e.User)
	assert.Equal(t, "laptop · CI", e.Label)
	assert.True(t, e.Expires.Equal(exp))
	id := e.Identity()
	assert.Equal(t, ProviderKey, id.Provider)
	assert.Equal(t, e.ID, id.KeyID)
	assert.Equal(t, "acme", id.Tenant)
	assert.Equal(t, []string{"prod"}, id.Databases)
	assert.Equal(t, "reader", id.Role)
	assert.Equal(t, LevelRead, id.Collections.Level("docs"))
	assert.Equal(t, LevelWrite, id.Collections.Level("team-x"))
	assert.Equal(t, LevelNone, id.Collections.Level("other"))

	// Defaults: every tenant and database, every collection, no expiry.
	_, line = newTestKey(t, KeyEntry{})
	assert.Contains(t, line, `"expires":"never"`)
	entries, err = ParseKeys("k", []byte(line))
	require.NoError(t, err)
	id = entries[0].Identity()
	assert.Equal(t, Any, id.Tenant)
	assert.Equal(t, []string{Any}, id.Databases)
	assert.Nil(t, id.Collections)
	assert.True(t, entries[0].Expires.IsZero())

	// No collections at all ({}) stays none, not every one.
	none, err := NewGrants(map[string]string{})
	require.NoError(t, err)
	_, line = newTestKey(t, KeyEntry{Collections: none})
	entries, err = ParseKeys("k", []byte(line))
	require.NoError(t, err)
	require.NotNil(t, entries[0].Collections)
	assert.Equal(t, LevelNone, entries[0].Collections.Level("docs"))
}

func TestParseKeysErrors(t *testing.T) {
	_, good := newTestKey(t, KeyEntry{})
	entries, err := ParseKeys("k", []byte(good))
	require.NoError(t, err)
	id := entries[0].ID
	hash := entries[0].Hash
	repl := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	cases := []struct {
		name, data string
		want       []string
	}{
		{"not json", "x\n" + good, []string{"keys.jsonl:1", "malformed key line"}},
		{"two lines one id", good + "\n" + good, []string{"keys.jsonl:2", id, "duplicate key id (first on line 1)"}},
		{"unknown field", repl(`"user"`, `"secret":"x","user"`), []string{"keys.jsonl:1", `unknown field "secret"`}},
		{"no expiry", repl(`"expires":"never",`, ""), []string{"keys.jsonl:1", id, "expires: missing"}},
		{"bad expiry", repl(`"never"`, `"tomorrow"`), []string{"expires: want an RFC 3339 time"}},
		{"zero expiry", repl(`"never"`, `"0001-01-01T00:00:00Z"`), []string{"keys.jsonl:1", id, "expires: 0001-01-01T00:00:00Z is the zero time"}},
		{"zero expiry, offset", repl(`"never"`, `"0001-01-01T00:00:00+00:00"`), []string{"keys.jsonl:1", id, "zero time"}},
		{"expiry without zone", repl(`"never"`, `"2027-01-01T00:00:00"`), []string{"keys.jsonl:1", id, "expires: want an RFC 3339 time"}},
		{"empty expiry", repl(`"never"`, `""`), []string{"keys.jsonl:1", id, "expires: missing"}},
		{"bad created", repl(`"2026-11-25T12:00:00Z"`, `"yesterday"`), []string{"created"}},
		{"bad id", repl(id, "short"), []string{"keys.jsonl:1", "key id"}},
		{"no user", repl(`"user":"alice"`, `"user":""`), []string{id, "user"}},
		{"user space", repl(`"user":"alice"`, `"user":"a b"`), []string{id, "user"}},
		{"bad hash", repl(hash, "md5:xx:yy"), []string{id, "hash"}},
		{"short digest", repl(hash, hash[:len(hash)-4]), []string{id, "hash"}},
		{"bad grant", repl(`"hash"`, `"collections":{"docs":"own"},"hash"`), []string{id, "collections"}},
		{"bad db", repl(`"hash"`, `"databases":[""],"hash"`), []string{id, "database"}},
		{"type", repl(`"user":"alice"`, `"user":7`), []string{"keys.jsonl:1", `field "user"`}},
		{"two values", good + " {}", []string{"more than one JSON value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeys("keys.jsonl", []byte(tc.data))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), hash[10:], "an error quotes the hash")
		})
	}
	entries, err = ParseKeys("k", []byte("# every key revoked\n"))
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestCheckKey(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	live, l1 := newTestKey(t, KeyEntry{Expires: now.Add(time.Hour), Tenant: "acme"})
	forever, l2 := newTestKey(t, KeyEntry{User: "bob"})
	old, l3 := newTestKey(t, KeyEntry{Expires: now.Add(-time.Second)})
	keysFile := writeFile(t, "keys.jsonl", l1+"\n"+l2+"\n"+l3+"\n")
	c, err := Load(Sources{KeysFile: keysFile, Tokens: []string{"static-token-1"}})
	require.NoError(t, err)
	assert.Equal(t, 3, c.NumKeys())
	assert.True(t, c.Token())

	id, handled, err := c.checkKey(live, now)
	require.NoError(t, err)
	assert.True(t, handled)
	assert.Equal(t, "alice", id.User)
	assert.Equal(t, "acme", id.Tenant)
	assert.Equal(t, ProviderKey, id.Provider)

	_, _, err = c.checkKey(live, now.Add(time.Hour))
	assert.ErrorIs(t, err, ErrKeyExpired, "expiry is at the instant given")
	_, _, err = c.checkKey(old, now)
	assert.ErrorIs(t, err, ErrKeyExpired)
	id, _, err = c.checkKey(forever, now.AddDate(50, 0, 0))
	require.NoError(t, err)
	assert.Equal(t, "bob", id.User)

	// The right id with a wrong secret is bad, not expired: expiry is told
	// only to whoever holds the key.
	kid, secret, _ := SplitKey(old)
	first := "0" // a secret's first character changed: never the same one
	if secret[0] == '0' {
		first = "1"
	}
	wrong := KeyPrefix + kid + "_" + first + secret[1:]
	_, handled, err = c.checkKey(wrong, now)
	assert.True(t, handled)
	assert.ErrorIs(t, err, ErrBadCredentials)

	// Through the Authenticator: keys, static tokens, unknown ids.
	a := NewAuthenticator(c, Options{})
	id, err = a.CheckToken(c, forever)
	require.NoError(t, err)
	assert.Equal(t, "bob", id.User)
	id, err = a.CheckToken(c, "static-token-1")
	require.NoError(t, err)
	assert.Equal(t, ProviderToken, id.Provider)
	_, err = a.CheckToken(c, old)
	assert.True(t, errors.Is(err, ErrKeyExpired))
	unknown, _, err := NewKey()
	require.NoError(t, err)
	_, err = a.CheckToken(c, unknown)
	assert.ErrorIs(t, err, ErrBadCredentials)
}

func TestKeysFileAloneAndEmpty(t *testing.T) {
	// A keys file with no keys is a valid, closed set: every key revoked
	// must lock the keys out, not fail the reload and keep the old set.
	f := writeFile(t, "keys.jsonl", "# all revoked\n")
	c, err := Load(Sources{KeysFile: f})
	require.NoError(t, err)
	assert.Equal(t, 0, c.NumKeys())
	assert.True(t, c.Token())
	_, err = NewAuthenticator(c, Options{}).CheckToken(c, "chk_abcdefgh_"+strings.Repeat("a", KeySecretLen))
	assert.ErrorIs(t, err, ErrBadCredentials)
	assert.Contains(t, Sources{KeysFile: f}.Files(), f)

	_, err = Load(Sources{KeysFile: f + ".missing"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keys file")
}

func TestCheckKeyAllocs(t *testing.T) {
	now := time.Now()
	key, line := newTestKey(t, KeyEntry{})
	c, err := Load(Sources{KeysFile: writeFile(t, "k", line)})
	require.NoError(t, err)
	n := testing.AllocsPerRun(100, func() {
		if _, _, err := c.checkKey(key, now); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, n)
}

func BenchmarkCheckKey(b *testing.B) {
	key, line := newTestKey(b, KeyEntry{Expires: time.Now().Add(time.Hour)})
	c, err := Load(Sources{KeysFile: writeFile(b, "k", line)})
	require.NoError(b, err)
	a := NewAuthenticator(c, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.CheckToken(c, key); err != nil {
			b.Fatal(err)
		}
	}
}
