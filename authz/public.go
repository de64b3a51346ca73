package authz

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DefaultPublic are the routes Chroma serves without credentials: its
// server's default exemption list, and the Rust server's healthcheck.
var DefaultPublic = []string{
	"/api/v1",
	"/api/v1/heartbeat",
	"/api/v1/version",
	"/api/v2",
	"/api/v2/heartbeat",
	"/api/v2/version",
	"/api/v2/healthcheck",
}

// PublicPaths is the set of exact paths that GET and HEAD reach without
// credentials.
type PublicPaths map[string]struct{}

// NewPublicPaths is DefaultPublic (unless noDefaults) and the extra paths.
// Check extra paths with CheckPublicPath first.
func NewPublicPaths(extra []string, noDefaults bool) PublicPaths {
	set := make(PublicPaths, len(DefaultPublic)+len(extra))
	if !noDefaults {
		for _, p := range DefaultPublic {
			set[p] = struct{}{}
		}
	}
	for _, p := range extra {
		set[p] = struct{}{}
	}
	return set
}

// CheckPublicPath accepts only plain absolute paths, the only form the
// exact match of Match can compare safely: no escapes, query, fragment,
// matrix parameter, backslash, control or non-ASCII byte, empty or dot
// segment, and no byte Go's URL parser keeps a raw form of (such as ! * '
// ( ) [ ]): a request for such a path has a RawPath and never matches.
func CheckPublicPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("public path %q must start with /", p)
	}
	for i := 0; i < len(p); i++ {
		if !plainPathByte(p[i]) {
			return fmt.Errorf("public path %q: only plain path characters (letters, digits and -._~/$&+,:=@), "+
				"no %%-escapes, ?, #, ; or \\", p)
		}
	}
	if strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
		return fmt.Errorf("public path %q is not a clean path", p)
	}
	return nil
}

// Match reports whether a request with this method and URL is a GET or
// HEAD of a public path. The match is on the exact bytes of the path the
// upstream will receive: a URL with any escape in its path has a RawPath
// and never matches, so no encoded, doubled-slash, dot-segment or suffixed
// variant of a public path is public.
func (s PublicPaths) Match(method string, u *url.URL) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	if u == nil || u.RawPath != "" || u.Opaque != "" {
		return false
	}
	_, ok := s[u.Path]
	return ok
}

// plainPathByte: the bytes a path holds as they are, the ones Go's
// url.URL.EscapedPath leaves alone, except ';' (a matrix parameter to some
// servers).
func plainPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~/$&+,:=@", c) >= 0
}
