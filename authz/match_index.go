package authz

import (
	"net/url"
	"strings"
)

// tableIndex is a route table by the number of segments of its paths,
// then by the last segment when it is static: match looks only at the
// paths that can fit the request's, not at the whole table.
type tableIndex [maxSegments + 2]bucket

type bucket struct {
	byLast    map[string][]candidate // paths ending in a static segment, by it
	paramLast []candidate            // paths ending in a parameter
}

// candidate is a pattern and its place in the table (which breaks ties).
type candidate struct {
	p *pattern
	i int
}

func indexTable(table []pattern) *tableIndex {
	var ix tableIndex
	for i := range table {
		segs := table[i].segs
		n := len(segs)
		if n == 0 || n >= len(ix) {
			continue
		}
		b := &ix[n]
		c := candidate{&table[i], i}
		if last := segs[n-1]; last != "{}" {
			if b.byLast == nil {
				b.byLast = map[string][]candidate{}
			}
			b.byLast[last] = append(b.byLast[last], c)
		} else {
			b.paramLast = append(b.paramLast, c)
		}
	}
	return &ix
}

// of is the two lists of patterns that may fit raws.
func (ix *tableIndex) of(raws []string) (static, param []candidate) {
	n := len(raws)
	if n == 0 || n >= len(ix) {
		return nil, nil
	}
	return ix[n].byLast[raws[n-1]], ix[n].paramLast
}

var (
	v1Index = indexTable(v1Table)
	v2Index = indexTable(v2Table)
)

// escapedPath is u.EscapedPath(), without its escaping pass for the usual
// path: no RawPath, and nothing in Path that escaping would change.
func escapedPath(u *url.URL) string {
	if u.RawPath == "" && u.Path != "" && plainPathBytes(u.Path) {
		return u.Path
	}
	return u.EscapedPath()
}

// pathSafe is what url.URL.EscapedPath leaves as it is in a path:
// letters, digits, "-._~" and "$&+,/:;=@".
var pathSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~$&+,/:;=@" {
		t[c] = true
	}
	return t
}()

func plainPathBytes(p string) bool {
	for i := 0; i < len(p); i++ {
		if !pathSafe[p[i]] {
			return false
		}
	}
	return true
}

// plainSegment reports whether a raw segment without escapes is a plain
// name as it stands (see plainName): no backslash, not a dot segment.
func plainSegment(raw string) bool {
	return strings.IndexByte(raw, '\\') < 0 && raw != "." && raw != ".."
}
