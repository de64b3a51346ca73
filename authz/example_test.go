package authz_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// The order a handler applies the package in: classify, answer identity,
// check the scope, then RBAC.
func Example() {
	rbac, _ := authz.ParseRBAC("authz.yaml", []byte(`
roles_mapping:
  reader: { actions: [db:list_collections, collection:query] }
`))
	who := &providers.Identity{User: "reader", Tenant: "acme", Databases: []string{"prod"}, Role: "reader"}

	for _, target := range []string{
		"/api/v2/auth/identity",
		"/api/v2/tenants/acme/databases/prod/collections",
		"/api/v2/tenants/beta/databases/prod/collections",
		"/api/v2/tenants/acme/databases/prod/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/add",
	} {
		method := "GET"
		if strings.HasSuffix(target, "/add") {
			method = "POST"
		}
		r := httptest.NewRequest(method, target, strings.NewReader("{}"))
		rt, err := authz.Classify(r)
		switch {
		case err != nil:
			fmt.Println("400/413:", err)
		case rt.Identity:
			fmt.Println("200", string(authz.IdentityBody(who)))
		default:
			if err := authz.CheckScope(who, rt); err != nil {
				fmt.Println("403 Forbidden:", err)
			} else if err := rbac.Authorize(who, rt); err != nil {
				fmt.Println("403 Forbidden:", err)
			} else {
				fmt.Println("forward", rt.Name)
			}
		}
	}
	// Output:
	// 200 {"user_id":"reader","tenant":"acme","databases":["prod"]}
	// forward v2 list_collections
	// 403 Forbidden: tenant "beta" is outside the user's scope
	// 403 Forbidden: collection:add
}
