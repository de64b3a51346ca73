package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTokenFilePlain(t *testing.T) {
	entries, err := ParseTokenFile("tokens.txt", []byte("# team tokens\ntok-1\n\n  tok-2  \n"))
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "tok-1", entries[0].Token)
	assert.Equal(t, "tokens.txt:2", entries[0].Source)
	assert.Equal(t, "tok-2", entries[1].Token)
	assert.Equal(t, AnonymousUser, entries[1].Identity.User)
	assert.Equal(t, Any, entries[1].Identity.Tenant)
	assert.Equal(t, []string{Any}, entries[1].Identity.Databases)
}

func TestParseTokenFileErrorsNeverQuoteTheToken(t *testing.T) {
	cases := []struct {
		name, data string
		want       []string
	}{
		{"space", "good\nsecret with-space\n", []string{"tokens.txt:2", "printable ASCII"}},
		{"non-ascii", "sécret\n", []string{"tokens.txt:1", "printable ASCII"}},
		{"duplicate", "secret\nsecret\n", []string{"tokens.txt:2", "same token as line 1"}},
		{"empty", "# none\n", []string{"tokens.txt", "no tokens"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTokenFile("tokens.txt", []byte(tc.data))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "sécret")
		})
	}
}

const usersYAML = `users:
  - id: user@example.com
    role: admin
    tenant: acme
    databases: [prod, dev]
    tokens: [test-token-admin]
  - id: reader
    role: db_read
    tokens: [my_api_token, second_token]
`

func TestParseTokenFileUsersYAML(t *testing.T) {
	entries, err := ParseTokenFile("users.yaml", []byte(usersYAML))
	require.NoError(t, err)
	require.Len(t, entries, 3)
	admin := entries[0]
	assert.Equal(t, "test-token-admin", admin.Token)
	assert.Equal(t, "user@example.com", admin.Identity.User)
	assert.Equal(t, "acme", admin.Identity.Tenant)
	assert.Equal(t, []string{"prod", "dev"}, admin.Identity.Databases)
	assert.Equal(t, "admin", admin.Identity.Role)
	assert.Equal(t, "users.yaml:2", admin.Source)
	reader := entries[2]
	assert.Equal(t, "second_token", reader.Token)
	assert.Equal(t, "reader", reader.Identity.User)
	assert.Equal(t, Any, reader.Identity.Tenant, "tenant defaults to *")
	assert.Equal(t, []string{Any}, reader.Identity.Databases, "databases default to [*]")
}

func TestParseUsersErrors(t *testing.T) {
	cases := []struct {
		name, data string
		tokens     bool
		want       []string
	}{
		{"shared token", "users:\n  - id: a\n    tokens: [secret-x]\n  - id: b\n    tokens: [secret-x]\n", true,
			[]string{"users.yaml:4", `user "b"`, `already the token of user "a"`}},
		{"no tokens", "users:\n  - id: a\n    role: admin\n", true, []string{"users.yaml:2", `user "a"`, "no tokens"}},
		{"no id", "users:\n  - role: admin\n    tokens: [secret-x]\n", true, []string{"users.yaml:2", "users[0]", "no id"}},
		{"duplicate id", "users:\n  - id: a\n    tokens: [secret-1]\n  - id: a\n    tokens: [secret-2]\n", true,
			[]string{"users.yaml:4", `user "a"`, "duplicate user"}},
		{"malformed yaml", "users:\n  - id: a\n   tokens: [secret-1\n", true, []string{"users.yaml", "malformed users YAML"}},
		{"unknown key", "users:\n  - id: a\n    tokenz: [secret-1]\n", false, []string{"users.yaml", "tokenz"}},
		{"wrong type", "users:\n  - id: a\n    databases: secret-db\n", false, []string{"users.yaml:2", "users[0]", "malformed entry"}},
		{"empty", "users: []\n", false, []string{"users.yaml", "no users"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUsers("users.yaml", []byte(tc.data), tc.tokens)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestParseUsersAllowsRolesMappingInTheSameFile(t *testing.T) {
	data := "roles_mapping:\n  admin: {actions: [\"system:reset\"]}\n" + usersYAML
	users, err := ParseUsers("users.yaml", []byte(data), true)
	require.NoError(t, err)
	assert.Len(t, users, 2)
}
