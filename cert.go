package chromaauth

import (
	"crypto/x509"
	"errors"
	"net/http"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

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
