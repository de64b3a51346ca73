// Package providers loads the credential sets of the chroma_auth gateway
// (htpasswd files, static tokens, Chroma users YAML) and checks requests'
// credentials against them. Every successful check hands back an Identity,
// the caller's user, tenant, databases and role, which the authorization
// layer enforces.
package providers

import "github.com/caddy-chroma-auth/caddy-chroma-auth/quota"

// Any is the wildcard of Chroma's users file: every tenant, or every
// database.
const Any = "*"

// Identity is who a request is, once its credentials are verified. It is
// Chroma's UserIdentity: the user id, the tenant the user may reach ("*" for
// all) and its databases (["*"] for all), plus the role RBAC checks.
type Identity struct {
	// User is the user id: the htpasswd user name or the token's user.
	User string `json:"user_id"`
	// Tenant is the one tenant the user may reach, or "*".
	Tenant string `json:"tenant"`
	// Databases the user may reach within the tenant; ["*"] means all.
	Databases []string `json:"databases"`
	// Role names the user's RBAC role; empty when none is set.
	Role string `json:"role,omitempty"`
	// Collections are the collections the identity may use, and how; nil
	// means every collection of its databases (see Grants).
	Collections *Grants `json:"-"`
	// Rows are the identity's row-level security: metadata key → value,
	// every one of which a record must hold for the identity to see or
	// change it. nil means every record.
	Rows map[string]string `json:"-"`
	// Provider says which credential proved the identity: "basic",
	// "token", "key" (an API key) or "jwt".
	Provider string `json:"-"`
	// KeyID is the id of the API key that proved the identity, "" for
	// other credentials. It is not secret: logs and the audit name it.
	KeyID string `json:"-"`
	// Source is where the identity was configured, for explanations: the
	// file and line of its users-file, htpasswd, token-file or keys-file
	// entry ("users.yaml:12"), "token #n" for a token of the Caddyfile,
	// "" for a JWT (its claims). Never a secret.
	Source string `json:"-"`
	// UserRoles are the roles the files give the user of an issued
	// credential (an API key, a JWT), which it never acts beyond: an
	// action needs Role and each of these (see Narrow). Empty for others.
	UserRoles []string `json:"-"`
	// Limits are the credential's own quotas (an API key's, a JWT's
	// limits claim), nil when it has none. They only ever tighten the
	// limits of the user (Credentials.UserLimits).
	Limits *quota.Limits `json:"-"`
}

// Provider names, as {http.auth.user.provider} and the logs give them.
const (
	ProviderBasic = "basic"
	ProviderToken = "token"
	ProviderKey   = "key"
	ProviderJWT   = "jwt"
)

// Scoped reports whether the identity is limited in any way: to one
// tenant, to some databases or to some collections.
func (id *Identity) Scoped() bool {
	return !id.AllTenants() || !id.AllDatabases() || id.Collections != nil
}

// AnonymousUser is the user of a bare token, as in Chroma.
const AnonymousUser = "anonymous"

// AllowsTenant reports whether the identity may reach tenant t.
func (id *Identity) AllowsTenant(t string) bool {
	return id.Tenant == "" || id.Tenant == Any || id.Tenant == t
}

// AllowsDatabase reports whether the identity may reach database d (of a
// tenant it is allowed).
func (id *Identity) AllowsDatabase(d string) bool {
	if len(id.Databases) == 0 {
		return true
	}
	for _, db := range id.Databases {
		if db == Any || db == d {
			return true
		}
	}
	return false
}

// AllTenants reports whether the identity is scoped to no single tenant.
func (id *Identity) AllTenants() bool { return id.Tenant == "" || id.Tenant == Any }

// AllDatabases reports whether the identity may reach every database.
func (id *Identity) AllDatabases() bool {
	for _, db := range id.Databases {
		if db == Any {
			return true
		}
	}
	return len(id.Databases) == 0
}
