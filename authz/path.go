package authz

import (
	"net/url"
	"strings"
)

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
	// Without an escape the decoded segments are the raw ones.
	escapes := strings.IndexByte(escaped, '%') >= 0
	segs = raws
	if escapes {
		segs = make([]string, len(raws))
	}
	for i, raw := range raws {
		if raw == "" {
			if i == len(raws)-1 && i > 0 {
				continue // trailing slash: the caller decides
			}
			return nil, nil, false
		}
		if !escapes {
			if !plainSegment(raw) {
				return nil, nil, false
			}
			continue
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
	idOnly   bool
	// fill sets the scope of the route from the path parameters and the
	// query; it clears the route when they make no sense.
	fill func(rt *Route, params []string, u *url.URL)
	// body, when set, completes the route from the request body.
	body func(rt *Route, body []byte) error
}

// match picks the pattern the path selects, preferring static segments to
// parameters from left to right, as axum's router does, and returns it with
// its decoded parameters.
func match(table *tableIndex, segs, raws []string) (*pattern, []string) {
	var best *pattern
	bestAt := 0
	static, param := table.of(raws)
	for _, list := range [2][]candidate{static, param} {
		for _, c := range list {
			p := c.p
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
			// the most static; among equals, the first in the table
			if best == nil || moreStatic(p, best) || (!moreStatic(best, p) && c.i < bestAt) {
				best, bestAt = p, c.i
			}
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

// plainName reports whether a decoded path segment, or a tenant or
// database name from a query, is a plain name: no slash or backslash, not
// a dot segment.
func plainName(s string) bool {
	return !strings.ContainsAny(s, "/\\") && s != "." && s != ".."
}
