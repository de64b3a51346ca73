package providers

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CachedBasic answers from the cache alone: a pair verified before, never
// one that was not, and nothing from a set without Basic users
// (authenticator.go:145, 149).
func TestCachedBasic(t *testing.T) {
	a, _ := newBasic(t, bcryptLine(t, "alice", "pw"))
	_, ok := a.CachedBasic(a.Credentials(), "alice", "pw")
	assert.False(t, ok, "never verified")
	_, err := a.CheckBasic(context.Background(), a.Credentials(), "alice", "pw")
	require.NoError(t, err)
	id, ok := a.CachedBasic(a.Credentials(), "alice", "pw")
	require.True(t, ok)
	assert.Equal(t, "alice", id.User)
	_, ok = a.CachedBasic(a.Credentials(), "alice", "wrong")
	assert.False(t, ok)
	tokensOnly, err := Load(Sources{Tokens: []string{"tok-static-0123"}})
	require.NoError(t, err)
	_, ok = a.CachedBasic(tokensOnly, "alice", "pw")
	assert.False(t, ok, "a set without Basic users")
}

// EachKey lists the keys by key id (least.go:241): the load's warnings
// about keys whose role reaches beyond their user's come in a stable order.
func TestEachKeyByID(t *testing.T) {
	var lines []string
	for range 6 {
		_, l := newTestKey(t, KeyEntry{})
		lines = append(lines, l)
	}
	c, err := Load(Sources{KeysFile: writeFile(t, "keys.jsonl", strings.Join(lines, "\n")+"\n")})
	require.NoError(t, err)
	var ids []string
	c.EachKey(func(_, keyID string, _ *Identity) { ids = append(ids, keyID) })
	assert.Len(t, ids, 6)
	assert.True(t, sort.StringsAreSorted(ids), "%v", ids)
}
