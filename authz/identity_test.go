package authz

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func TestIdentityBody(t *testing.T) {
	cases := []struct {
		name string
		id   *providers.Identity
		want string
	}{
		{"all", admin, `{"user_id":"admin","tenant":"default_tenant","databases":["default_database"]}`},
		{"bare token", bare, `{"user_id":"anonymous","tenant":"default_tenant","databases":["default_database"]}`},
		{"scoped", acmeProd, `{"user_id":"reader","tenant":"acme","databases":["prod"]}`},
		{"tenant, all databases", acmeAll, `{"user_id":"lead","tenant":"acme","databases":["default_database"]}`},
		{"all tenants, one database", anyProd, `{"user_id":"ops","tenant":"default_tenant","databases":["prod"]}`},
		{"two databases", &providers.Identity{User: "u", Tenant: "acme", Databases: []string{"dev", "prod"}}, `{"user_id":"u","tenant":"acme","databases":["dev","prod"]}`},
		{"star among others", &providers.Identity{User: "u", Tenant: "acme", Databases: []string{"dev", "*"}}, `{"user_id":"u","tenant":"acme","databases":["default_database"]}`},
		{"nil", nil, `{"user_id":"","tenant":"default_tenant","databases":["default_database"]}`},
		{"escaping", &providers.Identity{User: `a"<b>`, Tenant: "*", Databases: []string{"*"}}, `{"user_id":"a\"\u003cb\u003e","tenant":"default_tenant","databases":["default_database"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := IdentityBody(c.id)
			assert.JSONEq(t, c.want, string(got))
			var parsed map[string]any
			require.NoError(t, json.Unmarshal(got, &parsed))
			assert.Len(t, parsed, 3, "no role or provider leaks into the answer")
		})
	}
}
