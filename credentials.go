package chromaauth

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const (
	headerAuthorization = "Authorization"
	headerChromaToken   = "X-Chroma-Token"
)

// canonicalTokenHeader accepts the header names Chroma users know:
// Authorization / AUTHORIZATION and X-Chroma-Token / X_CHROMA_TOKEN.
func canonicalTokenHeader(name string) (string, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "", "authorization":
		return headerAuthorization, nil
	case "x-chroma-token":
		return headerChromaToken, nil
	}
	return "", fmt.Errorf("chroma_auth: token_header %q: must be Authorization or X-Chroma-Token", name)
}

// Reasons a request is refused; they go to logs, metrics and the
// `{http.auth.chroma_auth.reason}` placeholder, never to the client.
const (
	reasonMissing   = "missing_credentials"
	reasonMalformed = "malformed_credentials"
	reasonInvalid   = "invalid_credentials"
	reasonAmbiguous = "ambiguous_credentials"
	reasonBusy      = "bcrypt_busy"
	// reasonRateLimited: too many failures from the client's address.
	reasonRateLimited = "rate_limited"
)

// maxHeaderCred bounds a credential header we look at; longer is malformed.
const maxHeaderCred = 8192

// credential is what a request presents, before it is checked.
type credential struct {
	basic      bool
	user, pass string
	token      string
}

// extract finds the one credential of a configured kind in r. Repeated
// headers, or a Basic and a token credential at once, are ambiguous and
// refused: a gateway must never have to guess which one counts.
func (h *ChromaAuth) extract(r *http.Request, creds *providers.Credentials) (credential, string) {
	var found [2]credential // at most one of each kind; no allocation
	n := 0
	authz := r.Header.Values(headerAuthorization)
	if len(authz) > 1 {
		return credential{}, reasonAmbiguous
	}
	if len(authz) == 1 {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
		switch {
		case strings.EqualFold(scheme, "Basic") && creds.Basic():
			user, pass, ok := parseBasic(rest)
			if !ok {
				return credential{}, reasonMalformed
			}
			found[n] = credential{basic: true, user: user, pass: pass}
			n++
		case strings.EqualFold(scheme, "Bearer") && h.acceptsTokens(creds) && h.tokenHeader == headerAuthorization:
			tok := strings.TrimSpace(rest)
			if tok == "" || len(tok) > h.maxTokenLen() {
				return credential{}, reasonMalformed
			}
			found[n] = credential{token: tok}
			n++
		}
	}
	if h.tokenHeader == headerChromaToken && h.acceptsTokens(creds) {
		vals := r.Header.Values(headerChromaToken)
		if len(vals) > 1 {
			return credential{}, reasonAmbiguous
		}
		if len(vals) == 1 {
			tok := strings.TrimSpace(vals[0])
			if tok == "" || len(tok) > h.maxTokenLen() {
				return credential{}, reasonMalformed
			}
			found[n] = credential{token: tok}
			n++
		}
	}
	switch n {
	case 0:
		return credential{}, reasonMissing
	case 1:
		return found[0], ""
	}
	return credential{}, reasonAmbiguous
}

// parseBasic decodes RFC 7617 credentials: base64 of user ":" password,
// split at the first colon, so the password may hold colons.
func parseBasic(b64 string) (user, pass string, ok bool) {
	b64 = strings.TrimSpace(b64)
	if b64 == "" || len(b64) > maxHeaderCred {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return "", "", false
	}
	return user, pass, true
}
