package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Chroma's defaults, used by the v1 API when a request names no tenant or
// database, and by IdentityBody.
const (
	DefaultTenant   = "default_tenant"
	DefaultDatabase = "default_database"
)

// MaxBodyBytes bounds the request body Classify reads, on the few routes
// whose scope or action is in the body (creating a tenant, a database or a
// collection). Other bodies are never read.
const MaxBodyBytes = 1 << 20

// ErrBodyTooLarge is returned (wrapped) by Classify when a body it must
// read is larger than MaxBodyBytes.
var ErrBodyTooLarge = errors.New("request body too large to authorize")

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
	// Tenant the request touches, "" when none. On the CRN route it is
	// the tenant's resource name (see CRN).
	Tenant string
	// Database the request touches, "" when none.
	Database string
	// Collection is the collection id or name of the path, "" when none.
	Collection string
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
	// CollectionByID marks v2 routes whose collection the upstream looks up
	// by UUID alone. Chroma 1.x before the fix of CVE-2026-45830/45832
	// does not check that the collection belongs to the tenant and
	// database of the path, so CheckScope passing is not enough for a
	// scoped caller: the gateway must make sure the collection lives in
	// Tenant/Database before forwarding.
	CollectionByID bool
	// CRN marks GET /api/v2/collections/{tenant_resource_name:db:name}.
	CRN bool
}

// Classify finds the route of r in the table. It reads the body (at most
// MaxBodyBytes) only when the action or scope depends on it, and then puts
// back in r.Body the very same bytes (and sets r.GetBody), so the upstream
// sees the request unchanged. It returns an error (and the route as far as
// it got) when that body is too large (ErrBodyTooLarge) or unreadable; the
// body is restored in every case.
func Classify(r *http.Request) (Route, error) {
	if r == nil || r.URL == nil {
		return Route{}, nil
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	segs, raws, ok := splitPath(r.URL.EscapedPath())
	if !ok {
		return Route{}, nil
	}
	if len(raws) == 1 && raws[0] == "openapi.json" && method == http.MethodGet {
		return Route{Name: "openapi", Known: true}, nil
	}
	if raws[0] == "docs" && method == http.MethodGet {
		return docsRoute(raws), nil
	}
	if len(segs) < 2 || raws[0] != "api" {
		return Route{}, nil
	}
	var table []pattern
	switch raws[1] {
	case "v1":
		table = v1Table
	case "v2":
		table = v2Table
	default:
		return Route{}, nil
	}
	// The trailing "" the splitter keeps for "/docs/" is an error here.
	if segs[len(segs)-1] == "" && raws[len(raws)-1] == "" {
		return Route{}, nil
	}
	p, params := match(table, segs, raws)
	if p == nil {
		return Route{}, nil
	}
	h, ok := p.methods[method]
	if !ok {
		return Route{}, nil
	}
	rt := Route{Name: h.name, Action: h.action, Known: true, Public: h.public, Identity: h.identity}
	if err := h.fill(&rt, params, r); err != nil {
		return rt, err
	}
	return rt, nil
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

// splitPath splits an escaped path into decoded segments and their raw
// text. The root "/" and any path not starting with "/" are refused, as are
// empty segments (but a single trailing one, which the caller judges),
// undecodable escapes, dot segments, and decoded segments holding "/" or
// "\".
func splitPath(escaped string) (segs, raws []string, ok bool) {
	if len(escaped) < 2 || escaped[0] != '/' {
		return nil, nil, false
	}
	if strings.Count(escaped, "/") > maxSegments {
		return nil, nil, false
	}
	raws = strings.Split(escaped[1:], "/")
	segs = make([]string, len(raws))
	for i, raw := range raws {
		if raw == "" {
			if i == len(raws)-1 && i > 0 {
				continue // trailing slash: the caller decides
			}
			return nil, nil, false
		}
		dec, err := url.PathUnescape(raw)
		if err != nil || dec == "" || !plainName(dec) {
			return nil, nil, false
		}
		segs[i] = dec
	}
	return segs, raws, true
}

// pattern is one path of the table; a segment "{}" is a parameter.
type pattern struct {
	segs    []string
	methods map[string]handler
}

type handler struct {
	name     string
	action   string
	public   bool
	identity bool
	// fill sets the scope of the route from the path parameters, the
	// query and, for a few routes, the body.
	fill func(rt *Route, params []string, r *http.Request) error
}

// match picks the pattern the path selects, preferring static segments to
// parameters from left to right, as axum's router does, and returns it with
// its decoded parameters.
func match(table []pattern, segs, raws []string) (*pattern, []string) {
	var best *pattern
	for i := range table {
		p := &table[i]
		if len(p.segs) != len(segs) {
			continue
		}
		fits := true
		for j, s := range p.segs {
			if s != "{}" && s != raws[j] {
				fits = false
				break
			}
		}
		if !fits {
			continue
		}
		if best == nil || moreStatic(p, best) {
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	var params []string
	for j, s := range best.segs {
		if s == "{}" {
			params = append(params, segs[j])
		}
	}
	return best, params
}

// moreStatic reports whether a has a static segment where b has a
// parameter, at the first position where they differ in kind.
func moreStatic(a, b *pattern) bool {
	for j := range a.segs {
		as, bs := a.segs[j] != "{}", b.segs[j] != "{}"
		if as != bs {
			return as
		}
	}
	return false
}

// ---- scope fillers ----

func noScope(*Route, []string, *http.Request) error { return nil }

func pathTenant(rt *Route, p []string, _ *http.Request) error {
	rt.Tenant = p[0]
	return nil
}

func pathTenantDB(rt *Route, p []string, _ *http.Request) error {
	rt.Tenant, rt.Database = p[0], p[1]
	return nil
}

func pathCollection(rt *Route, p []string, _ *http.Request) error {
	rt.Tenant, rt.Database, rt.Collection = p[0], p[1], p[2]
	return nil
}

func pathCollectionByID(rt *Route, p []string, r *http.Request) error {
	_ = pathCollection(rt, p, r)
	rt.CollectionByID = true
	return nil
}

// crnScope parses tenant_resource_name:database:collection as Chroma does:
// exactly three non-empty parts.
func crnScope(rt *Route, p []string, _ *http.Request) error {
	parts := strings.Split(p[0], ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		*rt = Route{}
		return nil
	}
	rt.Tenant, rt.Database, rt.Collection, rt.CRN = parts[0], parts[1], parts[2], true
	return nil
}

// bodyName makes a filler for a create whose scope is the body's "name":
// the tenant (level 0) or the database of the path's tenant (level 1).
func bodyName(level int) func(*Route, []string, *http.Request) error {
	return func(rt *Route, p []string, r *http.Request) error {
		if level == 1 {
			rt.Tenant = p[0]
		}
		body, err := readBody(r)
		if err != nil {
			rt.Unscoped = true
			return err
		}
		name, ok := stringField(body, "name")
		if !ok {
			rt.Unscoped = true
			return nil
		}
		if level == 0 {
			rt.Tenant = name
		} else {
			rt.Database = name
		}
		return nil
	}
}

// createCollection fills POST .../collections: the path's tenant and
// database, and the action from the body's get_or_create.
func createCollection(rt *Route, p []string, r *http.Request) error {
	rt.Tenant, rt.Database = p[0], p[1]
	return collectionCreateAction(rt, r)
}

func collectionCreateAction(rt *Route, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if truthy(lastField(body, "get_or_create")) {
		rt.Action = ActionGetOrCreateCollection
	}
	return nil
}

// ---- v1 fillers: tenant and database in the query ----

// v1Query reads the tenant and database query parameters as the Python
// server does (last value wins there; the gateway refuses repeats), with
// Chroma's defaults when absent. ok is false when the query cannot be read
// the same way by Go and Python.
func v1Query(r *http.Request) (tenant, database string, ok bool) {
	tenant, database = DefaultTenant, DefaultDatabase
	raw := r.URL.RawQuery
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

func v1TenantDB(rt *Route, _ []string, r *http.Request) error {
	t, d, ok := v1Query(r)
	// Names from the query obey the rule of path parameters: nothing a
	// Python server could take for a path (a slash, a dot segment).
	if !ok || !plainName(t) || !plainName(d) {
		*rt = Route{}
		return nil
	}
	rt.Tenant, rt.Database = t, d
	return nil
}

func v1Collection(rt *Route, p []string, r *http.Request) error {
	if err := v1TenantDB(rt, p, r); err != nil || !rt.Known {
		return err
	}
	rt.Collection = p[0]
	return nil
}

func v1CreateCollection(rt *Route, p []string, r *http.Request) error {
	if err := v1TenantDB(rt, p, r); err != nil || !rt.Known {
		return err
	}
	return collectionCreateAction(rt, r)
}

func v1GetDatabase(rt *Route, p []string, r *http.Request) error {
	if err := v1TenantDB(rt, p, r); err != nil || !rt.Known {
		return err
	}
	rt.Database = p[0]
	return nil
}

func v1CreateDatabase(rt *Route, p []string, r *http.Request) error {
	if err := v1TenantDB(rt, p, r); err != nil || !rt.Known {
		return err
	}
	rt.Database = ""
	body, err := readBody(r)
	if err != nil {
		rt.Unscoped = true
		return err
	}
	name, ok := stringField(body, "name")
	if !ok {
		rt.Unscoped = true
		return nil
	}
	rt.Database = name
	return nil
}

func v1ByID(rt *Route, p []string, _ *http.Request) error {
	rt.Collection, rt.Unscoped = p[0], true
	return nil
}

// ---- body ----

// restoredBody gives back the bytes Classify read, then the rest of the
// original body, and closes the original.
type restoredBody struct {
	io.Reader
	orig io.ReadCloser
}

func (b *restoredBody) Close() error { return b.orig.Close() }

// readBody reads r's body, up to MaxBodyBytes, and puts it back.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	orig := r.Body
	buf, err := io.ReadAll(io.LimitReader(orig, MaxBodyBytes+1))
	if err != nil || len(buf) > MaxBodyBytes {
		r.Body = &restoredBody{Reader: io.MultiReader(bytes.NewReader(buf), orig), orig: orig}
		if err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		return nil, fmt.Errorf("%w (over %d bytes)", ErrBodyTooLarge, MaxBodyBytes)
	}
	r.Body = &restoredBody{Reader: bytes.NewReader(buf), orig: orig}
	r.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf)), nil
	}
	return buf, nil
}

// lastField returns the raw JSON of the last top-level member key of the
// object in body (the Python server keeps the last of repeated keys; the
// Rust one refuses repeats), or nil.
func lastField(body []byte, key string) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var found json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, ok := t.(string)
		if !ok {
			return nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		if k == key {
			found = v
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil
	}
	return found
}

// stringField returns the last top-level member key of body when it is a
// non-empty JSON string.
func stringField(body []byte, key string) (string, bool) {
	raw := lastField(body, key)
	if raw == nil {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return "", false
	}
	return s, true
}

// truthy reports whether a JSON value means true to Chroma: JSON true for
// the Rust server, and what pydantic's lax bool accepts for the Python one
// (1, "true", "yes", "on", "1", "t", "y", any case).
func truthy(raw json.RawMessage) bool {
	if raw == nil {
		return false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x == 1
	case string:
		switch strings.ToLower(x) {
		case "1", "true", "yes", "on", "t", "y":
			return true
		}
	}
	return false
}

// plainName reports whether a decoded path segment, or a tenant or
// database name from a query, is a plain name: no slash or backslash, not
// a dot segment.
func plainName(s string) bool {
	return !strings.ContainsAny(s, "/\\") && s != "." && s != ".."
}
