package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Policy is everything a request is judged by: the credential set (users,
// tokens, identities with their scopes and grants) and the RBAC file.
// Provision and every reload build a whole new one and swap it in with one
// store; a request loads it once, at its start, and is judged by that one
// snapshot to the end, so it never sees new credentials with old roles.
// A Policy is never changed once stored.
type Policy struct {
	Creds *providers.Credentials
	RBAC  *authz.RBAC // nil when RBAC is off
}

// RoleOf is the role RBAC gives id, else the role of its users-file entry.
func (p *Policy) RoleOf(id *providers.Identity) string {
	if p.RBAC != nil {
		return p.RBAC.RoleOf(id)
	}
	return id.Role
}

// Prepared is a handler's config made ready to serve: what Prepare
// worked out, and the first policy.
type Prepared struct {
	TokenHeader string              // canonical: "Authorization" or "X-Chroma-Token"
	Public      map[string]struct{} // the public paths (see authz.NewPublicPaths)
	Sources     providers.Sources   // the credential files and tokens, placeholders resolved
	Policy      *Policy             // nil when the load failed
	Warnings    []string            // to log or show
}

// Prepare is the one preparation Provision and `caddy chroma-auth`
// (check, key create --config, explain, test) share: it reads Chroma's
// environment (from_env), validates the settings and loads every file
// into a policy. The Prepared is never nil: it holds what was worked out
// before an error.
func (c *Handler) Prepare(lookupEnv func(string) (string, bool)) (*Prepared, error) {
	p := &Prepared{}
	if c.FromEnv {
		if err := c.applyChromaEnv(lookupEnv); err != nil {
			return p, fmt.Errorf("chroma_auth: from_env: %w", err)
		}
	}
	if err := c.Validate(); err != nil {
		return p, err
	}
	p.TokenHeader, _ = CanonicalTokenHeader(c.TokenHeader) // Validate checked it
	p.Public = authz.NewPublicPaths(c.Public, c.NoDefaultPublic)
	p.Sources = c.Sources()
	pol, warnings, err := c.LoadPolicy(p.Sources, false)
	p.Policy, p.Warnings = pol, warnings
	return p, err
}

// LoadPolicy reads the credential files of src and the RBAC file into a
// new policy, as Provision and every reload do; rbacGone says the RBAC
// file is gone, which allows nothing (see Reload). It returns warnings to
// log or show.
func (c *Handler) LoadPolicy(src providers.Sources, rbacGone bool) (*Policy, []string, error) {
	creds, err := providers.Load(src)
	if err != nil {
		return nil, nil, fmt.Errorf("chroma_auth: %w", err)
	}
	pol := &Policy{Creds: creds}
	warnings := c.certWarnings(creds)
	if path := c.AuthzPath(); path != "" && rbacGone {
		pol.RBAC = authz.DenyAll(path)
	} else if path != "" {
		if pol.RBAC, err = authz.LoadRBAC(path); err != nil {
			return nil, nil, fmt.Errorf("chroma_auth: authz: %w", err)
		}
		if unknown := pol.RBAC.UnknownActions(); len(unknown) > 0 {
			warnings = append(warnings, fmt.Sprintf("authz file %s grants actions no Chroma route checks: %s", path, strings.Join(unknown, ", ")))
		}
	}
	warnings = append(warnings, creds.Warnings()...)
	warnings = append(warnings, keyRoleWarnings(pol)...)
	return pol, warnings, nil
}

// Reload reads every credential and RBAC file of src again, as a change
// to one of them asks. A credentials file that is gone revokes what it
// held (see providers.Sources.WithoutGone); a gone RBAC file allows
// nothing. gone names the files that are gone; on an error the caller
// keeps its last good policy.
func (c *Handler) Reload(src providers.Sources) (pol *Policy, gone, warnings []string, err error) {
	src, gone = src.WithoutGone(fileGone)
	rbacGone := false
	if path := c.AuthzPath(); path != "" && fileGone(path) {
		gone, rbacGone = append(gone, path), true
	}
	pol, warnings, err = c.LoadPolicy(src, rbacGone)
	return pol, gone, warnings, err
}

// fileGone reports whether path does not exist (an unreadable file is not
// gone: its load fails and the last good set stays).
func fileGone(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// WatchedFiles are the files of src, and the RBAC file, whose change
// triggers a reload.
func (c *Handler) WatchedFiles(src providers.Sources) []string {
	files := src.Files()
	if f := c.AuthzPath(); f != "" {
		files = append(files, f)
	}
	return files
}

// AuthzPath is the RBAC file, placeholders resolved ("" when RBAC is off).
func (c *Handler) AuthzPath() string {
	return caddy.NewReplacer().ReplaceAll(c.AuthzFile, "")
}

// certWarnings are the mistakes in the certs setup that do not stop a
// load: certs nobody uses, or client_cert with no certs to match.
func (c *Handler) certWarnings(creds *providers.Credentials) []string {
	users := caddy.NewReplacer().ReplaceAll(c.UsersFile, "")
	switch n := creds.NumCertUsers(); {
	case c.ClientCert == nil && n > 0:
		return []string{fmt.Sprintf("users file %s gives %d users certs:, but client_cert is not set: no certificate is an identity", users, n)}
	case c.ClientCert != nil && n == 0:
		return []string{fmt.Sprintf("client_cert is set, but users file %s gives no user certs:: every verified certificate is answered 401", users)}
	}
	return nil
}

// keyRoleWarnings names every API key whose role grants actions its
// user's role does not: the key acts without them (RBAC.Allowed).
func keyRoleWarnings(pol *Policy) []string {
	if pol.RBAC == nil {
		return nil
	}
	var out []string
	pol.Creds.EachKey(func(where, keyID string, id *providers.Identity) {
		if excess := pol.RBAC.Excess(id); len(excess) > 0 {
			out = append(out, fmt.Sprintf("%s: key %q reaches beyond its user: role %q grants %s, which user %q's role does not; it acts with no more than its user has",
				where, keyID, id.Role, strings.Join(excess, ", "), id.User))
		}
	})
	return out
}

// CanonicalTokenHeader accepts the header names Chroma users know:
// Authorization / AUTHORIZATION and X-Chroma-Token / X_CHROMA_TOKEN.
func CanonicalTokenHeader(name string) (string, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "", "authorization":
		return authz.HeaderAuthorization, nil
	case "x-chroma-token":
		return authz.HeaderChromaToken, nil
	}
	return "", fmt.Errorf("chroma_auth: token_header %q: must be Authorization or X-Chroma-Token", name)
}

// CheckPublicPath accepts only plain absolute paths (see
// authz.CheckPublicPath).
func CheckPublicPath(p string) error {
	if err := authz.CheckPublicPath(p); err != nil {
		return fmt.Errorf("chroma_auth: %w", err)
	}
	return nil
}
