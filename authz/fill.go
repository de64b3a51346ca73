package authz

import (
	"net/url"
	"strings"
)

// Scope fillers: they set a route's tenant, database and collection from
// the path parameters (and, for the v1 API, the query).

func noScope(*Route, []string, *url.URL) {}

func pathTenant(rt *Route, p []string, _ *url.URL) { rt.Tenant = p[0] }

func pathTenantDB(rt *Route, p []string, _ *url.URL) { rt.Tenant, rt.Database = p[0], p[1] }

func pathCollection(rt *Route, p []string, _ *url.URL) {
	rt.Tenant, rt.Database, rt.Collection = p[0], p[1], p[2]
}

func pathCollectionByID(rt *Route, p []string, u *url.URL) {
	pathCollection(rt, p, u)
	rt.CollectionByID = true
}

// crnScope parses tenant_resource_name:database:collection as Chroma does:
// exactly three non-empty parts.
func crnScope(rt *Route, p []string, _ *url.URL) {
	parts := strings.Split(p[0], ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		*rt = Route{}
		return
	}
	rt.Tenant, rt.Database, rt.Collection, rt.CRN = parts[0], parts[1], parts[2], true
}

// v1Query reads the tenant and database query parameters as the Python
// server does (last value wins there; the gateway refuses repeats), with
// Chroma's defaults when absent. ok is false when the query cannot be read
// the same way by Go and Python.
func v1Query(u *url.URL) (tenant, database string, ok bool) {
	tenant, database = DefaultTenant, DefaultDatabase
	raw := u.RawQuery
	if raw == "" {
		return tenant, database, true
	}
	// Python before 3.9.2 also split on ";".
	if strings.Contains(raw, ";") {
		return "", "", false
	}
	var seenT, seenD bool
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", "", false
		}
		switch key {
		case "tenant":
			if seenT || val == "" {
				return "", "", false
			}
			seenT, tenant = true, val
		case "database":
			if seenD || val == "" {
				return "", "", false
			}
			seenD, database = true, val
		}
	}
	return tenant, database, true
}

func v1TenantDB(rt *Route, _ []string, u *url.URL) {
	t, d, ok := v1Query(u)
	// Names from the query obey the rule of path parameters: nothing a
	// Python server could take for a path (a slash, a dot segment).
	if !ok || !plainName(t) || !plainName(d) {
		*rt = Route{}
		return
	}
	rt.Tenant, rt.Database = t, d
}

func v1Collection(rt *Route, p []string, u *url.URL) {
	if v1TenantDB(rt, p, u); rt.Known {
		rt.Collection = p[0]
	}
}

func v1GetDatabase(rt *Route, p []string, u *url.URL) {
	if v1TenantDB(rt, p, u); rt.Known {
		rt.Database = p[0]
	}
}

// v1CreateDatabase: the tenant from the query, the database from the body.
func v1CreateDatabase(rt *Route, p []string, u *url.URL) {
	if v1TenantDB(rt, p, u); rt.Known {
		rt.Database = ""
	}
}

func v1ByID(rt *Route, p []string, _ *url.URL) {
	rt.Collection, rt.Unscoped = p[0], true
}
