package providers

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Least privilege. An issued credential (an API key, a JWT) never has more
// than its user has from the files (the users file, a users-YAML token
// file): its tenant, databases and collection grants narrow the user's,
// never widen them (rows: both its and its user's conditions hold), and its actions are those both its own role and its
// user's role grant (see authz.RBAC.Allowed, which reads UserRoles). A
// user the files do not name keeps the issued role and scope.

// ErrOutsideUser: an issued credential's tenant, databases or rows have
// nothing in common with its user's, so narrowing it leaves nothing to
// reach.
var ErrOutsideUser = errors.New("outside its user's scope")

// namedUser is one identity the files give a user, and where.
type namedUser struct {
	id    *Identity
	where string // "users.yaml:4"
}

// nameUser records that the files give user the identity id, at where.
func (c *Credentials) nameUser(id *Identity, where string) {
	if id.Role == "" && !id.Scoped() && len(id.Rows) == 0 {
		return // every tenant, database and collection, no role: narrows nothing
	}
	if c.named == nil {
		c.named = make(map[string][]namedUser)
	}
	c.named[id.User] = append(c.named[id.User], namedUser{id: id, where: where})
}

// NamesUser reports whether the files give user an identity (a role or a
// scope) that issued credentials are narrowed to.
func (c *Credentials) NamesUser(user string) bool { return len(c.named[user]) > 0 }

// NarrowToUser is issued narrowed to every identity the files give its
// user: issued itself when they name none. The error wraps ErrOutsideUser
// and says what does not fit, without a secret.
func (c *Credentials) NarrowToUser(issued *Identity) (*Identity, error) {
	out := issued
	for _, u := range c.named[issued.User] {
		var err error
		if out, err = Narrow(out, u.id); err != nil {
			return nil, fmt.Errorf("user %q (%s): %w", issued.User, u.where, err)
		}
	}
	return out, nil
}

// WiderThanUser lists how issued reaches beyond what the files give its
// user, one item per excess, each naming the file and line of the user:
// nil when it does not. Roles are RBAC's to judge (authz.RBAC.Excess).
func (c *Credentials) WiderThanUser(issued *Identity) []string {
	var out []string
	for _, u := range c.named[issued.User] {
		for _, w := range Wider(issued, u.id) {
			out = append(out, fmt.Sprintf("%s (user %q at %s)", w, issued.User, u.where))
		}
	}
	return out
}

// Narrow is issued narrowed to user: the tenant and databases both allow,
// the lower of the two grant levels for every collection, the row
// conditions of both (a key both give two values: outside), and user's role
// added to UserRoles. A copy; neither argument changes. The error (wrapping
// ErrOutsideUser) is for an issued tenant or databases that user has none
// of.
func Narrow(issued, user *Identity) (*Identity, error) {
	out := *issued
	switch {
	case user.AllTenants():
	case issued.AllTenants():
		out.Tenant = user.Tenant
	case issued.Tenant != user.Tenant:
		return nil, fmt.Errorf("tenant %q is not its user's %q: %w", issued.Tenant, user.Tenant, ErrOutsideUser)
	}
	if !user.AllDatabases() {
		if issued.AllDatabases() {
			out.Databases = user.Databases
		} else {
			var common []string
			for _, db := range issued.Databases {
				if user.AllowsDatabase(db) {
					common = append(common, db)
				}
			}
			if len(common) == 0 {
				return nil, fmt.Errorf("databases %s: none is its user's (%s): %w", strings.Join(issued.Databases, ","), strings.Join(user.Databases, ","), ErrOutsideUser)
			}
			out.Databases = common
		}
	}
	out.Collections = IntersectGrants(issued.Collections, user.Collections)
	if len(user.Rows) > 0 {
		rows := make(map[string]string, len(issued.Rows)+len(user.Rows))
		for k, v := range issued.Rows {
			rows[k] = v
		}
		for k, v := range user.Rows { // both conditions hold: a row must meet each
			if have, ok := rows[k]; ok && have != v {
				return nil, fmt.Errorf("rows %s=%q: its user's rows have %s=%q: %w", k, have, k, v, ErrOutsideUser)
			}
			rows[k] = v
		}
		out.Rows = rows
	}
	if user.Role != "" {
		out.UserRoles = append(append([]string(nil), issued.UserRoles...), user.Role)
	}
	return &out, nil
}

// Wider lists how issued's scope reaches beyond user's (tenant, databases,
// rows, collection grants): nil when it stays within. A glob grant counts as
// within only when one of user's grants of at least its level covers every
// name it can match, so this errs on the side of "wider".
func Wider(issued, user *Identity) []string {
	var out []string
	if !user.AllTenants() && issued.Tenant != user.Tenant {
		out = append(out, fmt.Sprintf("tenant %q beyond the user's %q", issued.Tenant, user.Tenant))
	}
	if !user.AllDatabases() {
		if issued.AllDatabases() {
			out = append(out, fmt.Sprintf("every database beyond the user's %s", strings.Join(user.Databases, ",")))
		} else {
			for _, db := range issued.Databases {
				if !user.AllowsDatabase(db) {
					out = append(out, fmt.Sprintf("database %q beyond the user's %s", db, strings.Join(user.Databases, ",")))
				}
			}
		}
	}
	rowKeys := make([]string, 0, len(user.Rows))
	for k := range user.Rows {
		rowKeys = append(rowKeys, k)
	}
	sort.Strings(rowKeys)
	for _, k := range rowKeys {
		if v, ok := issued.Rows[k]; !ok || v != user.Rows[k] {
			out = append(out, fmt.Sprintf("rows without the user's %s=%q", k, user.Rows[k]))
		}
	}
	if ug := user.Collections; ug != nil {
		ig := issued.Collections
		if ig == nil {
			return append(out, fmt.Sprintf("every collection beyond the user's %q", ug.String()))
		}
		m := ig.Map()
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			lv, _ := ParseLevel(m[name])
			if !ug.Covers(name, lv) {
				out = append(out, fmt.Sprintf("collection grant %s=%s beyond the user's %q", name, lv, ug.String()))
			}
		}
	}
	return out
}

// IntersectGrants is the grants a and b both give: for every name the lower
// of the two levels. nil (every collection) is the identity of it.
func IntersectGrants(a, b *Grants) *Grants {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &Grants{exact: a.exact, globs: a.globs, within: IntersectGrants(a.within, b)}
}

// Covers reports whether g gives at least level to every collection name
// pattern can match (pattern is a grant's name or glob). For a glob it
// looks for one grant covering it whole, so a glob only the union of
// several grants covers is reported as not covered.
func (g *Grants) Covers(pattern string, level Level) bool {
	if g == nil {
		return true
	}
	if !strings.ContainsAny(pattern, "*?") {
		return g.Level(pattern) >= level
	}
	if g.within != nil && !g.within.Covers(pattern, level) {
		return false
	}
	for _, gl := range g.globs {
		if gl.level >= level && globCovers(gl.pattern, pattern) {
			return true
		}
	}
	return false
}

// globCovers reports whether every name pattern a matches, pattern b
// matches too. It matches a's symbols against b: b's `*` takes any run of
// them, b's `?` one literal or `?`, a literal only itself; a `*` of a is
// only taken by a `*` of b. Sound (true only when a's names are all b's),
// and exact for the globs grants are written with.
func globCovers(b, a string) bool {
	p, n := []rune(b), []rune(a)
	// can[j]: b[:i] can take a[:j], row by row over i.
	can := make([]bool, len(n)+1)
	can[0] = true
	for i := 0; i < len(p); i++ {
		next := make([]bool, len(n)+1)
		for j := 0; j <= len(n); j++ {
			switch {
			case p[i] == '*':
				next[j] = can[j] || (j > 0 && next[j-1])
			case j == 0 || n[j-1] == '*':
			case p[i] == '?':
				next[j] = can[j-1]
			default:
				next[j] = can[j-1] && n[j-1] == p[i] && n[j-1] != '?'
			}
		}
		can = next
	}
	return can[len(n)]
}

// EachKey calls f with every API key of the set: its file:line, its id and
// the identity it proves (narrowed to its user's), by key id.
func (c *Credentials) EachKey(f func(where, keyID string, id *Identity)) {
	keys := make([]*apiKey, 0, len(c.keys))
	for _, k := range c.keys {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].id.KeyID < keys[j].id.KeyID })
	for _, k := range keys {
		f(k.id.Source, k.id.KeyID, k.id)
	}
}
