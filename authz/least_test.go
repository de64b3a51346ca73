package authz

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// An issued credential (API key, JWT) never acts beyond its user's role:
// the actions of its own role and of its user's intersect. Its user's
// role is the RBAC file's users section's, else the users file's
// (UserRoles); a user neither names keeps the issued role.
func TestIssuedCredentialsNeverExceedTheirUsersRole(t *testing.T) {
	p, err := ParseRBAC("r.yaml", []byte(`
roles_mapping:
  admin:  { actions: [db:create_collection, collection:get, collection:add, collection:delete] }
  reader: { actions: [collection:get, collection:count] }
  writer: { actions: [collection:get, collection:add] }
users:
  - { id: alice, role: reader }
`))
	require.NoError(t, err)
	for _, prov := range []string{providers.ProviderKey, providers.ProviderJWT} {
		adminAlice := &providers.Identity{User: "alice", Role: "admin", Provider: prov}
		assert.False(t, p.Allowed(adminAlice, "db:create_collection"), "%s: admin issued to a reader", prov)
		assert.False(t, p.Allowed(adminAlice, "collection:count"), "%s: the reader's action the admin role lacks", prov)
		assert.True(t, p.Allowed(adminAlice, "collection:get"), prov)
		assert.Equal(t, []string{"collection:add", "collection:delete", "db:create_collection"}, p.Excess(adminAlice))

		adminBob := &providers.Identity{User: "bob", Role: "admin", Provider: prov}
		assert.True(t, p.Allowed(adminBob, "db:create_collection"), "%s: a user the files do not name keeps the issued role", prov)
		assert.Empty(t, p.Excess(adminBob))

		fromUsersFile := &providers.Identity{User: "carol", Role: "admin", UserRoles: []string{"writer"}, Provider: prov}
		assert.True(t, p.Allowed(fromUsersFile, "collection:add"))
		assert.False(t, p.Allowed(fromUsersFile, "collection:delete"), "%s: capped by the users file's role", prov)
		twoFiles := &providers.Identity{User: "carol", Role: "admin", UserRoles: []string{"writer", "reader"}, Provider: prov}
		assert.False(t, p.Allowed(twoFiles, "collection:add"), "%s: every role the files give caps it", prov)
		assert.True(t, p.Allowed(twoFiles, "collection:get"))

		noRole := &providers.Identity{User: "carol", UserRoles: []string{"writer"}, Provider: prov}
		assert.Equal(t, "writer", p.RoleOf(noRole), "no role of its own: its user's from the users file")
		assert.True(t, p.Allowed(noRole, "collection:add"))

		rbacWins := &providers.Identity{User: "alice", Role: "admin", UserRoles: []string{"admin"}, Provider: prov}
		assert.False(t, p.Allowed(rbacWins, "collection:add"), "%s: the RBAC file's users section gives alice's role", prov)

		unknownUserRole := &providers.Identity{User: "carol", Role: "admin", UserRoles: []string{"gone"}, Provider: prov}
		assert.False(t, p.Allowed(unknownUserRole, "collection:get"), "%s: a user's role RBAC lacks allows nothing", prov)
	}
	// Basic and token users are the files: no cap beyond RoleOf.
	basic := &providers.Identity{User: "dave", Role: "admin", UserRoles: []string{"reader"}, Provider: providers.ProviderBasic}
	assert.True(t, p.Allowed(basic, "collection:add"))
	assert.Empty(t, p.Excess(basic))
	var nilRBAC *RBAC
	assert.Nil(t, nilRBAC.Excess(basic))
	_, ok := nilRBAC.UserRole("alice")
	assert.False(t, ok)
	r, ok := p.UserRole("alice")
	assert.True(t, ok)
	assert.Equal(t, "reader", r)
}

// A conditional commit mixing add and delete needs both actions: a role
// with only collection:add is refused it (a mutant checking Action alone,
// not Extra, survives otherwise).
func TestMixedCommitNeedsEveryAction(t *testing.T) {
	p, err := ParseRBAC("r.yaml", []byte("roles_mapping:\n  adder: { actions: [collection:add] }\nusers:\n  - { id: a, role: adder }\n"))
	require.NoError(t, err)
	id := &providers.Identity{User: "a", Tenant: providers.Any, Databases: []string{providers.Any}, Provider: providers.ProviderBasic}
	cp := "/api/v2/tenants/acme/databases/prod/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/conditional/commit"
	for body, allowed := range map[string]bool{
		`{"operations":[{"operation":"add"}]}`:                        true,
		`{"operations":[{"operation":"add"},{"operation":"delete"}]}`: false,
		`{"operations":[{"operation":"delete"},{"operation":"add"}]}`: false,
		`{"operations":[{"operation":"add"},{"operation":"upsert"}]}`: false,
		`{"operations":[{"operation":"add"},{"operation":"add"}]}`:    true,
	} {
		rt := classify(t, "POST", cp, body)
		err := p.Authorize(id, rt)
		if allowed {
			assert.NoError(t, err, body)
		} else {
			assert.Error(t, err, body)
		}
	}
}
