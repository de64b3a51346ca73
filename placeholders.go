package chromaauth

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// requestVars answers the placeholders of an authenticated request:
//
//	{http.auth.user.id}         the user (as Caddy's own auth sets it; the access log's user_id)
//	{http.auth.user.tenant}     the user's tenant, "*" for all
//	{http.auth.user.databases}  the user's databases, comma-separated
//	{http.auth.user.role}       the user's role (RBAC file, else users file)
//	{http.auth.user.provider}   "basic", "token", "key", "jwt" or "cert"
//	{http.chroma_auth.action}   the route's Chroma action, e.g. collection:add
//	{http.chroma_auth.route}    the route's name, e.g. "v2 collection_add"
//
// It is one provider registered with the request's replacer, rather than
// seven values set on it: nothing is computed, or allocated, for the
// placeholders nobody reads, and the route is classified only if asked.
type requestVars struct {
	id    *providers.Identity
	role  string
	r     *http.Request
	route *authz.Route // nil until classified
}

func (v *requestVars) get(key string) (any, bool) {
	switch key {
	case "http.auth.user.id":
		return v.id.User, true
	case "http.auth.user.tenant":
		return v.id.Tenant, true
	case "http.auth.user.databases":
		return strings.Join(v.id.Databases, ","), true
	case "http.auth.user.role":
		return v.role, true
	case "http.auth.user.provider":
		return v.id.Provider, true
	case "http.chroma_auth.action":
		return v.classified().Action, true
	case "http.chroma_auth.route":
		return v.classified().Name, true
	}
	return nil, false
}

// classified is the request's route. When the handler did not need it, it
// is worked out on first use from the method and path alone: a placeholder
// may be read after the proxy has copied the request, and must never read
// (and so empty) the body that Chroma receives. The action of a create is
// then db:create_collection even when the body asks get_or_create.
func (v *requestVars) classified() *authz.Route {
	if v.route == nil {
		rt := authz.ClassifyPath(v.r.Method, v.r.URL)
		v.route = &rt
	}
	return v.route
}

func publishVars(repl *caddy.Replacer, v *requestVars) {
	repl.Map(v.get)
}
