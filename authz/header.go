package authz

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// The headers a Chroma client sends its credential in.
const (
	HeaderAuthorization = "Authorization"
	HeaderChromaToken   = "X-Chroma-Token"
)

// Reasons ExtractCredential refuses a request's headers for. They name the
// problem for logs and metrics, never the credential.
const (
	ReasonMissing   = "missing_credentials"
	ReasonMalformed = "malformed_credentials"
	ReasonAmbiguous = "ambiguous_credentials"
)

// MaxBasicLen bounds the base64 text of a Basic credential; a longer one
// is malformed.
const MaxBasicLen = 8192

// Credential is what a request presents, before it is checked: a Basic
// user and password, or a token.
type Credential struct {
	Basic      bool
	User, Pass string
	Token      string
}

// ExtractCredential finds the one credential of a configured kind in the
// request headers h. tokenHeader is the canonical header tokens come in
// (HeaderAuthorization, as "Bearer <token>", or HeaderChromaToken); basic
// and token say which kinds of credential the gateway checks: a credential
// of a kind it does not check is ignored, as if it were absent.
//
// Repeated headers, or a Basic and a token credential at once, are
// ambiguous and refused: a gateway must never have to guess which one
// counts. It returns the credential, or a reason (ReasonMissing,
// ReasonMalformed or ReasonAmbiguous).
func ExtractCredential(h http.Header, tokenHeader string, basic, token bool, maxToken int) (Credential, string) {
	if maxToken <= 0 {
		maxToken = providers.MaxTokenLen
	}
	var found [2]Credential // at most one of each kind; no allocation
	n := 0
	authz := h.Values(HeaderAuthorization)
	if len(authz) > 1 {
		return Credential{}, ReasonAmbiguous
	}
	if len(authz) == 1 {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
		switch {
		case strings.EqualFold(scheme, "Basic") && basic:
			user, pass, ok := ParseBasic(rest)
			if !ok {
				return Credential{}, ReasonMalformed
			}
			found[n] = Credential{Basic: true, User: user, Pass: pass}
			n++
		case strings.EqualFold(scheme, "Bearer") && token && tokenHeader == HeaderAuthorization:
			tok, ok := tokenValue(rest, maxToken)
			if !ok {
				return Credential{}, ReasonMalformed
			}
			found[n] = Credential{Token: tok}
			n++
		}
	}
	if tokenHeader == HeaderChromaToken && token {
		vals := h.Values(HeaderChromaToken)
		if len(vals) > 1 {
			return Credential{}, ReasonAmbiguous
		}
		if len(vals) == 1 {
			tok, ok := tokenValue(vals[0], maxToken)
			if !ok {
				return Credential{}, ReasonMalformed
			}
			found[n] = Credential{Token: tok}
			n++
		}
	}
	switch n {
	case 0:
		return Credential{}, ReasonMissing
	case 1:
		return found[0], ""
	}
	return Credential{}, ReasonAmbiguous
}

// tokenValue is the token of a header value: trimmed, not empty, not
// longer than any token the gateway can hold.
func tokenValue(v string, maxToken int) (string, bool) {
	tok := strings.TrimSpace(v)
	if tok == "" || len(tok) > maxToken {
		return "", false
	}
	return tok, true
}

// ParseBasic decodes RFC 7617 credentials (the text after "Basic "):
// base64 of user ":" password, split at the first colon, so the password
// may hold colons and the user never does. An empty user is refused.
func ParseBasic(b64 string) (user, pass string, ok bool) {
	b64 = strings.TrimSpace(b64)
	if b64 == "" || len(b64) > MaxBasicLen {
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
