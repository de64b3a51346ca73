package authz

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// OverwriteSingleton does what Chroma 0.5's
// overwrite_singleton_tenant_database_access_from_auth did: a user scoped
// to one tenant (and one database) whose client addresses Chroma's
// defaults — as the JS ChromaClient, chroma-go and the Python client do
// unless told a tenant and database — is sent to its own tenant (and
// database) instead of being refused. Only the default names are
// rewritten, and only in the v2 path; the result is always inside the
// user's scope, so it grants nothing.
func OverwriteSingleton(r *http.Request, id *providers.Identity) {
	rest, ok := singletonRest(r, id)
	if !ok || !singletonNamed(rest, id) {
		return // the usual request: nothing to change, nothing split
	}
	rewriteSingleton(r, id, rest)
}

// singletonPrefix is where the tenant starts in a v2 path.
const singletonPrefix = "/api/v2/tenants/"

// singletonRest is the path after singletonPrefix, when a rewrite may
// apply: a user not of every tenant, a path with no escapes, a v2 tenant
// path.
func singletonRest(r *http.Request, id *providers.Identity) (string, bool) {
	if id.AllTenants() || r.URL.RawPath != "" {
		return "", false
	}
	return strings.CutPrefix(r.URL.Path, singletonPrefix)
}

// rewriteSingleton splits rest and puts the identity's tenant (and
// database) in place of the defaults it names; a path naming neither is
// left as it was.
func rewriteSingleton(r *http.Request, id *providers.Identity, rest string) {
	const prefix = singletonPrefix
	segs := strings.Split(rest, "/")
	changed := false
	if segs[0] == DefaultTenant && segs[0] != id.Tenant {
		segs[0] = id.Tenant
		changed = true
	}
	if len(segs) >= 3 && segs[1] == "databases" && segs[2] == DefaultDatabase &&
		len(id.Databases) == 1 && !id.AllDatabases() && segs[2] != id.Databases[0] {
		segs[2] = id.Databases[0]
		changed = true
	}
	if !changed {
		return
	}
	escaped := make([]string, len(segs))
	for i, s := range segs {
		escaped[i] = url.PathEscape(s)
	}
	raw := prefix + strings.Join(escaped, "/")
	r.URL.Path = prefix + strings.Join(segs, "/")
	r.URL.RawPath = ""
	if raw != r.URL.Path {
		r.URL.RawPath = raw
	}
	r.RequestURI = r.URL.RequestURI()
}

// IsIdentityRequest tells GET /api/v{1,2}/auth/identity, in the one exact
// form. Any other spelling goes to Chroma, whose own answer is the same
// for a user of every tenant and database.
func IsIdentityRequest(r *http.Request) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawPath != "" {
		return false
	}
	return r.URL.Path == "/api/v2/auth/identity" || r.URL.Path == "/api/v1/auth/identity"
}

// singletonNamed reports whether the path after "/api/v2/tenants/" names
// the default tenant or database where OverwriteSingleton puts id's own:
// its first segment is the default tenant (not id's), or its third the
// default database (not id's one database). A cheap test, before
// anything is split; OverwriteSingleton decides.
func singletonNamed(rest string, id *providers.Identity) bool {
	tenant, after, _ := strings.Cut(rest, "/")
	if tenant == DefaultTenant && tenant != id.Tenant {
		return true
	}
	after, ok := strings.CutPrefix(after, "databases/")
	if !ok {
		return false
	}
	db, _, _ := strings.Cut(after, "/")
	return db == DefaultDatabase && len(id.Databases) == 1 && !id.AllDatabases() && db != id.Databases[0]
}
