package providers

import (
	"fmt"
	"sort"
	"strings"
	"unsafe"
)

// Level is what a grant lets its holder do with a collection. Each level
// includes the ones below it.
type Level uint8

const (
	// LevelNone: the collection is hidden.
	LevelNone Level = iota
	// LevelRead: get the collection, get, query, search, count, indexing
	// status, fork count.
	LevelRead
	// LevelWrite: read, plus add, update, upsert and delete of records.
	LevelWrite
	// LevelAdmin: write, plus create, rename, delete and fork.
	LevelAdmin
)

// ParseLevel reads "read", "write" or "admin".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "read":
		return LevelRead, nil
	case "write":
		return LevelWrite, nil
	case "admin":
		return LevelAdmin, nil
	}
	return LevelNone, fmt.Errorf("unknown access level %q (want read, write or admin)", s)
}

func (l Level) String() string {
	switch l {
	case LevelRead:
		return "read"
	case LevelWrite:
		return "write"
	case LevelAdmin:
		return "admin"
	}
	return "none"
}

// MaxGrantPattern bounds a grant's name or glob.
const MaxGrantPattern = 512

// Grants are the collections an identity may use, by exact name or by a
// glob on the name (`*` any run of characters, `?` one character; nothing
// else is special). A name that several grants match gets the highest of
// their levels. A nil *Grants means every collection of the identity's
// databases (no `collections` key); an empty one means none.
//
// Grants are immutable once built and safe for concurrent use.
type Grants struct {
	exact map[string]Level
	globs []globGrant
	// within, when set, caps every level: the grants of an issued
	// credential narrowed to its user's (IntersectGrants).
	within *Grants
}

type globGrant struct {
	pattern string
	level   Level
}

// NewGrants builds grants from name-or-glob → level ("read", "write",
// "admin"). Errors name the pattern at fault.
func NewGrants(m map[string]string) (*Grants, error) {
	g := &Grants{exact: make(map[string]Level, len(m))}
	for pattern, lv := range m {
		if err := checkGrantPattern(pattern); err != nil {
			return nil, err
		}
		level, err := ParseLevel(lv)
		if err != nil {
			return nil, fmt.Errorf("collection %q: %v", pattern, err)
		}
		if strings.ContainsAny(pattern, "*?") {
			g.globs = append(g.globs, globGrant{pattern, level})
		} else {
			g.exact[pattern] = level
		}
	}
	// A fixed order, so that String and Map are stable.
	sort.Slice(g.globs, func(i, j int) bool { return g.globs[i].pattern < g.globs[j].pattern })
	return g, nil
}

func checkGrantPattern(p string) error {
	if p == "" {
		return fmt.Errorf("a collection grant has an empty name")
	}
	if len(p) > MaxGrantPattern {
		return fmt.Errorf("collection grant %.32q…: longer than %d bytes", p, MaxGrantPattern)
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("collection grant %q has control characters", p)
		}
	}
	return nil
}

// Level is the access the grants give to the collection called name.
func (g *Grants) Level(name string) Level {
	_, level := g.Match(name)
	return level
}

// Match is the grant that gives the collection called name its access:
// its pattern (the exact name, or the glob of the highest level, the first
// in order among equals) and level; "" and LevelNone when none matches,
// "*" and LevelAdmin for nil grants (every collection).
func (g *Grants) Match(name string) (pattern string, level Level) {
	if g == nil {
		return Any, LevelAdmin
	}
	level, ok := g.exact[name]
	if ok {
		pattern = name
	}
	for _, gl := range g.globs {
		if gl.level > level && globMatch(gl.pattern, name) {
			pattern, level = gl.pattern, gl.level
		}
	}
	if g.within != nil {
		if limit := g.within.Level(name); limit < level {
			level = limit
		}
	}
	return pattern, level
}

// Restricted reports whether the grants limit the collections (that is,
// g is not nil).
func (g *Grants) Restricted() bool { return g != nil }

// Len is the number of grants.
func (g *Grants) Len() int {
	if g == nil {
		return 0
	}
	return len(g.exact) + len(g.globs)
}

// Map is the grants as name-or-glob → level, the shape NewGrants takes
// (nil for nil grants). Of narrowed grants (IntersectGrants), only the
// credential's own: String shows the cap too.
func (g *Grants) Map() map[string]string {
	if g == nil {
		return nil
	}
	out := make(map[string]string, g.Len())
	for k, v := range g.exact {
		out[k] = v.String()
	}
	for _, gl := range g.globs {
		out[gl.pattern] = gl.level.String()
	}
	return out
}

// String is the grants as "name=level,glob=level", sorted; "*" for nil
// grants (every collection), "" for none.
func (g *Grants) String() string {
	if g == nil {
		return "*"
	}
	if g.within != nil {
		return (&Grants{exact: g.exact, globs: g.globs}).String() + " within " + g.within.String()
	}
	m := g.Map()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	return b.String()
}

// globMatch matches name against a pattern of literal characters, `*`
// (any run, also empty) and `?` (one character), rune by rune. It runs in
// O(len(pattern)·len(name)) at worst: it backtracks only to the last star.
func globMatch(pattern, name string) bool {
	if isASCII(pattern) && isASCII(name) {
		// the strings' bytes, read in place: no copy on the grant check
		return globMatchSeq(unsafe.Slice(unsafe.StringData(pattern), len(pattern)), unsafe.Slice(unsafe.StringData(name), len(name)))
	}
	return globMatchSeq([]rune(pattern), []rune(name))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// globMatchSeq is globMatch over runes, or over the bytes of ASCII
// strings (where a byte is a rune): one algorithm, instantiated for each.
func globMatchSeq[E byte | rune](p, n []E) bool {
	pi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(n) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ni
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == n[ni]):
			pi++
			ni++
		case star >= 0:
			pi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
