package providers

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every identity says where it was configured (file and line), so that an
// explanation can point at the entry; a secret never appears there.
func TestIdentitySource(t *testing.T) {
	now := time.Now()
	key, line := newTestKey(t, KeyEntry{User: "bob"})
	keys := writeFile(t, "keys.jsonl", "\n"+line+"\n")
	plain := writeFile(t, "tokens.txt", "# comment\ntok-one-aaaaaaaa\ntok-two-bbbbbbbb\n")
	users := writeFile(t, "users.yaml", "users:\n  - id: ann\n    tokens: [tok-ann-cccccccc]\n")
	c, err := Load(Sources{KeysFile: keys, TokenFiles: []string{plain, users}, Tokens: []string{"inline-token-1"}})
	require.NoError(t, err)

	id, _, err := c.checkKey(key, now)
	require.NoError(t, err)
	assert.Equal(t, keys+":2", id.Source)
	a := NewAuthenticator(c, Options{})
	for tok, want := range map[string]string{
		"tok-one-aaaaaaaa": plain + ":2", "tok-two-bbbbbbbb": plain + ":3",
		"tok-ann-cccccccc": users + ":2", "inline-token-1": "token #1",
	} {
		id, err := a.CheckToken(c, tok)
		require.NoError(t, err, want)
		assert.Equal(t, want, id.Source)
		assert.NotContains(t, id.Source, tok)
	}

	ht := writeFile(t, "server.htpasswd", "\n"+bcryptLine(t, "carol", "pw")+"\n")
	c, err = Load(Sources{HtpasswdFile: ht})
	require.NoError(t, err)
	id, err = NewAuthenticator(c, Options{}).CheckBasic(context.Background(), c, "carol", "pw")
	require.NoError(t, err)
	assert.Equal(t, ht+":2", id.Source)
}

// Match names the grant that decides a name's level: the exact name, else
// the glob of the highest level.
func TestGrantsMatch(t *testing.T) {
	g, err := NewGrants(map[string]string{"docs": "read", "team-*": "write", "team-lead": "admin", "t*": "read"})
	require.NoError(t, err)
	for name, want := range map[string]struct {
		pattern string
		level   Level
	}{
		"docs": {"docs", LevelRead}, "team-a": {"team-*", LevelWrite}, "team-lead": {"team-lead", LevelAdmin},
		"tx": {"t*", LevelRead}, "billing": {"", LevelNone},
	} {
		p, l := g.Match(name)
		assert.Equal(t, want.pattern, p, name)
		assert.Equal(t, want.level, l, name)
		assert.Equal(t, l, g.Level(name), name)
	}
	var all *Grants
	p, l := all.Match("x")
	assert.Equal(t, Any, p)
	assert.Equal(t, LevelAdmin, l)
}
