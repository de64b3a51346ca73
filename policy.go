package chromaauth

import (
	"fmt"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// policy is everything a request is judged by: the credential set (users,
// tokens, identities with their scopes and grants) and the RBAC file.
// Provision and every reload build a whole new one and swap it in with one
// store; a request loads it once, at its start, and is judged by that one
// snapshot to the end, so it never sees new credentials with old roles.
// A policy is never changed once stored.
type policy struct {
	creds *providers.Credentials
	rbac  *authz.RBAC // nil when RBAC is off
}

// roleOf is the role RBAC gives id, else the role of its users-file entry.
func (p *policy) roleOf(id *providers.Identity) string {
	if p.rbac != nil {
		return p.rbac.RoleOf(id)
	}
	return id.Role
}

// prepare is the one preparation Provision and `caddy chroma-auth check`
// share: it reads Chroma's environment (from_env), validates the settings
// and loads every file into a policy. It returns warnings to log or show.
func (h *ChromaAuth) prepare(lookupEnv func(string) (string, bool)) (*policy, []string, error) {
	if h.FromEnv {
		if err := h.applyChromaEnv(lookupEnv); err != nil {
			return nil, nil, fmt.Errorf("chroma_auth: from_env: %w", err)
		}
	}
	if err := h.Validate(); err != nil {
		return nil, nil, err
	}
	h.tokenHeader, _ = canonicalTokenHeader(h.TokenHeader) // Validate checked it
	h.public = publicSet(h.Public, h.NoDefaultPublic)
	h.src = h.sources()
	return h.loadPolicy()
}

// loadPolicy reads the credential files and the RBAC file into a new
// policy, as Provision and every reload do.
func (h *ChromaAuth) loadPolicy() (*policy, []string, error) {
	return h.loadPolicyFrom(h.src, false)
}

// loadPolicyFrom is loadPolicy from the sources src; rbacGone says the
// RBAC file is gone, which allows nothing (see reload).
func (h *ChromaAuth) loadPolicyFrom(src providers.Sources, rbacGone bool) (*policy, []string, error) {
	creds, err := providers.Load(src)
	if err != nil {
		return nil, nil, fmt.Errorf("chroma_auth: %w", err)
	}
	pol := &policy{creds: creds}
	warnings := h.certWarnings(creds)
	if path := h.authzPath(); path != "" && rbacGone {
		pol.rbac = authz.DenyAll(path)
	} else if path != "" {
		if pol.rbac, err = authz.LoadRBAC(path); err != nil {
			return nil, nil, fmt.Errorf("chroma_auth: authz: %w", err)
		}
		if unknown := pol.rbac.UnknownActions(); len(unknown) > 0 {
			warnings = append(warnings, fmt.Sprintf("authz file %s grants actions no Chroma route checks: %s", path, strings.Join(unknown, ", ")))
		}
	}
	warnings = append(warnings, creds.Warnings()...)
	warnings = append(warnings, keyRoleWarnings(pol)...)
	return pol, warnings, nil
}
