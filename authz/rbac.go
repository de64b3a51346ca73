package authz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// RBAC is Chroma's SimpleRBACAuthorizationProvider configuration: roles
// mapped to the actions they may perform, and users mapped to roles.
//
//	roles_mapping:
//	  admin:  { actions: ["system:reset", "tenant:create_tenant", ...] }
//	  reader: { actions: ["db:list_collections", "collection:get", ...] }
//	users:
//	  - { id: user@example.com, role: admin }
//
// An RBAC is immutable once parsed and safe for concurrent use.
type RBAC struct {
	name    string
	roles   map[string]map[string]bool
	users   map[string]string
	unknown []string
}

type rbacFile struct {
	RolesMapping map[string]*struct {
		Actions []string `yaml:"actions"`
	} `yaml:"roles_mapping"`
	Users []struct {
		ID   string `yaml:"id"`
		Role string `yaml:"role"`
	} `yaml:"users"`
}

// LoadRBAC reads and parses the RBAC file at path.
func LoadRBAC(path string) (*RBAC, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("RBAC file: %w", err)
	}
	return ParseRBAC(path, data)
}

// ParseRBAC parses an RBAC file's content; name (the file's path) prefixes
// every error, which names the role or the user (index and id) at fault.
// A malformed file, a role without actions, a malformed action, a user
// without id or role, a user listed twice and a user of a role that
// roles_mapping lacks are errors.
func ParseRBAC(name string, data []byte) (*RBAC, error) {
	var f rbacFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty RBAC file: it needs roles_mapping", name)
		}
		return nil, fmt.Errorf("%s: malformed RBAC YAML: %v", name, err)
	}
	if len(f.RolesMapping) == 0 {
		return nil, fmt.Errorf("%s: no roles_mapping", name)
	}
	p := &RBAC{name: name, roles: map[string]map[string]bool{}, users: map[string]string{}}
	unknown := map[string]bool{}
	for role, def := range f.RolesMapping {
		if strings.TrimSpace(role) == "" {
			return nil, fmt.Errorf("%s: roles_mapping: a role has an empty name", name)
		}
		if def == nil || len(def.Actions) == 0 {
			return nil, fmt.Errorf("%s: role %q has no actions", name, role)
		}
		set := map[string]bool{}
		for i, a := range def.Actions {
			if !wellFormedAction(a) {
				return nil, fmt.Errorf("%s: role %q: actions[%d] %q is not an action (want e.g. \"collection:query\")", name, role, i, a)
			}
			if !KnownAction(a) {
				unknown[a] = true
			}
			set[a] = true
		}
		p.roles[role] = set
	}
	first := map[string]int{}
	for i, u := range f.Users {
		if u.ID == "" {
			return nil, fmt.Errorf("%s: users[%d]: missing id", name, i)
		}
		if j, dup := first[u.ID]; dup {
			return nil, fmt.Errorf("%s: users[%d] (id %q): duplicate user, first at users[%d]", name, i, u.ID, j)
		}
		first[u.ID] = i
		if u.Role == "" {
			return nil, fmt.Errorf("%s: users[%d] (id %q): missing role", name, i, u.ID)
		}
		if _, ok := p.roles[u.Role]; !ok {
			return nil, fmt.Errorf("%s: users[%d] (id %q): unknown role %q (roles_mapping has %s)", name, i, u.ID, u.Role, strings.Join(p.Roles(), ", "))
		}
		p.users[u.ID] = u.Role
	}
	for a := range unknown {
		p.unknown = append(p.unknown, a)
	}
	sort.Strings(p.unknown)
	return p, nil
}

func wellFormedAction(a string) bool {
	kind, op, ok := strings.Cut(a, ":")
	return ok && kind != "" && op != "" && strings.TrimSpace(a) == a && !strings.ContainsAny(a, " \t")
}

// Name is the file the RBAC came from.
func (p *RBAC) Name() string { return p.name }

// Roles lists the roles, sorted.
func (p *RBAC) Roles() []string {
	out := make([]string, 0, len(p.roles))
	for r := range p.roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// UnknownActions lists the actions the file grants that no Chroma route
// checks (typos, or actions of other Chroma versions), sorted, so the
// caller can warn about them. They grant nothing.
func (p *RBAC) UnknownActions() []string { return append([]string(nil), p.unknown...) }

// RoleOf is the role RBAC gives id: the role an API key or a JWT was
// issued with, else the role of its user id in the file's users section,
// else (for an issued credential) its user's role from the users file,
// else the identity's own role (from the users or token file); "" when
// none.
func (p *RBAC) RoleOf(id *providers.Identity) string {
	if p == nil || id == nil {
		return ""
	}
	// An API key or a JWT carries the role it was issued with: a key made
	// with a lesser role than its user's must not act with the user's.
	// (Nor with more: Allowed caps it with the user's.)
	if issued(id) && id.Role != "" {
		return id.Role
	}
	if r, ok := p.users[id.User]; ok {
		return r
	}
	if issued(id) && len(id.UserRoles) > 0 {
		return id.UserRoles[0]
	}
	return id.Role
}

// issued reports whether id was proved by an issued credential: an API key
// or a JWT, which carry a role of their own.
func issued(id *providers.Identity) bool {
	return id.Provider == providers.ProviderKey || id.Provider == providers.ProviderJWT
}

// Allowed reports whether id's role grants action. A nil RBAC, a nil
// identity, an empty action, a missing or unknown role all deny. An
// issued credential (API key, JWT) needs its user's role to grant the
// action too: its role's and its user's actions intersect. Its user's
// role is the file's users section's, else the users file's (UserRoles);
// a user neither names keeps the issued role.
func (p *RBAC) Allowed(id *providers.Identity, action string) bool {
	if p == nil || id == nil || action == "" {
		return false
	}
	if !p.roles[p.RoleOf(id)][action] {
		return false
	}
	if !issued(id) {
		return true
	}
	if r, ok := p.users[id.User]; ok {
		return p.roles[r][action]
	}
	for _, r := range id.UserRoles {
		if !p.roles[r][action] {
			return false
		}
	}
	return true
}

// Excess lists, sorted, the actions id's role grants that Allowed refuses
// it because its user's role lacks them: what an issued credential was
// given beyond its user. Empty for credentials within their user's role.
func (p *RBAC) Excess(id *providers.Identity) []string {
	if p == nil || id == nil {
		return nil
	}
	var out []string
	for a := range p.roles[p.RoleOf(id)] {
		if !p.Allowed(id, a) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// UserRole is the role the file's users section gives user, if any.
func (p *RBAC) UserRole(user string) (string, bool) {
	if p == nil {
		return "", false
	}
	r, ok := p.users[user]
	return r, ok
}

// Authorize checks a classified route: unknown routes are denied, public,
// identity and authentication-only routes (Action "") are allowed, and any
// other route needs Allowed. It returns nil or a *Denied whose reason
// names the action ("Forbidden: <action>" is the client's message).
func (p *RBAC) Authorize(id *providers.Identity, rt Route) error {
	if !rt.Known {
		return deny("request is not a Chroma route the gateway knows")
	}
	if rt.Public || rt.Identity || rt.Action == "" {
		return nil
	}
	if rt.IDOnly {
		return deny("%s names its object by id alone", rt.Name)
	}
	if !p.Allowed(id, rt.Action) {
		return &Denied{Reason: rt.Action, Action: rt.Action}
	}
	for _, a := range rt.Extra {
		if !p.Allowed(id, a) {
			return &Denied{Reason: a, Action: a}
		}
	}
	return nil
}

// DenyAll is the RBAC of an RBAC file that is gone: no role, no action.
func DenyAll(name string) *RBAC {
	return &RBAC{name: name, roles: map[string]map[string]bool{}, users: map[string]string{}}
}
