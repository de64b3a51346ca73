package authz

import (
	"fmt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Denied is an authorization refusal. Its reason names the route, action,
// tenant or database at stake, never a credential, so it is safe to show
// the client.
type Denied struct {
	Reason string
	// Detail, when set, says more for the log than the client may learn
	// (the name behind a collection id).
	Detail string
	// Action is the action RBAC refused; Collection the collection name a
	// grant refused, and Need the level it lacked ("" and LevelNone when
	// not such a refusal). For explanations (Decision.Rule).
	Action     string
	Collection string
	Need       providers.Level
}

func (d *Denied) Error() string { return d.Reason }

func deny(format string, args ...any) error {
	return &Denied{Reason: fmt.Sprintf(format, args...)}
}

// maxShown bounds a request-supplied name quoted in a reason.
const maxShown = 64

func shown(s string) string {
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// CheckScope checks the route against the tenant and databases of the
// caller. It returns nil or a *Denied.
//
// An identity of every tenant and every database ("*" and ["*"]) may reach
// any route; what it may do there is RBAC's concern. Any other identity is
// scoped, and then:
//
//   - public and identity routes, and routes that need only authentication
//     (pre-flight-checks, docs), are allowed;
//   - unknown and Unscoped routes are denied, as are server-wide actions
//     (system:reset);
//   - the route's tenant must be the caller's;
//   - a route into a database (its path, or the body of a create, names
//     it) needs that database among the caller's;
//   - a tenant-level route (no database) is allowed for the tenant's own
//     GET (tenant:get_tenant) to every caller of the tenant, and otherwise
//     (listing or creating databases, updating the tenant, creating a
//     tenant) only to a caller of all the tenant's databases. Chroma 0.5
//     checked only the tenant there; the gateway does not let a caller
//     limited to some databases list or touch the others;
//   - the CRN route names a tenant resource name, not the tenant: the
//     gateway cannot relate it to the caller's tenant, so it is denied to
//     callers of one tenant (callers of every tenant still need the
//     database).
//
// CheckScope does not check that a collection looked up by id (see
// Route.CollectionByID) lives in the route's tenant and database.
func CheckScope(id *providers.Identity, rt Route) error {
	if id == nil {
		return deny("no authenticated identity")
	}
	if id.AllTenants() && id.AllDatabases() && id.Collections == nil {
		return nil
	}
	if !rt.Known {
		return deny("request is not a Chroma route the gateway can scope")
	}
	if rt.Public || rt.Identity {
		return nil
	}
	if rt.IDOnly {
		return deny("%s names its object by id alone; not allowed to a scoped user", rt.Name)
	}
	if rt.Unscoped {
		return deny("%s does not name its tenant and database; not allowed to a scoped user", rt.Name)
	}
	if rt.Tenant == "" {
		if rt.Action == "" {
			return nil
		}
		return deny("%s is server-wide; not allowed to a scoped user", rt.Action)
	}
	if !id.AllowsTenant(rt.Tenant) {
		return deny("tenant %s is outside the user's scope", shown(rt.Tenant))
	}
	if rt.CRN && !id.AllTenants() {
		return deny("collection by CRN names a tenant resource name; use the tenant's path")
	}
	if rt.Database != "" {
		if !id.AllowsDatabase(rt.Database) {
			return deny("database %s is outside the user's scope", shown(rt.Database))
		}
		return nil
	}
	if rt.Action == ActionGetTenant {
		return nil
	}
	if !id.AllDatabases() {
		return deny("%s reaches every database of tenant %s; the user has only some", rt.Action, shown(rt.Tenant))
	}
	return nil
}
