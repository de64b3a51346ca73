package providers

import (
	"fmt"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// ExpandUser replaces {user} in a collection grant's name or glob by the
// user id. A user id with glob characters (`*`, `?`) cannot stand in a
// glob: such a grant is an error rather than a wider one.
func ExpandUser(pattern, user string) (string, error) {
	if !strings.Contains(pattern, rows.UserPlaceholder) {
		return pattern, nil
	}
	if strings.ContainsAny(user, "*?") {
		return "", fmt.Errorf("collection grant %q: the user id %q has * or ?, which {user} cannot stand for in a glob", pattern, user)
	}
	return strings.ReplaceAll(pattern, rows.UserPlaceholder, user), nil
}

// NewGrantsFor is NewGrants with {user} in names and globs replaced by
// user. Two patterns that come out the same are an error.
func NewGrantsFor(m map[string]string, user string) (*Grants, error) {
	out := make(map[string]string, len(m))
	for p, lv := range m {
		e, err := ExpandUser(p, user)
		if err != nil {
			return nil, err
		}
		if _, dup := out[e]; dup {
			return nil, fmt.Errorf("collection %q given twice once {user} is replaced", e)
		}
		out[e] = lv
	}
	return NewGrants(out)
}

// userRows checks a user's or key's rows and replaces {user} in their
// values; nil stays nil (no rows: every record).
func userRows(m map[string]string, user string) (map[string]string, error) {
	if m == nil {
		return nil, nil
	}
	return rows.Expand(m, user)
}
