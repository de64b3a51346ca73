package authz

import (
	"errors"
	"net/http"
	"net/url"
)

// Chroma's defaults, used by the v1 API when a request names no tenant or
// database, and by IdentityBody.
const (
	DefaultTenant   = "default_tenant"
	DefaultDatabase = "default_database"
)

// maxSegments bounds the path segments Classify looks at: no Chroma route
// has more than 10.
const maxSegments = 12

// Route is what the gateway learns of a request before forwarding it.
type Route struct {
	// Name names the route for logs, e.g. "v2 collection_add"; "" when the
	// route is not Known.
	Name string
	// Action is the Chroma action, e.g. "collection:add"; "" for routes
	// that need only authentication (pre-flight-checks, identity, docs)
	// and for public routes.
	Action string
	// Extra are further actions the body implies (the operations of a
	// conditional commit), each checked like Action.
	Extra []string
	// Tenant the request touches, "" when none. On the CRN route it is
	// the tenant's resource name (see CRN).
	Tenant string
	// Database the request touches, "" when none.
	Database string
	// Collection is the collection id or name of the path, "" when none.
	Collection string
	// CollectionName is the name of the collection the route acts on, once
	// the gateway knows it: the path's collection on by-name routes, the
	// resolved name on by-id routes (set by the gateway, for logs).
	CollectionName string
	// NewName is a collection name the body asks for: the name of a
	// collection to create, the new name of a rename or a fork, the output
	// collection of an attached function. "" when none.
	NewName string
	// BodyIDs are collection ids the body names (the input collection of an
	// attached function); each is checked like a by-id path collection.
	BodyIDs []string
	// Known is false when the method and path are not in the table.
	Known bool
	// Public marks Chroma's unauthenticated routes: GET /api/v1,
	// /api/v{1,2}/heartbeat, /api/v{1,2}/version, /api/v2 and
	// /api/v2/healthcheck.
	Public bool
	// Identity marks GET /api/v{1,2}/auth/identity, which the gateway
	// answers itself (IdentityBody).
	Identity bool
	// Unscoped marks requests whose tenant or database the gateway cannot
	// tell: v1 operations on a collection id, and body-scoped creates whose
	// body does not name the tenant or database.
	Unscoped bool
	// IDOnly marks routes that name an object by an id alone which the
	// upstream resolves without the path's tenant and database (detaching
	// an attached function by its id, in Chroma 1.3): the gateway cannot
	// tie it to the caller's scope, so scoped and RBAC callers are refused.
	IDOnly bool
	// CollectionByID marks v2 routes whose collection the upstream looks up
	// by UUID alone. Chroma 1.x before the fix of CVE-2026-45830/45832
	// does not check that the collection belongs to the tenant and
	// database of the path, so CheckScope passing is not enough for a
	// scoped caller: the gateway must make sure the collection lives in
	// Tenant/Database before forwarding.
	CollectionByID bool
	// CRN marks GET /api/v2/collections/{tenant_resource_name:db:name}.
	CRN bool
	// NeedsBody marks routes whose action or scope depends on the body:
	// ApplyBody completes them.
	NeedsBody bool
	// body completes the route from the request body (see ApplyBody).
	body func(rt *Route, body []byte) error
}

// ErrBadBody is returned by ApplyBody (and Classify) when a body the
// route's action or scope depends on is not the JSON Chroma expects: the
// gateway cannot tell what it asks for, so it must refuse it.
var ErrBadBody = errors.New("request body the gateway cannot authorize")

// classifyPath finds the route of a request by its method and URL alone: it
// never reads the body. Routes whose action or scope depends on the body
// have NeedsBody set, and their Action is the one of the path (for a
// create, db:create_collection); ApplyBody completes them.
func classifyPath(method string, u *url.URL) Route {
	if u == nil {
		return Route{}
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	segs, raws, ok := splitPath(escapedPath(u))
	if !ok {
		return Route{}
	}
	if len(raws) == 1 && raws[0] == "openapi.json" && method == http.MethodGet {
		return Route{Name: "openapi", Known: true}
	}
	if raws[0] == "docs" && method == http.MethodGet {
		return docsRoute(raws)
	}
	if len(segs) < 2 || raws[0] != "api" {
		return Route{}
	}
	var table *tableIndex
	switch raws[1] {
	case "v1":
		table = v1Index
	case "v2":
		table = v2Index
	default:
		return Route{}
	}
	// The trailing "" the splitter keeps for "/docs/" is an error here.
	if segs[len(segs)-1] == "" && raws[len(raws)-1] == "" {
		return Route{}
	}
	p, params := match(table, segs, raws)
	if p == nil {
		return Route{}
	}
	h, ok := p.methods[method]
	if !ok {
		return Route{}
	}
	rt := Route{Name: h.name, Action: h.action, Known: true, Public: h.public, Identity: h.identity, IDOnly: h.idOnly}
	if table == v2Index {
		u = nil // a v2 route never reads its query: ClassifyPath remembers it by its path
	}
	h.fill(&rt, params, u)
	if rt.Known && h.body != nil {
		rt.NeedsBody, rt.body = true, h.body
	}
	return rt
}

// ApplyBody completes a route whose NeedsBody is set from the request's
// body (the skeleton ReadBody made of it, or the whole body). It returns ErrBadBody (wrapped) when the body
// is not what the route needs; the route is then not to be forwarded to a
// scoped or RBAC caller. For other routes it does nothing.
func (rt *Route) ApplyBody(body []byte) error {
	if !rt.NeedsBody || rt.body == nil {
		return nil
	}
	fn := rt.body
	rt.NeedsBody, rt.body = false, nil
	return fn(rt, body)
}

// Classify classifies r by its path and, when the route needs it, its
// body, which it reads once as it streams, keeping only what the decision
// needs, and gives back to r unchanged whatever its size (ReadBody). It
// returns the route as far as it got, and ErrBodyTooLarge (the members it
// needs are over MaxBodyBytes), a read error or ErrBadBody (wrapped) when
// the body could not be used.
func Classify(r *http.Request) (Route, error) {
	if r == nil || r.URL == nil {
		return Route{}, nil
	}
	rt := ClassifyPath(r.Method, r.URL)
	if !rt.NeedsBody {
		return rt, nil
	}
	body, err := ReadBody(r)
	if err != nil {
		return rt, err
	}
	return rt, rt.ApplyBody(body)
}

// Actions are every action the route checks: Action, then Extra.
func (rt *Route) Actions() []string {
	if len(rt.Extra) == 0 {
		if rt.Action == "" {
			return nil
		}
		return []string{rt.Action}
	}
	return append([]string{rt.Action}, rt.Extra...)
}

// docsRoute classifies GET /docs and the Swagger UI files under /docs/.
func docsRoute(raws []string) Route {
	for i := 1; i < len(raws); i++ {
		if raws[i] == "" && i != len(raws)-1 {
			return Route{}
		}
	}
	// "/docs/" is the UI's own address; "/docs/a/" is not.
	if len(raws) > 2 && raws[len(raws)-1] == "" {
		return Route{}
	}
	return Route{Name: "docs", Known: true}
}
