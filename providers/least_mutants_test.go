package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyOfAnUnscopedUserWithARoleIsNarrowedToTheRole kills the surviving
// mutant of nameUser that skipped users with a role but no scope (issue
// 20, make mutants): a user of every tenant whom the files give the role
// reader is named, so an admin key issued for it acts as reader too.
func TestKeyOfAnUnscopedUserWithARoleIsNarrowedToTheRole(t *testing.T) {
	users := writeFile(t, "users.yaml", "users:\n  - id: ops\n    role: reader\n    tokens: [tok-ops-1]\n  - id: anyone\n    tokens: [tok-anyone-1]\n")
	key, line := newTestKey(t, KeyEntry{User: "ops", Role: "admin"})
	other, line2 := newTestKey(t, KeyEntry{User: "anyone", Role: "admin"})
	c, err := Load(Sources{UsersFile: users, TokenFiles: []string{users}, KeysFile: writeFile(t, "keys.jsonl", line+"\n"+line2+"\n")})
	require.NoError(t, err)
	assert.True(t, c.NamesUser("ops"), "a role alone names the user")
	assert.False(t, c.NamesUser("anyone"), "no role, no scope: nothing to narrow to")
	a := NewAuthenticator(c, Options{})
	id, err := a.CheckToken(c, key)
	require.NoError(t, err)
	assert.Equal(t, []string{"reader"}, id.UserRoles, "the key acts within the user's role")
	id, err = a.CheckToken(c, other)
	require.NoError(t, err)
	assert.Empty(t, id.UserRoles)
}
