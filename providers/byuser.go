package providers

import "sort"

// UserIdentity is the identity the files give user, for `caddy
// chroma-auth explain --user` and policy tests: its htpasswd entry's (as
// its users-file entry scopes it), else the one of its first token in a
// users or token file, else (a user known by its certs: only) its
// certificate identity. ok is false when no file names user.
func (c *Credentials) UserIdentity(user string) (id *Identity, ok bool) {
	if u := c.users[user]; u != nil {
		return u.id, true
	}
	var found []*Identity
	for _, recs := range c.tokens {
		for _, rec := range recs {
			if rec.id.User == user {
				found = append(found, rec.id)
			}
		}
	}
	if len(found) == 0 {
		id := c.certUser(user)
		return id, id != nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Source < found[j].Source })
	return found[0], true
}
