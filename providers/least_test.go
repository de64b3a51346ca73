package providers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func grants(t *testing.T, m map[string]string) *Grants {
	t.Helper()
	g, err := NewGrants(m)
	require.NoError(t, err)
	return g
}

func TestNarrowTenantAndDatabases(t *testing.T) {
	all := &Identity{User: "u", Tenant: Any, Databases: []string{Any}}
	acme := &Identity{User: "u", Tenant: "acme", Databases: []string{"prod", "dev"}}
	cases := []struct {
		name           string
		issued, user   *Identity
		tenant         string
		dbs            []string
		outside        bool
		outsideMessage string
	}{
		{"user of everything keeps the issued scope", acme, all, "acme", []string{"prod", "dev"}, false, ""},
		{"issued everything takes the user's", all, acme, "acme", []string{"prod", "dev"}, false, ""},
		{"empty tenant and databases are everything too", &Identity{User: "u"}, acme, "acme", []string{"prod", "dev"}, false, ""},
		{"common databases only", &Identity{User: "u", Tenant: "acme", Databases: []string{"dev", "staging"}}, acme, "acme", []string{"dev"}, false, ""},
		{"another tenant", &Identity{User: "u", Tenant: "beta", Databases: []string{Any}}, acme, "", nil, true, `tenant "beta" is not its user's "acme"`},
		{"no common database", &Identity{User: "u", Tenant: Any, Databases: []string{"staging"}}, acme, "", nil, true, "databases staging: none is its user's (prod,dev)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Narrow(tc.issued, tc.user)
			if tc.outside {
				require.ErrorIs(t, err, ErrOutsideUser)
				assert.Contains(t, err.Error(), tc.outsideMessage)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.tenant, got.Tenant)
			assert.Equal(t, tc.dbs, got.Databases)
			assert.True(t, got.AllowsTenant(tc.tenant))
			for _, db := range []string{"prod", "dev", "staging"} {
				assert.Equal(t, tc.issued.AllowsDatabase(db) && tc.user.AllowsDatabase(db), got.AllowsDatabase(db), db)
			}
		})
	}
}

func TestNarrowRolesAndIdentityKept(t *testing.T) {
	issued := &Identity{User: "u", Role: "admin", Provider: ProviderKey, KeyID: "k1", Tenant: Any, Databases: []string{Any}}
	got, err := Narrow(issued, &Identity{User: "u", Role: "reader", Tenant: Any, Databases: []string{Any}})
	require.NoError(t, err)
	assert.Equal(t, "admin", got.Role, "the issued role stays: RBAC intersects it with the user's")
	assert.Equal(t, []string{"reader"}, got.UserRoles)
	assert.Equal(t, "k1", got.KeyID)
	assert.Equal(t, ProviderKey, got.Provider)
	got2, err := Narrow(got, &Identity{User: "u", Role: "viewer"})
	require.NoError(t, err)
	assert.Equal(t, []string{"reader", "viewer"}, got2.UserRoles)
	assert.Equal(t, []string{"reader"}, got.UserRoles, "narrowing copies: the first identity is unchanged")
	assert.Empty(t, issued.UserRoles)
	got3, err := Narrow(issued, &Identity{User: "u", Tenant: "acme"})
	require.NoError(t, err)
	assert.Empty(t, got3.UserRoles, "a user without a role caps no role")
}

func TestIntersectGrants(t *testing.T) {
	key := grants(t, map[string]string{"docs": "admin", "team-*": "write", "pub": "read"})
	user := grants(t, map[string]string{"docs": "read", "team-a": "admin", "other": "admin"})
	assert.Nil(t, IntersectGrants(nil, nil))
	assert.Same(t, key, IntersectGrants(key, nil))
	assert.Same(t, user, IntersectGrants(nil, user))
	g := IntersectGrants(key, user)
	for name, want := range map[string]Level{
		"docs": LevelRead, "team-a": LevelWrite, "team-b": LevelNone, "pub": LevelNone, "other": LevelNone, "x": LevelNone,
	} {
		assert.Equal(t, want, g.Level(name), name)
	}
	// A chain: narrowed twice, every cap holds.
	g2 := IntersectGrants(g, grants(t, map[string]string{"*": "read"}))
	assert.Equal(t, LevelRead, g2.Level("team-a"))
	assert.Equal(t, LevelRead, g2.Level("docs"))
	assert.Equal(t, LevelNone, g2.Level("pub"))
	assert.Contains(t, g.String(), " within ")
	assert.Equal(t, key.Map(), g.Map(), "Map gives the credential's own grants")
}

func TestGlobCovers(t *testing.T) {
	cases := []struct {
		b, a string
		want bool
	}{
		{"*", "anything*", true},
		{"*", "?", true},
		{"team-*", "team-a", true},
		{"team-*", "team-*", true},
		{"team-*", "team-a*", true},
		{"team-*", "team-?", true},
		{"team-?", "team-a", true},
		{"team-?", "team-?", true},
		{"team-?", "team-*", false},
		{"team-?", "team-ab", false},
		{"team-a", "team-?", false},
		{"team-a", "team-a", true},
		{"team-*", "*", false},
		{"team-*", "tea*", false},
		{"*-prod", "team-*", false},
		{"*-prod", "team-*-prod", true},
		{"a*b*c", "a*bxb*c", true},
		{"a*c", "ab", false},
		{"?", "", false},
		{"", "", true},
		{"*", "", true},
		{"docs", "doc?", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, globCovers(tc.b, tc.a), "%q covers %q", tc.b, tc.a)
		if tc.want && !strings.ContainsAny(tc.a, "*?") {
			assert.True(t, globMatch(tc.b, tc.a), "sound for names: %q %q", tc.b, tc.a)
		}
	}
}

func TestWider(t *testing.T) {
	user := &Identity{User: "u", Tenant: "acme", Databases: []string{"prod"}, Collections: grants(t, map[string]string{"docs": "write", "team-*": "read"})}
	assert.Empty(t, Wider(&Identity{User: "u", Tenant: "acme", Databases: []string{"prod"}, Collections: grants(t, map[string]string{"docs": "read", "team-a*": "read"})}, user))
	got := Wider(&Identity{User: "u", Tenant: Any, Databases: []string{Any}}, user)
	assert.Equal(t, []string{`tenant "*" beyond the user's "acme"`, "every database beyond the user's prod", `every collection beyond the user's "docs=write,team-*=read"`}, got)
	got = Wider(&Identity{User: "u", Tenant: "acme", Databases: []string{"prod", "dev"}, Collections: grants(t, map[string]string{"docs": "admin", "team-*": "read", "x": "read"})}, user)
	assert.Equal(t, []string{`database "dev" beyond the user's prod`, `collection grant docs=admin beyond the user's "docs=write,team-*=read"`, `collection grant x=read beyond the user's "docs=write,team-*=read"`}, got)
	assert.Empty(t, Wider(&Identity{User: "u", Tenant: Any}, &Identity{User: "u", Tenant: Any, Databases: []string{Any}}))
	// Grants narrowed before: Covers honours the cap.
	capped := IntersectGrants(grants(t, map[string]string{"*": "admin"}), grants(t, map[string]string{"team-*": "read"}))
	assert.True(t, capped.Covers("team-x", LevelRead))
	assert.False(t, capped.Covers("team-x", LevelWrite))
	assert.True(t, capped.Covers("team-?", LevelRead))
	assert.False(t, capped.Covers("*", LevelRead))
	assert.False(t, capped.Covers("other", LevelRead))
}

// A key file whose keys reach beyond their users: each is narrowed to its
// user's (or left out when nothing is left), with a warning that names
// the keys file's line and the users file's.
func TestKeysNarrowedToTheirUsersAtLoad(t *testing.T) {
	users := writeFile(t, "users.yaml", `users:
  - id: alice
    role: reader
    tenant: acme
    databases: [prod]
    collections: {docs: read, "team-*": write}
    tokens: [tok-alice-1]
  - id: root
    tokens: [tok-root-1]
`)
	wide, l1 := newTestKey(t, KeyEntry{User: "alice", Role: "admin", Collections: grants(t, map[string]string{"docs": "admin", "team-a": "write"})})
	_, l2 := newTestKey(t, KeyEntry{User: "alice", Tenant: "beta"})
	within, l3 := newTestKey(t, KeyEntry{User: "alice", Tenant: "acme", Databases: []string{"prod"}, Collections: grants(t, map[string]string{"docs": "read"})})
	bob, l4 := newTestKey(t, KeyEntry{User: "bob", Role: "admin"})
	rootKey, l5 := newTestKey(t, KeyEntry{User: "root", Role: "admin", Tenant: "x"})
	keys := writeFile(t, "keys.jsonl", strings.Join([]string{l1, l2, l3, l4, l5}, "\n")+"\n")
	c, err := Load(Sources{UsersFile: users, TokenFiles: []string{users}, KeysFile: keys})
	require.NoError(t, err)
	a := NewAuthenticator(c, Options{})

	id, err := a.CheckToken(c, wide)
	require.NoError(t, err)
	assert.Equal(t, "acme", id.Tenant)
	assert.Equal(t, []string{"prod"}, id.Databases)
	assert.Equal(t, LevelRead, id.Collections.Level("docs"), "admin on docs narrowed to the user's read")
	assert.Equal(t, LevelWrite, id.Collections.Level("team-a"))
	assert.Equal(t, LevelNone, id.Collections.Level("team-b"), "the key's own grants still hold")
	assert.Equal(t, "admin", id.Role)
	assert.Equal(t, []string{"reader"}, id.UserRoles)

	id, err = a.CheckToken(c, within)
	require.NoError(t, err)
	assert.Equal(t, "acme", id.Tenant)
	id, err = a.CheckToken(c, bob)
	require.NoError(t, err)
	assert.Equal(t, Any, id.Tenant, "a user the files do not name keeps the issued scope")
	assert.Empty(t, id.UserRoles)
	id, err = a.CheckToken(c, rootKey)
	require.NoError(t, err)
	assert.Equal(t, "x", id.Tenant, "a user the files give everything and no role narrows nothing")
	assert.Equal(t, 4, c.NumKeys(), "the key outside its user's tenant is left out")

	w := c.Warnings()
	require.Len(t, w, 2, "%q", w)
	assert.Contains(t, w[0], keys+":1: key ")
	assert.Contains(t, w[0], `tenant "*" beyond the user's "acme" (user "alice" at `+users+":2)")
	assert.Contains(t, w[0], "every database beyond the user's prod")
	assert.Contains(t, w[0], `collection grant docs=admin beyond the user's`)
	assert.NotContains(t, w[0], "team-a", "team-a=write is within team-*=write")
	assert.Contains(t, w[1], keys+":2: key ")
	assert.Contains(t, w[1], `refused: user "alice" (`+users+`:2): tenant "beta" is not its user's "acme"`)
	for _, line := range w {
		assert.NotContains(t, line, "tok-alice", "no secret in a warning")
	}
}

// A users YAML token file names its users too.
func TestKeysNarrowedByTokenFileUsers(t *testing.T) {
	tokens := writeFile(t, "tokens.yaml", "users:\n  - id: carol\n    tenant: acme\n    tokens: [tok-carol-1, tok-carol-2]\n")
	key, line := newTestKey(t, KeyEntry{User: "carol"})
	c, err := Load(Sources{TokenFiles: []string{tokens}, KeysFile: writeFile(t, "keys.jsonl", line+"\n")})
	require.NoError(t, err)
	id, _, err := c.checkKey(key, time.Now())
	require.NoError(t, err)
	assert.Equal(t, "acme", id.Tenant)
	require.Len(t, c.named["carol"], 1, "two tokens, one identity named once")

	narrowed, err := c.NarrowToUser(&Identity{User: "carol", Tenant: "beta", Provider: ProviderJWT})
	assert.Nil(t, narrowed)
	assert.True(t, errors.Is(err, ErrOutsideUser))
	assert.Contains(t, err.Error(), tokens+":2")
	same := &Identity{User: "dave", Tenant: "beta"}
	got, err := c.NarrowToUser(same)
	require.NoError(t, err)
	assert.Same(t, same, got, "a user the files do not name: the identity itself, no copy")
}

// Row conditions: both the credential's and its user's hold.
func TestNarrowRows(t *testing.T) {
	user := &Identity{User: "u", Rows: map[string]string{"owner": "u"}}
	got, err := Narrow(&Identity{User: "u", Rows: map[string]string{"team": "a"}}, user)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"owner": "u", "team": "a"}, got.Rows)
	got, err = Narrow(&Identity{User: "u"}, user)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"owner": "u"}, got.Rows)
	_, err = Narrow(&Identity{User: "u", Rows: map[string]string{"owner": "v"}}, user)
	assert.ErrorIs(t, err, ErrOutsideUser)
	assert.Equal(t, []string{`rows without the user's owner="u"`}, Wider(&Identity{User: "u"}, user))
	assert.Empty(t, Wider(&Identity{User: "u", Rows: map[string]string{"owner": "u", "x": "y"}}, user))
	c := &Credentials{}
	c.nameUser(user, "users.yaml:2")
	assert.True(t, c.NamesUser("u"), "rows alone name a user")
}
