package authz

import (
	"net/url"
	"strings"
)

// tableIndex is a route table by the number of segments of its paths,
// each list in the table's order: match looks only at the paths as long
// as the request's, not at the whole table.
type tableIndex [maxSegments + 2][]*pattern

func indexTable(table []pattern) *tableIndex {
	var ix tableIndex
	for i := range table {
		if n := len(table[i].segs); n < len(ix) {
			ix[n] = append(ix[n], &table[i])
		}
	}
	return &ix
}

// of is the patterns of n segments.
func (ix *tableIndex) of(n int) []*pattern {
	if n < 0 || n >= len(ix) {
		return nil
	}
	return ix[n]
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
