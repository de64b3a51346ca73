package chromaauth

import (
	"fmt"
	"net/http"
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

func publicSet(extra []string, noDefaults bool) map[string]struct{} {
	set := make(map[string]struct{})
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

// checkPublicPath accepts only plain absolute paths, the only form the exact
// match below can compare safely.
func checkPublicPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("chroma_auth: public path %q must start with /", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("%?#;\\", c) >= 0 {
			return fmt.Errorf("chroma_auth: public path %q: only plain path characters, no %%-escapes, ?, #, ; or \\", p)
		}
	}
	if strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
		return fmt.Errorf("chroma_auth: public path %q is not a clean path", p)
	}
	return nil
}

// isPublic reports whether r is a GET or HEAD of a public route. The match
// is on the exact bytes of the path the upstream will receive: a request
// with any escape in its path has a RawPath and never matches, so no
// encoded, doubled-slash, dot-segment or suffixed variant of a public path
// is public.
func (h *ChromaAuth) isPublic(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.URL.RawPath != "" || r.URL.Opaque != "" {
		return false
	}
	_, ok := h.public[r.URL.Path]
	return ok
}
