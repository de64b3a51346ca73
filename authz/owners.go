package authz

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
)

// ErrOwnerUnknown is returned by Owners.Check when the collection's tenant
// and database are not known yet: the caller should list the collections
// of the route's tenant and database upstream (GET
// /api/v2/tenants/{t}/databases/{d}/collections, paging with limit and
// offset), feed the answers to Owners.LearnJSON and check again.
var ErrOwnerUnknown = errors.New("collection owner unknown")

// Owners remembers which tenant and database each collection id belongs
// to. Chroma 1.x releases before the fix of CVE-2026-45830/45832 (among
// them 1.0.x) look the collection of a CollectionByID route up by its UUID
// alone, so a caller scoped to acme/prod could reach another tenant's
// collection through its own path; the gateway closes that hole by checking
// the owner of the id before forwarding.
//
// A collection never moves to another database and UUIDs are not reused,
// so what Owners learns stays true; it only forgets, all at once, when it
// holds max ids. Owners is safe for concurrent use.
type Owners struct {
	mu  sync.Mutex
	max int
	m   map[string]owner
}

type owner struct{ tenant, database string }

// NewOwners makes an Owners holding at most max ids (at least 1).
func NewOwners(max int) *Owners {
	if max < 1 {
		max = 1
	}
	return &Owners{max: max, m: map[string]owner{}}
}

// Learn records that collection id lives in tenant/database. Ids that are
// not UUIDs and empty names are ignored.
func (o *Owners) Learn(id, tenant, database string) {
	key, ok := CanonicalUUID(id)
	if !ok || tenant == "" || database == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, seen := o.m[key]; !seen && len(o.m) >= o.max {
		o.m = map[string]owner{}
	}
	o.m[key] = owner{tenant, database}
}

// Lookup returns the tenant and database of collection id, when known.
func (o *Owners) Lookup(id string) (tenant, database string, ok bool) {
	key, valid := CanonicalUUID(id)
	if !valid {
		return "", "", false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.m[key]
	return w.tenant, w.database, ok
}

// LearnJSON learns from an upstream answer holding a Chroma collection
// ({"id":…, "tenant":…, "database":…, …}) or a list of them, as the list,
// get and create collection routes answer. It returns how many it learned.
func (o *Owners) LearnJSON(body []byte) int {
	type coll struct {
		ID       string `json:"id"`
		Tenant   string `json:"tenant"`
		Database string `json:"database"`
	}
	var list []coll
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &list) != nil {
			return 0
		}
	} else {
		var one coll
		if json.Unmarshal(trimmed, &one) != nil {
			return 0
		}
		list = append(list, one)
	}
	n := 0
	for _, c := range list {
		if _, ok := CanonicalUUID(c.ID); ok && c.Tenant != "" && c.Database != "" {
			o.Learn(c.ID, c.Tenant, c.Database)
			n++
		}
	}
	return n
}

// Check checks that the collection of a CollectionByID route lives in the
// route's tenant and database. It returns nil for other routes and when it
// does, a *Denied when it does not or when the id is no UUID (the upstream
// would refuse it anyway), and ErrOwnerUnknown when it cannot tell yet.
func (o *Owners) Check(rt Route) error {
	if !rt.CollectionByID {
		return nil
	}
	if _, ok := CanonicalUUID(rt.Collection); !ok {
		return deny("collection id %s is not a UUID", shown(rt.Collection))
	}
	t, d, ok := o.Lookup(rt.Collection)
	if !ok {
		return ErrOwnerUnknown
	}
	if t != rt.Tenant || d != rt.Database {
		return deny("collection %s is not in tenant %s, database %s", shown(rt.Collection), shown(rt.Tenant), shown(rt.Database))
	}
	return nil
}

// CanonicalUUID returns s in lower-case hyphenated form when it is a UUID
// in one of the spellings Chroma's Rust server accepts (hyphenated, 32 hex
// digits, braced, "urn:uuid:" prefixed; any case), so one collection has
// one key whatever spelling a request uses.
func CanonicalUUID(s string) (string, bool) {
	switch {
	case len(s) == 45 && strings.EqualFold(s[:9], "urn:uuid:"):
		s = s[9:]
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		s = s[1:37]
	}
	var hexDigits string
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		hexDigits = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 32:
		hexDigits = s
	default:
		return "", false
	}
	b, err := hex.DecodeString(hexDigits)
	if err != nil || len(b) != 16 {
		return "", false
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}
