package authz

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// ErrOwnerUnknown is returned by Owners.Check when the collection's tenant
// and database are not known yet: the caller should resolve it (Resolver)
// and check again.
var ErrOwnerUnknown = errors.New("collection owner unknown")

// Owner is where a collection lives, and its name.
type Owner struct {
	Tenant, Database, Name string
	// Seen is when the upstream last said so.
	Seen time.Time
}

// Owners remembers which tenant and database each collection id belongs
// to, and its name. Chroma 1.x releases before the fix of
// CVE-2026-45830/45832 (among them 1.0.x) look the collection of a
// CollectionByID route up by its UUID alone, so a caller scoped to
// acme/prod could reach another tenant's collection through its own path;
// the gateway closes that hole by checking the owner of the id before
// forwarding, and judges collection grants by the name.
//
// A collection never moves to another database and UUIDs are not reused,
// so tenant and database stay true; the name changes with a rename, which
// the gateway records (Rename) when it passes one. Owners forgets, all at
// once, when it holds max ids. Owners is safe for concurrent use.
type Owners struct {
	mu  sync.Mutex
	max int
	m   map[string]Owner
}

// NewOwners makes an Owners holding at most max ids (at least 1).
func NewOwners(max int) *Owners {
	if max < 1 {
		max = 1
	}
	return &Owners{max: max, m: map[string]Owner{}}
}

// Learn records that collection id lives in tenant/database, under name
// ("" when not known). Ids that are not UUIDs and empty tenants or
// databases are ignored.
func (o *Owners) Learn(id, tenant, database string, name ...string) {
	key, ok := CanonicalUUID(id)
	if !ok || tenant == "" || database == "" {
		return
	}
	w := Owner{Tenant: tenant, Database: database, Seen: time.Now()}
	if len(name) > 0 {
		w.Name = name[0]
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, seen := o.m[key]; !seen && len(o.m) >= o.max {
		o.m = map[string]Owner{}
	}
	o.m[key] = w
}

// Rename records the new name of a known collection. An empty name
// means the new name is not known: the old one is then stale (Resolve
// looks it up again for a caller whose grants judge by it), while the
// tenant and database stay known.
func (o *Owners) Rename(id, name string) {
	key, ok := CanonicalUUID(id)
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if w, seen := o.m[key]; seen {
		w.Name, w.Seen = name, time.Now()
		if name == "" {
			w.Seen = time.Time{}
		}
		o.m[key] = w
	}
}

// Forget drops what is known of collection id.
func (o *Owners) Forget(id string) {
	if key, ok := CanonicalUUID(id); ok {
		o.mu.Lock()
		delete(o.m, key)
		o.mu.Unlock()
	}
}

// Known reports whether anything is known of collection id.
func (o *Owners) Known(id string) bool {
	_, ok := o.Get(id)
	return ok
}

// Lookup returns the tenant and database of collection id, when known.
func (o *Owners) Lookup(id string) (tenant, database string, ok bool) {
	w, ok := o.Get(id)
	return w.Tenant, w.Database, ok
}

// Get returns what is known of collection id.
func (o *Owners) Get(id string) (Owner, bool) {
	key, valid := CanonicalUUID(id)
	if !valid {
		return Owner{}, false
	}
	return o.getKey(key)
}

// getKey is Get of an id already canonical.
func (o *Owners) getKey(key string) (Owner, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.m[key]
	return w, ok
}

// LearnJSON learns from an upstream answer holding a Chroma collection
// ({"id":…, "name":…, "tenant":…, "database":…, …}) or a list of them, as
// the list, get and create collection routes answer. It returns how many
// it learned.
func (o *Owners) LearnJSON(body []byte) int {
	list, ok := ParseCollections(body)
	if !ok {
		return 0
	}
	n := 0
	for _, c := range list {
		if _, ok := CanonicalUUID(c.ID); ok && c.Tenant != "" && c.Database != "" {
			o.Learn(c.ID, c.Tenant, c.Database, c.Name)
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
	_, err := o.CheckID(rt.Collection, rt.Tenant, rt.Database)
	return err
}

// CheckID checks that collection id lives in tenant/database and returns
// what is known of it: a *Denied when it lives elsewhere or is no UUID,
// ErrOwnerUnknown when it is not known yet.
func (o *Owners) CheckID(id, tenant, database string) (Owner, error) {
	key, ok := CanonicalUUID(id)
	if !ok {
		return Owner{}, deny("collection id %s is not a UUID", shown(id))
	}
	w, ok := o.getKey(key)
	if !ok {
		return Owner{}, ErrOwnerUnknown
	}
	if w.Tenant != tenant || w.Database != database {
		return Owner{}, deny("collection %s is not in tenant %s, database %s", shown(id), shown(tenant), shown(database))
	}
	return w, nil
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
	var out [36]byte
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		lower := true
		for i := 0; i < 36; i++ {
			c := s[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				out[i] = '-'
				continue
			}
			l, ok := hexLower(c)
			if !ok {
				return "", false
			}
			lower = lower && l == c
			out[i] = l
		}
		if lower {
			return s, true // already canonical: the common case costs no allocation
		}
	case 32:
		for i, j := 0, 0; i < 32; i, j = i+1, j+1 {
			if j == 8 || j == 13 || j == 18 || j == 23 {
				out[j] = '-'
				j++
			}
			l, ok := hexLower(s[i])
			if !ok {
				return "", false
			}
			out[j] = l
		}
	default:
		return "", false
	}
	return string(out[:]), true
}

// hexLower is c in lower case when it is a hex digit.
func hexLower(c byte) (byte, bool) {
	l := hexLowerOf[c]
	return l, l != 0
}

// hexLowerOf is each hex digit in lower case, 0 for any other byte.
var hexLowerOf = func() (t [256]byte) {
	for _, c := range "0123456789abcdef" {
		t[c] = byte(c)
	}
	for _, c := range "ABCDEF" {
		t[c] = byte(c) + ('a' - 'A')
	}
	return t
}()
