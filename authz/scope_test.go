package authz

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

var (
	admin    = &providers.Identity{User: "admin", Tenant: "*", Databases: []string{"*"}}
	bare     = &providers.Identity{User: "anonymous"} // no tenant, no databases: all
	acmeProd = &providers.Identity{User: "reader", Tenant: "acme", Databases: []string{"prod"}}
	acmeAll  = &providers.Identity{User: "lead", Tenant: "acme", Databases: []string{"*"}}
	anyProd  = &providers.Identity{User: "ops", Tenant: "*", Databases: []string{"prod"}}
)

func classify(t *testing.T, method, path, body string) Route {
	t.Helper()
	rt, err := Classify(req(method, path, body))
	require.NoError(t, err)
	return rt
}

func TestCheckScopeMatrix(t *testing.T) {
	type row struct {
		method, path, body                string
		admin, acmeProd, acmeAll, anyProd bool // allowed?
	}
	rows := []row{
		{"GET", "/api/v2/heartbeat", "", true, true, true, true},
		{"GET", "/api/v2/auth/identity", "", true, true, true, true},
		{"GET", "/api/v2/pre-flight-checks", "", true, true, true, true},
		{"GET", "/docs", "", true, true, true, true},
		{"POST", "/api/v2/reset", "", true, false, false, false},
		{"POST", "/api/v2/tenants", `{"name":"acme"}`, true, false, true, false},
		{"POST", "/api/v2/tenants", `{"name":"beta"}`, true, false, false, false},
		{"POST", "/api/v2/tenants", `{}`, true, false, false, false},
		{"GET", "/api/v2/tenants/acme", "", true, true, true, true},
		{"GET", "/api/v2/tenants/beta", "", true, false, false, true},
		{"PATCH", "/api/v2/tenants/acme", `{}`, true, false, true, false},
		{"GET", "/api/v2/tenants/acme/databases", "", true, false, true, false},
		{"GET", "/api/v2/tenants/beta/databases", "", true, false, false, false},
		{"POST", "/api/v2/tenants/acme/databases", `{"name":"prod"}`, true, true, true, true},
		{"POST", "/api/v2/tenants/acme/databases", `{"name":"dev"}`, true, false, true, false},
		{"POST", "/api/v2/tenants/acme/databases", `{}`, true, false, false, false},
		{"POST", "/api/v2/tenants/beta/databases", `{"name":"prod"}`, true, false, false, true},
		{"GET", tp, "", true, true, true, true},
		{"DELETE", tp, "", true, true, true, true},
		{"GET", "/api/v2/tenants/acme/databases/dev", "", true, false, true, false},
		{"GET", "/api/v2/tenants/beta/databases/prod", "", true, false, false, true},
		{"GET", tp + "/collections", "", true, true, true, true},
		{"POST", tp + "/collections", `{"name":"d","get_or_create":true}`, true, true, true, true},
		{"GET", "/api/v2/tenants/acme/databases/dev/collections", "", true, false, true, false},
		{"POST", cp + "/query", "{}", true, true, true, true},
		{"POST", "/api/v2/tenants/beta/databases/prod/collections/" + cid + "/query", "{}", true, false, false, true},
		{"POST", "/api/v2/tenants/acme/databases/dev/collections/" + cid + "/add", "{}", true, false, true, false},
		{"POST", "/api/v2/tenants/acme%2F..%2Fbeta/databases/prod/collections/" + cid + "/get", "{}", true, false, false, false},
		{"GET", "/api/v2/tenants/Acme/databases/prod", "", true, false, false, true},
		{"GET", "/api/v2/tenants/acme%00/databases/prod", "", true, false, false, true},
		{"GET", "/api/v2/collections/acme:prod:docs", "", true, false, false, true},
		{"GET", "/api/v2/collections/beta:prod:docs", "", true, false, false, true},
		{"GET", "/api/v2/collections/beta:dev:docs", "", true, false, false, false},
		{"GET", "/api/v2/unknown", "", true, false, false, false},
		{"GET", "/api/v2/heartbeat/../tenants/beta", "", true, false, false, false},
		// v1
		{"GET", "/api/v1/collections?tenant=acme&database=prod", "", true, true, true, true},
		{"GET", "/api/v1/collections", "", true, false, false, false},
		{"GET", "/api/v1/collections?tenant=beta&database=prod", "", true, false, false, true},
		{"POST", "/api/v1/databases?tenant=acme", `{"name":"prod"}`, true, true, true, true},
		{"GET", "/api/v1/tenants/acme", "", true, true, true, true},
		{"POST", v1cp + "/add", "{}", true, false, false, false},
		{"GET", v1cp + "/count?tenant=acme&database=prod", "", true, false, false, false},
		{"GET", "/api/v1/collections?tenant=acme&tenant=beta", "", true, false, false, false},
		{"GET", "/api/v1/heartbeat", "", true, true, true, true},
	}
	ids := []struct {
		name string
		id   *providers.Identity
		pick func(row) bool
	}{
		{"admin", admin, func(r row) bool { return r.admin }},
		{"bare", bare, func(r row) bool { return r.admin }},
		{"acme/prod", acmeProd, func(r row) bool { return r.acmeProd }},
		{"acme/*", acmeAll, func(r row) bool { return r.acmeAll }},
		{"*/prod", anyProd, func(r row) bool { return r.anyProd }},
	}
	for _, r := range rows {
		rt := classify(t, r.method, r.path, r.body)
		for _, who := range ids {
			err := CheckScope(who.id, rt)
			if who.pick(r) {
				assert.NoError(t, err, "%s %s %s for %s", r.method, r.path, r.body, who.name)
			} else if assert.Error(t, err, "%s %s %s for %s", r.method, r.path, r.body, who.name) {
				var d *Denied
				assert.ErrorAs(t, err, &d)
				assert.NotEmpty(t, d.Reason)
			}
		}
	}
}

func TestCheckScopeOddIdentities(t *testing.T) {
	rt := classify(t, "GET", tp+"/collections", "")
	require.Error(t, CheckScope(nil, rt))

	// Several databases.
	two := &providers.Identity{User: "u", Tenant: "acme", Databases: []string{"dev", "prod"}}
	assert.NoError(t, CheckScope(two, rt))
	assert.Error(t, CheckScope(two, classify(t, "GET", "/api/v2/tenants/acme/databases/test/collections", "")))

	// A tenant given, databases left out: all the tenant's databases.
	tenantOnly := &providers.Identity{User: "u", Tenant: "acme"}
	assert.NoError(t, CheckScope(tenantOnly, classify(t, "GET", "/api/v2/tenants/acme/databases", "")))
	assert.Error(t, CheckScope(tenantOnly, classify(t, "GET", "/api/v2/tenants/beta/databases/prod", "")))
}

func TestDeniedReasonIsBounded(t *testing.T) {
	long := strings.Repeat("t", 5000)
	rt := classify(t, "GET", "/api/v2/tenants/"+long, "")
	err := CheckScope(acmeProd, rt)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 200)
}
