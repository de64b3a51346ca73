package authz

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const rbacYAML = `
roles_mapping:
  admin:
    actions:
      - system:reset
      - tenant:create_tenant
      - tenant:get_tenant
      - db:create_database
      - db:list_collections
      - db:create_collection
      - db:get_or_create_collection
      - collection:get_collection
      - collection:add
      - collection:query
      - collection:get
  reader:
    actions: ["db:list_collections", "collection:get_collection", "collection:get", "collection:query", "collection:count"]
  creator:
    actions: ["db:get_or_create_collection"]
users:
  - id: user@example.com
    role: admin
  - { id: reader, role: reader }
  - { id: demoted, role: reader }
`

func TestParseRBACAndAllowed(t *testing.T) {
	p, err := ParseRBAC("authz.yaml", []byte(rbacYAML))
	require.NoError(t, err)
	assert.Equal(t, []string{"admin", "creator", "reader"}, p.Roles())
	assert.Empty(t, p.UnknownActions())
	assert.Equal(t, "authz.yaml", p.Name())

	adminID := &providers.Identity{User: "user@example.com"}
	readerID := &providers.Identity{User: "reader"}
	// The file's users section wins over the identity's own role.
	demoted := &providers.Identity{User: "demoted", Role: "admin"}
	// Users absent from the file fall back to their own role.
	tokenAdmin := &providers.Identity{User: "ci", Role: "admin"}
	noRole := &providers.Identity{User: "ci"}
	ghostRole := &providers.Identity{User: "ci", Role: "superuser"}
	creator := &providers.Identity{User: "bot", Role: "creator"}

	cases := []struct {
		id     *providers.Identity
		action string
		want   bool
	}{
		{adminID, ActionReset, true},
		{adminID, ActionAdd, true},
		{adminID, ActionDeleteCollection, false},
		{readerID, ActionQuery, true},
		{readerID, ActionAdd, false},
		{readerID, ActionReset, false},
		{demoted, ActionAdd, false},
		{demoted, ActionQuery, true},
		{tokenAdmin, ActionAdd, true},
		{noRole, ActionQuery, false},
		{ghostRole, ActionQuery, false},
		{creator, ActionGetOrCreateCollection, true},
		{creator, ActionCreateCollection, false},
		{adminID, "", false},
		{nil, ActionQuery, false},
	}
	for _, c := range cases {
		name := "nil"
		if c.id != nil {
			name = c.id.User + "/" + c.id.Role
		}
		assert.Equal(t, c.want, p.Allowed(c.id, c.action), "%s %s", name, c.action)
	}
	var nilRBAC *RBAC
	assert.False(t, nilRBAC.Allowed(adminID, ActionQuery))
	assert.Equal(t, "reader", p.RoleOf(demoted))
	assert.Equal(t, "admin", p.RoleOf(tokenAdmin))
	assert.Equal(t, "", p.RoleOf(noRole))
}

func TestAuthorizeRoute(t *testing.T) {
	p, err := ParseRBAC("authz.yaml", []byte(rbacYAML))
	require.NoError(t, err)
	readerID := &providers.Identity{User: "reader"}

	ok := []string{"/api/v2/heartbeat", "/api/v2/auth/identity", "/api/v2/pre-flight-checks", tp + "/collections"}
	for _, path := range ok {
		assert.NoError(t, p.Authorize(readerID, classify(t, "GET", path, "")), path)
	}
	err = p.Authorize(readerID, classify(t, "POST", cp+"/add", "{}"))
	var d *Denied
	require.ErrorAs(t, err, &d)
	assert.Equal(t, "collection:add", d.Reason)

	// Unknown routes are denied when RBAC is on, whatever the role.
	adminID := &providers.Identity{User: "user@example.com"}
	assert.Error(t, p.Authorize(adminID, classify(t, "GET", "/api/v2/brand_new_endpoint", "")))
	assert.Error(t, p.Authorize(adminID, classify(t, "GET", "/api/v2/heartbeat/", "")))

	// get_or_create is its own action.
	creator := &providers.Identity{User: "bot", Role: "creator"}
	assert.NoError(t, p.Authorize(creator, classify(t, "POST", tp+"/collections", `{"name":"d","get_or_create":true}`)))
	assert.Error(t, p.Authorize(creator, classify(t, "POST", tp+"/collections", `{"name":"d"}`)))
}

func TestParseRBACErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		wants      []string // substrings of the error
	}{
		{"malformed", "roles_mapping: [admin\n", []string{"f.yaml", "malformed"}},
		{"tabs", "roles_mapping:\n\tadmin: {}\n", []string{"f.yaml", "malformed"}},
		{"not a mapping", "- a\n- b\n", []string{"f.yaml", "malformed"}},
		{"empty", "", []string{"f.yaml", "empty"}},
		{"no roles", "users: []\n", []string{"f.yaml", "no roles_mapping"}},
		{"role without actions", "roles_mapping:\n  admin: {}\n", []string{"f.yaml", `role "admin" has no actions`}},
		{"role null", "roles_mapping:\n  admin:\n", []string{`role "admin" has no actions`}},
		{"role empty list", "roles_mapping:\n  admin: {actions: []}\n", []string{`role "admin" has no actions`}},
		{"bad action", "roles_mapping:\n  admin: {actions: [query]}\n", []string{`role "admin"`, `actions[0] "query"`}},
		{"blank action", "roles_mapping:\n  admin: {actions: [\"collection:get\", \"\"]}\n", []string{`actions[1]`}},
		{"duplicate role", "roles_mapping:\n  admin: {actions: [a:b]}\n  admin: {actions: [a:c]}\n", []string{"f.yaml", "malformed", "admin"}},
		{"user without id", "roles_mapping:\n  r: {actions: [a:b]}\nusers:\n  - {role: r}\n", []string{"users[0]", "missing id"}},
		{"user without role", "roles_mapping:\n  r: {actions: [a:b]}\nusers:\n  - {id: bob}\n", []string{`users[0] (id "bob")`, "missing role"}},
		{"duplicate user", "roles_mapping:\n  r: {actions: [a:b]}\nusers:\n  - {id: bob, role: r}\n  - {id: ann, role: r}\n  - {id: bob, role: r}\n", []string{`users[2] (id "bob")`, "duplicate", "users[0]"}},
		{"unknown role", "roles_mapping:\n  r: {actions: [a:b]}\nusers:\n  - {id: bob, role: admin}\n", []string{`users[0] (id "bob")`, `unknown role "admin"`, "r"}},
		{"actions not a list", "roles_mapping:\n  r: {actions: {a: b}}\n", []string{"malformed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRBAC("f.yaml", []byte(c.yaml))
			require.Error(t, err)
			for _, w := range c.wants {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestRBACUnknownActions(t *testing.T) {
	p, err := ParseRBAC("f.yaml", []byte("roles_mapping:\n  r: {actions: [collection:qurey, collection:query, collection:peek]}\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"collection:qurey"}, p.UnknownActions())
}

func TestLoadRBAC(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authz.yaml")
	require.NoError(t, os.WriteFile(path, []byte(rbacYAML), 0o600))
	p, err := LoadRBAC(path)
	require.NoError(t, err)
	assert.Equal(t, path, p.Name())

	_, err = LoadRBAC(filepath.Join(dir, "missing.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.yaml")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("roles_mapping:\n  r: {}\n"), 0o600))
	_, err = LoadRBAC(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
}

// A key or a JWT issued with a lesser role keeps it, whatever role the
// RBAC file gives its user.
func TestRoleOfIssuedCredentials(t *testing.T) {
	p, err := ParseRBAC("r.yaml", []byte("roles_mapping:\n  admin: { actions: [system:reset] }\n  reader: { actions: [collection:get] }\nusers:\n  - { id: alice, role: admin }\n"))
	require.NoError(t, err)
	for _, prov := range []string{providers.ProviderKey, providers.ProviderJWT} {
		assert.Equal(t, "reader", p.RoleOf(&providers.Identity{User: "alice", Role: "reader", Provider: prov}), prov)
		assert.Equal(t, "admin", p.RoleOf(&providers.Identity{User: "alice", Provider: prov}), "no role of its own: the user's")
	}
	assert.Equal(t, "admin", p.RoleOf(&providers.Identity{User: "alice", Role: "reader", Provider: providers.ProviderBasic}), "the RBAC file wins for users-file roles, as in Chroma")
}
