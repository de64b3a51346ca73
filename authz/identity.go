package authz

import (
	"encoding/json"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

type identityBody struct {
	UserID    string   `json:"user_id"`
	Tenant    string   `json:"tenant"`
	Databases []string `json:"databases"`
}

// IdentityBody is the JSON answer to GET /api/v2/auth/identity for id:
// {"user_id": …, "tenant": …, "databases": […]}.
//
// Clients use it to pick their tenant and database, and the JS client
// (chromadb 3.x) throws unless databases holds exactly one name other than
// "*". So a caller of every tenant gets Chroma's default tenant, and a
// caller of every database gets ["default_database"], which is what Chroma
// answers when it has no auth. A scoped caller gets its own tenant and
// databases (several databases still make the JS client ask for one).
func IdentityBody(id *providers.Identity) []byte {
	b := identityBody{Tenant: DefaultTenant, Databases: []string{DefaultDatabase}}
	if id != nil {
		b.UserID = id.User
		if !id.AllTenants() {
			b.Tenant = id.Tenant
		}
		if !id.AllDatabases() {
			b.Databases = append([]string(nil), id.Databases...)
		}
	}
	out, err := json.Marshal(b)
	if err != nil { // strings and a slice of strings always marshal
		return []byte(`{"user_id":"","tenant":"default_tenant","databases":["default_database"]}`)
	}
	return out
}
