package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Per-identity collections (issue 23): {user} in a grant's name or glob is
// the identity's user id, in the users file and in key scopes.
func TestGrantsForUser(t *testing.T) {
	g, err := NewGrantsFor(map[string]string{"{user}-*": "admin", "shared": "read", "{user}": "write"}, "alice")
	require.NoError(t, err)
	for name, want := range map[string]Level{
		"alice-notes": LevelAdmin, "alice": LevelWrite, "shared": LevelRead,
		"bob-notes": LevelNone, "{user}-notes": LevelNone, "alice2-notes": LevelNone, "xalice-notes": LevelNone,
	} {
		assert.Equal(t, want, g.Level(name), name)
	}

	_, err = NewGrantsFor(map[string]string{"{user}-*": "admin"}, "ev*l")
	assert.ErrorContains(t, err, `the user id "ev*l" has * or ?`, "a user id with glob characters must not widen a grant")
	_, err = NewGrantsFor(map[string]string{"{user}-*": "admin", "alice-*": "read"}, "alice")
	assert.ErrorContains(t, err, `collection "alice-*" given twice once {user} is replaced`)

	users, err := ParseUsers("u.yaml", []byte("users:\n  - id: alice\n    tokens: [t1]\n    collections: {\"{user}-*\": admin}\n  - id: bob\n    tokens: [t2]\n    collections: {\"{user}-*\": admin}\n"), true)
	require.NoError(t, err)
	alice, bob := users[0].Identity(ProviderToken).Collections, users[1].Identity(ProviderToken).Collections
	assert.Equal(t, LevelAdmin, alice.Level("alice-notes"))
	assert.Equal(t, LevelNone, alice.Level("bob-notes"))
	assert.Equal(t, LevelAdmin, bob.Level("bob-notes"))
	assert.Equal(t, LevelNone, bob.Level("alice-notes"))
	_, err = ParseUsers("u.yaml", []byte("users:\n  - id: \"a*\"\n    tokens: [t1]\n    collections: {\"{user}-*\": admin}\n"), true)
	assert.ErrorContains(t, err, `u.yaml:4: user "a*": collections: collection grant "{user}-*"`)

	pattern, err := NewGrants(map[string]string{"{user}-*": "admin"})
	require.NoError(t, err)
	_, line := newTestKey(t, KeyEntry{User: "bob", Collections: pattern})
	assert.Contains(t, line, `{user}-*`, "the keys file keeps the pattern, expanded at load")
	entries, err := ParseKeys("keys.jsonl", []byte(line))
	require.NoError(t, err)
	id := entries[0].Identity()
	assert.Equal(t, LevelAdmin, id.Collections.Level("bob-notes"))
	assert.Equal(t, LevelNone, id.Collections.Level("alice-notes"))
}
