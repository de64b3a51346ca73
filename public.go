package chromaauth

import (
	"fmt"
	"net/http"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// DefaultPublic are the routes Chroma serves without credentials: its
// server's default exemption list, and the Rust server's healthcheck.
var DefaultPublic = authz.DefaultPublic

// publicSet is the set of public paths (see authz.NewPublicPaths).
func publicSet(extra []string, noDefaults bool) map[string]struct{} {
	return authz.NewPublicPaths(extra, noDefaults)
}

// checkPublicPath accepts only plain absolute paths (see
// authz.CheckPublicPath).
func checkPublicPath(p string) error {
	if err := authz.CheckPublicPath(p); err != nil {
		return fmt.Errorf("chroma_auth: %w", err)
	}
	return nil
}

// isPublic reports whether r is a GET or HEAD of a public route, byte for
// byte (see authz.PublicPaths.Match, where the matching is fuzzed).
func (h *ChromaAuth) isPublic(r *http.Request) bool {
	return authz.PublicPaths(h.public).Match(r.Method, r.URL)
}
