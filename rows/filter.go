// Package rows is the row-level security of the chroma_auth gateway: an
// identity with rows sees and changes only the records whose metadata
// holds each of its keys with its value. The package rewrites request
// bodies as they stream (the filter ANDed into a read's or delete's
// `where`, the keys stamped on every record a write adds), copying every
// other byte as it came, and serializes the check-then-write of updates
// and upserts per collection. It knows nothing of Caddy.
package rows

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
)

// UserPlaceholder in a rows value (and a collection grant) stands for the
// identity's user id.
const UserPlaceholder = "{user}"

// Bounds of a filter.
const (
	MaxKeys     = 16
	MaxKeyLen   = 256
	MaxValueLen = 1024
)

// Filter is the rows of one identity: metadata key → value, every one of
// which a record must hold. It is immutable once built and safe for
// concurrent use.
type Filter struct {
	keys, vals []string // sorted by key
	clause     []byte   // the where clause, as JSON
	andTail    []byte   // `,<the clause's conditions>]}`: what follows another clause ANDed with it
	stamp      []byte   // `"k1":"v1","k2":"v2"`, the members a write stamps
}

// Check tells whether m is a valid rows map: 1 to MaxKeys keys, none empty
// or starting with `$` or `#` (Chroma's operators and special keys), no
// control characters, each value a non-empty string.
func Check(m map[string]string) error {
	if len(m) == 0 {
		return errors.New("rows: want at least one metadata key: value")
	}
	if len(m) > MaxKeys {
		return fmt.Errorf("rows: at most %d keys", MaxKeys)
	}
	for k, v := range m {
		switch {
		case k == "":
			return errors.New("rows: a metadata key is empty")
		case len(k) > MaxKeyLen:
			return fmt.Errorf("rows: metadata key %.32q…: longer than %d bytes", k, MaxKeyLen)
		case k[0] == '$' || k[0] == '#':
			return fmt.Errorf("rows: metadata key %q: must not start with $ or # (Chroma's operators and special keys)", k)
		case hasControl(k):
			return fmt.Errorf("rows: metadata key %q has control characters", k)
		case v == "":
			return fmt.Errorf("rows: %q: the value is empty", k)
		case len(v) > MaxValueLen:
			return fmt.Errorf("rows: %q: value longer than %d bytes", k, MaxValueLen)
		case hasControl(v):
			return fmt.Errorf("rows: %q: the value has control characters", k)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// Expand replaces {user} in every value of m by user, and checks the
// result (Check). It returns a new map.
func Expand(m map[string]string, user string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = strings.ReplaceAll(v, UserPlaceholder, user)
	}
	if err := Check(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseList reads `key=value,key=value` (the --rows flag).
func ParseList(s string) (map[string]string, error) {
	m := make(map[string]string)
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, fmt.Errorf("rows %q: want key=value pairs, such as owner={user},team=blue", kv)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("rows: %q given twice", k)
		}
		m[k] = v
	}
	return m, Check(m)
}

// New builds the filter of m, which must pass Check.
func New(m map[string]string) (*Filter, error) {
	if err := Check(m); err != nil {
		return nil, err
	}
	f := &Filter{}
	for k := range m {
		f.keys = append(f.keys, k)
	}
	sort.Strings(f.keys)
	var stamp, clause []byte
	for i, k := range f.keys {
		v := m[k]
		f.vals = append(f.vals, v)
		kj, vj := jsonString(k), jsonString(v)
		if i > 0 {
			stamp = append(stamp, ',')
			clause = append(clause, ',')
		}
		stamp = append(append(append(stamp, kj...), ':'), vj...)
		clause = append(clause, `{`...)
		clause = append(append(append(clause, kj...), `:{"$eq":`...), vj...)
		clause = append(clause, `}}`...)
	}
	f.stamp, f.andTail = stamp, append(append([]byte{','}, clause...), "]}"...)
	if len(f.keys) == 1 {
		f.clause = clause
	} else {
		f.clause = append(append([]byte(`{"$and":[`), clause...), `]}`...)
	}
	return f, nil
}

// filterCache holds filters For built, each found by the address of the
// map it was built from. A hit is used only while that map holds exactly
// the filter's keys and values (is), so an address a new map reuses, or a
// map changed since, only misses: the cache can never hand out another
// identity's filter.
var filterCache [64]atomic.Pointer[cachedFilter]

type cachedFilter struct {
	m uintptr
	f *Filter
}

// For is New(m), built once for a map asked again: an identity's rows
// are the same map on each of its requests, and New (Check, sort,
// marshalling) would cost more than the rest of the rewrite of a query.
func For(m map[string]string) (*Filter, error) {
	p := uintptr(reflect.ValueOf(m).UnsafePointer())
	slot := &filterCache[(p>>4^p>>10)%uintptr(len(filterCache))]
	if c := slot.Load(); c != nil && c.m == p && c.f.is(m) {
		return c.f, nil
	}
	f, err := New(m)
	if err == nil {
		slot.Store(&cachedFilter{m: p, f: f})
	}
	return f, err
}

// is reports whether m holds exactly f's keys and values.
func (f *Filter) is(m map[string]string) bool {
	if len(m) != len(f.keys) {
		return false
	}
	for i, k := range f.keys {
		if v, ok := m[k]; !ok || v != f.vals[i] {
			return false
		}
	}
	return true
}

// Clause is the filter as a Chroma where clause.
func (f *Filter) Clause() []byte { return f.clause }

// Keys are the filter's metadata keys, sorted.
func (f *Filter) Keys() []string { return f.keys }

// Value is the value the filter wants for key k, and whether k is one of
// its keys.
func (f *Filter) Value(k string) (string, bool) {
	for i, key := range f.keys {
		if key == k {
			return f.vals[i], true
		}
	}
	return "", false
}

// Map is the filter as key → value.
func (f *Filter) Map() map[string]string {
	m := make(map[string]string, len(f.keys))
	for i, k := range f.keys {
		m[k] = f.vals[i]
	}
	return m
}

// Owns reports whether a record of metadata meta (as Chroma answers it)
// belongs to the filter's identity: every key present with its value.
func (f *Filter) Owns(meta map[string]any) bool {
	for i, k := range f.keys {
		if s, ok := meta[k].(string); !ok || s != f.vals[i] {
			return false
		}
	}
	return true
}

// stampObject is `{"k1":"v1",…}`.
func (f *Filter) stampObject() []byte {
	return append(append([]byte{'{'}, f.stamp...), '}')
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
