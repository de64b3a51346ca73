package jwtauth

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// maxPathDepth bounds how deep a dotted claim path is looked up.
const maxPathDepth = 8

// lookup finds a dotted claim path in the claims: a member whose own name
// is the rest of the path wins (Auth0 and others name claims by URL,
// dots included); else the path is split at each dot in turn, from the
// left, and looked up in the object found.
func lookup(m map[string]any, path string, depth int) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	if depth >= maxPathDepth {
		return nil, false
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if sub, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := lookup(sub, path[i+1:], depth+1); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// mapClaims builds the identity of verified claims. A mapped user, tenant
// or databases claim the token lacks refuses it, as does any mapped claim
// of the wrong type; a missing role leaves the role empty, a missing
// collections claim gives every collection; a claim not mapped leaves that
// part unscoped.
func mapClaims(c *Config, claims map[string]any) (*providers.Identity, error) {
	id := &providers.Identity{Tenant: providers.Any, Databases: []string{providers.Any}, Provider: providers.ProviderJWT}
	userClaim := c.UserClaim
	if userClaim == "" {
		userClaim = DefaultUserClaim
	}
	var err error
	if id.User, err = stringClaim(claims, userClaim, true); err != nil {
		return nil, err
	}
	if c.TenantClaim != "" {
		if id.Tenant, err = stringClaim(claims, c.TenantClaim, true); err != nil {
			return nil, err
		}
	}
	if c.DatabasesClaim != "" {
		if id.Databases, err = stringsClaim(claims, c.DatabasesClaim); err != nil {
			return nil, err
		}
	}
	if c.RoleClaim != "" {
		if id.Role, err = roleClaim(claims, c.RoleClaim); err != nil {
			return nil, err
		}
	}
	if c.LimitsClaim != "" {
		if id.Limits, err = limitsClaim(claims, c.LimitsClaim); err != nil {
			return nil, err
		}
	}
	if c.CollectionsClaim != "" {
		if id.Collections, err = grantsClaim(claims, c.CollectionsClaim, id.User); err != nil {
			return nil, err
		}
	}
	if len(c.RowsClaims) > 0 {
		id.Rows = make(map[string]string, len(c.RowsClaims))
		for k, path := range c.RowsClaims {
			if id.Rows[k], err = stringClaim(claims, path, true); err != nil {
				return nil, err
			}
		}
		if rows.Check(id.Rows) != nil {
			return nil, refuseClaim(ErrClaimType, "rows")
		}
	}
	return id, nil
}

// maxClaimLen bounds a mapped string claim: names, not documents.
const maxClaimLen = 1024

func stringClaim(claims map[string]any, path string, required bool) (string, error) {
	v, ok := lookup(claims, path, 0)
	if !ok || v == nil {
		if required {
			return "", refuseClaim(ErrMissingClaim, path)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok || !validName(s) {
		return "", refuseClaim(ErrClaimType, path)
	}
	if s == "" && required {
		return "", refuseClaim(ErrMissingClaim, path)
	}
	return s, nil
}

// roleClaim reads the role: a string, or a list of exactly one (Entra ID's
// `roles`, Keycloak's role lists, for a user given one role). A list of
// several is refused: which one counts is not the gateway's guess.
func roleClaim(claims map[string]any, path string) (string, error) {
	if v, ok := lookup(claims, path, 0); ok {
		if list, ok := v.([]any); ok {
			if len(list) != 1 {
				return "", refuseClaim(ErrClaimType, path)
			}
			return stringClaim(map[string]any{"role": list[0]}, "role", false)
		}
	}
	return stringClaim(claims, path, false)
}

// stringsClaim reads a list of names; a single string is a list of one.
func stringsClaim(claims map[string]any, path string) ([]string, error) {
	v, ok := lookup(claims, path, 0)
	if !ok || v == nil {
		return nil, refuseClaim(ErrMissingClaim, path)
	}
	switch t := v.(type) {
	case string:
		if t == "" || !validName(t) {
			return nil, refuseClaim(ErrClaimType, path)
		}
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, refuseClaim(ErrMissingClaim, path)
		}
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok || s == "" || !validName(s) {
				return nil, refuseClaim(ErrClaimType, path)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, refuseClaim(ErrClaimType, path)
}

// grantsClaim reads a collections claim, {"docs": "read", "team-*":
// "write"}, into grants.
func grantsClaim(claims map[string]any, path, user string) (*providers.Grants, error) {
	v, ok := lookup(claims, path, 0)
	if !ok || v == nil {
		return nil, nil // every collection of the identity's databases
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, refuseClaim(ErrClaimType, path)
	}
	m := make(map[string]string, len(obj))
	for name, lv := range obj {
		s, ok := lv.(string)
		if !ok {
			return nil, refuseClaim(ErrClaimType, path)
		}
		m[name] = s
	}
	g, err := providers.NewGrantsFor(m, user)
	if err != nil {
		return nil, refuseClaim(ErrClaimType, path)
	}
	return g, nil
}

// validName: bounded, printable, no control characters, so a claim can
// go to logs and headers as it is.
func validName(s string) bool {
	if len(s) > maxClaimLen {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// limitsClaim reads a limits claim into quotas; a missing one is none (the
// user's limits hold), anything but an object of known limits refuses the
// token.
func limitsClaim(claims map[string]any, path string) (*quota.Limits, error) {
	v, ok := lookup(claims, path, 0)
	if !ok || v == nil {
		return nil, nil
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, refuseClaim(ErrClaimType, path)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, refuseClaim(ErrClaimType, path)
	}
	var l quota.Limits
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(&l) != nil || l.Validate() != nil {
		return nil, refuseClaim(ErrClaimType, path)
	}
	return &l, nil
}
