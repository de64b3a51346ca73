package authz

import (
	"hash/maphash"
	"net/url"
	"strings"
	"sync/atomic"
)

// routeSlots is how many routes ClassifyPath remembers.
const routeSlots = 64

// routeEntry is a route ClassifyPath remembers, with what it was made of.
type routeEntry struct {
	method, path string
	rt           Route
}

// routes remembers the last routes classified, one per slot of the
// path's hash: a client asks the same few paths again and again (the
// query, the add of its collections), and every scoped, RBAC or rows
// caller's request, and every audit line, needs its route (classifyPath:
// ~4k instructions and 3 allocations for a v2 collection path). A new path takes its slot's place;
// the memory is bounded, and a path never seen costs one hash more.
var routes struct {
	seed  maphash.Seed
	slots [routeSlots]atomic.Pointer[routeEntry]
}

func init() { routes.seed = maphash.MakeSeed() }

// ClassifyPath is the route of a request by its method and URL alone,
// without its body (see Classify). A v2 path written plainly (no RawPath)
// is remembered: a v2 route is a function of the method and the path
// alone, since classifyPath hands v2 fillers no URL (only v1 routes read
// the tenant and database of their query); TestClassifyPathRemembered
// holds the remembered answers to classifyPath's.
func ClassifyPath(method string, u *url.URL) Route {
	if u == nil || u.RawPath != "" || !strings.HasPrefix(u.Path, "/api/v2/") {
		return classifyPath(method, u)
	}
	slot := &routes.slots[maphash.String(routes.seed, u.Path)%routeSlots]
	if e := slot.Load(); e != nil && e.path == u.Path && e.method == method {
		return e.rt
	}
	rt := classifyPath(method, u)
	slot.Store(&routeEntry{method: method, path: u.Path, rt: rt})
	return rt
}
