package chromaauth

import (
	"net/http"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const (
	headerAuthorization = authz.HeaderAuthorization
	headerChromaToken   = authz.HeaderChromaToken
)

// Reasons a request is refused; they go to logs, metrics and the
// `{http.auth.chroma_auth.reason}` placeholder, never to the client.
const (
	reasonMissing   = authz.ReasonMissing
	reasonMalformed = authz.ReasonMalformed
	reasonAmbiguous = authz.ReasonAmbiguous
	reasonInvalid   = "invalid_credentials"
	reasonBusy      = "bcrypt_busy"
	// reasonRateLimited: too many failures from the client's address.
	reasonRateLimited = "rate_limited"
)

// credential is what a request presents, before it is checked.
type credential struct {
	basic      bool
	user, pass string
	token      string
}

// extract finds the one credential of a configured kind in r (see
// authz.ExtractCredential, where the parsing lives and is fuzzed).
func (h *ChromaAuth) extract(r *http.Request, creds *providers.Credentials) (credential, string) {
	c, reason := authz.ExtractCredential(r.Header, h.tokenHeader, creds.Basic(), h.acceptsTokens(creds), h.maxTokenLen())
	return credential{basic: c.Basic, user: c.User, pass: c.Pass, token: c.Token}, reason
}

// parseBasic decodes the text after "Basic " (see authz.ParseBasic).
func parseBasic(b64 string) (user, pass string, ok bool) { return authz.ParseBasic(b64) }

// DefaultPublic are the routes Chroma serves without credentials: its
// server's default exemption list, and the Rust server's healthcheck.
var DefaultPublic = authz.DefaultPublic

// isPublic reports whether r is a GET or HEAD of a public route, byte for
// byte (see authz.PublicPaths.Match, where the matching is fuzzed).
func (h *ChromaAuth) isPublic(r *http.Request) bool {
	return authz.PublicPaths(h.public).Match(r.Method, r.URL)
}
