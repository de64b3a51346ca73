package authz

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func TestOverwriteSingleton(t *testing.T) {
	one := &providers.Identity{User: "u", Tenant: "café", Databases: []string{"prod db"}}
	cases := []struct {
		id         *providers.Identity
		in, path   string
		rawPath    string
		requestURI string
	}{
		{one, "/api/v2/tenants/default_tenant/databases/default_database/collections?limit=2",
			"/api/v2/tenants/café/databases/prod db/collections", "/api/v2/tenants/caf%C3%A9/databases/prod%20db/collections",
			"/api/v2/tenants/caf%C3%A9/databases/prod%20db/collections?limit=2"},
		// another tenant's name is left alone (and refused later)
		{one, "/api/v2/tenants/beta/databases/default_database", "/api/v2/tenants/beta/databases/prod db", "/api/v2/tenants/beta/databases/prod%20db", ""},
		// a user of several databases keeps default_database
		{&providers.Identity{Tenant: "acme", Databases: []string{"a", "b"}}, "/api/v2/tenants/default_tenant/databases/default_database",
			"/api/v2/tenants/acme/databases/default_database", "", ""},
		// every tenant: nothing to do; v1 and escaped paths are not touched
		{&providers.Identity{Tenant: "*", Databases: []string{"*"}}, "/api/v2/tenants/default_tenant", "/api/v2/tenants/default_tenant", "", ""},
		{one, "/api/v1/collections", "/api/v1/collections", "", ""},
		{one, "/api/v2/tenants/default%5Ftenant", "/api/v2/tenants/default_tenant", "/api/v2/tenants/default%5Ftenant", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.in, nil)
		OverwriteSingleton(r, c.id)
		assert.Equal(t, c.path, r.URL.Path, c.in)
		assert.Equal(t, c.rawPath, r.URL.RawPath, c.in)
		if c.requestURI != "" {
			assert.Equal(t, c.requestURI, r.RequestURI, c.in)
		}
	}
}

func TestIsIdentityRequest(t *testing.T) {
	for target, want := range map[string]bool{
		"/api/v2/auth/identity": true, "/api/v1/auth/identity": true,
		"/api/v2/auth/identity/": false, "/api/v2/auth/%69dentity": false, "/api/v2/auth": false,
	} {
		assert.Equal(t, want, IsIdentityRequest(httptest.NewRequest("GET", target, nil)), target)
	}
	assert.False(t, IsIdentityRequest(httptest.NewRequest("POST", "/api/v2/auth/identity", nil)))
}
