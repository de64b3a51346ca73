package audit

import (
	"hash/maphash"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// routeSlots is how many routes ClassifyPath remembers.
const routeSlots = 64

// routeEntry is a route ClassifyPath remembers, with what it was made of.
type routeEntry struct {
	method, path string
	rt           authz.Route
}

// routes remembers the last routes classified for audit lines, one per
// slot of the path's hash: a client asks the same few paths again and
// again (the query, the add of its collections), and the audit of a
// caller whose decision needed no route classifies each request's path
// (authz.ClassifyPath, ~4k instructions and 3 allocations for a v2
// collection path) only for its line. A new path takes its slot's place;
// the memory is bounded, and a path never seen costs one hash more.
var routes struct {
	seed  maphash.Seed
	slots [routeSlots]atomic.Pointer[routeEntry]
}

func init() { routes.seed = maphash.MakeSeed() }

// ClassifyPath is authz.ClassifyPath(method, u), remembered for v2 paths
// written plainly (no RawPath): a v2 route is a function of the method and
// the path alone, its query never read (only v1 routes read the tenant
// and database of their query; TestClassifyPathRemembered holds the two to
// the same answers).
func ClassifyPath(method string, u *url.URL) authz.Route {
	if u == nil || u.RawPath != "" || !strings.HasPrefix(u.Path, "/api/v2/") {
		return authz.ClassifyPath(method, u)
	}
	slot := &routes.slots[maphash.String(routes.seed, u.Path)%routeSlots]
	if e := slot.Load(); e != nil && e.path == u.Path && e.method == method {
		return e.rt
	}
	rt := authz.ClassifyPath(method, u)
	slot.Store(&routeEntry{method: method, path: u.Path, rt: rt})
	return rt
}
