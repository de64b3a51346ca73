package chromaauth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// ClientCert makes client certificates identities (mutual TLS). Caddy
// verifies the certificate in the handshake, with the site's
// `tls { client_auth { mode require_and_verify; trust_pool file <ca.pem> } }`
// (or mode verify_if_given); the user of users_file whose `certs:` match
// the verified certificate (`CN=`, `URI=`, `DNS=`, `EMAIL=`,
// `SHA256=<fingerprint>`) is the request's identity, with its tenant,
// databases, role and collection grants, and provider "cert".
//
// A verified certificate that no user claims (or that two users' certs
// match) is answered 401; so is a certificate sent together with a
// credential header, as ambiguous. A certificate Caddy did not verify (mode
// request or require) is never an identity. Without a certificate, the
// other credentials work as usual, unless Required is set.
type ClientCert struct {
	// Refuse every request that has no certificate identity (401), even
	// with a valid password, token, key or JWT.
	Required bool `json:"required,omitempty"`
}

// Reasons of a client certificate refused.
const (
	// reasonCertUnclaimed: a verified certificate no user's certs match.
	reasonCertUnclaimed = "cert_unclaimed"
	// reasonCertAmbiguous: a verified certificate two users' certs match.
	reasonCertAmbiguous = "cert_ambiguous"
	// reasonCertRequired: client_cert required, and no verified certificate.
	reasonCertRequired = "cert_required"
)

// verifiedLeaf is the client certificate Caddy verified against its trust
// pool, nil when there is none: no TLS, no certificate, or one presented
// but not verified (client_auth mode request or require).
func verifiedLeaf(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// authenticateCert finds the identity of the request's verified client
// certificate. done is false when the request has none and may
// authenticate otherwise; else the identity or the reason is the answer.
func (h *ChromaAuth) authenticateCert(r *http.Request, creds *providers.Credentials) (id *providers.Identity, reason string, done bool) {
	leaf := verifiedLeaf(r)
	if leaf == nil {
		if h.ClientCert.Required {
			return nil, reasonCertRequired, true
		}
		return nil, "", false
	}
	if r.Header.Get(headerAuthorization) != "" || r.Header.Get(headerChromaToken) != "" {
		return nil, reasonAmbiguous, true // two credentials: which one is meant?
	}
	id, err := creds.CertIdentity(leaf)
	if err == nil {
		return id, "", true
	}
	if h.limiter != nil {
		h.limiter.Fail(authz.ClientKey(clientIP(r)), h.limiter.Clock(), nil)
	}
	if errors.Is(err, providers.ErrCertAmbiguous) {
		return nil, reasonCertAmbiguous, true
	}
	return nil, reasonCertUnclaimed, true
}

// certWarnings are the mistakes in the certs setup that do not stop a
// load: certs nobody uses, or client_cert with no certs to match.
func (h *ChromaAuth) certWarnings(creds *providers.Credentials) []string {
	switch n := creds.NumCertUsers(); {
	case h.ClientCert == nil && n > 0:
		return []string{fmt.Sprintf("users file %s gives %d users certs:, but client_cert is not set: no certificate is an identity", h.src.UsersFile, n)}
	case h.ClientCert != nil && n == 0:
		return []string{fmt.Sprintf("client_cert is set, but users file %s gives no user certs:: every verified certificate is answered 401", h.src.UsersFile)}
	}
	return nil
}

// unmarshalClientCert reads `client_cert [required]`.
func unmarshalClientCert(d *caddyfile.Dispenser, args []string) (*ClientCert, error) {
	switch {
	case len(args) == 0:
		return &ClientCert{}, nil
	case len(args) == 1 && args[0] == "required":
		return &ClientCert{Required: true}, nil
	}
	return nil, d.Errf("chroma_auth: client_cert takes no argument or required; got %q", args)
}
