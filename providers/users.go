package providers

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// UserEntry is one user of a Chroma users file:
//
//	users:
//	  - id: user@example.com
//	    role: admin
//	    tenant: acme          # default "*"
//	    databases: [prod]     # default ["*"]
//	    tokens: [tok-1]
//	    certs: ["URI=spiffe://example.org/svc"]  # client certificates (see CertMatcher)
type UserEntry struct {
	ID        string   `yaml:"id"`
	Role      string   `yaml:"role"`
	Tenant    string   `yaml:"tenant"`
	Databases []string `yaml:"databases"`
	Tokens    []string `yaml:"tokens"`
	// Certs are the client certificates that are this user (see
	// ParseCertMatcher), parsed into CertMatchers.
	Certs        []string      `yaml:"certs"`
	CertMatchers []CertMatcher `yaml:"-"`
	// Collections is the `collections:` map of names and globs to levels;
	// nil when the entry has none (every collection of its databases).
	Collections *Grants   `yaml:"-"`
	Grants      yaml.Node `yaml:"collections"`
	Line        int       `yaml:"-"`
	// File is the file the entry was read from.
	File string `yaml:"-"`
	// Rows is the `rows:` map of metadata keys to values ({user} stands
	// for the id), with {user} replaced; nil when the entry has none.
	Rows map[string]string `yaml:"rows"`
	// Limits are the user's quotas (`limits:`), over the block's.
	Limits *quota.Limits `yaml:"limits"`
}

// Identity is the entry's identity with Chroma's defaults filled in.
func (u *UserEntry) Identity(provider string) *Identity {
	id := &Identity{User: u.ID, Role: u.Role, Tenant: u.Tenant, Databases: u.Databases, Collections: u.Collections, Rows: u.Rows, Provider: provider}
	if u.File != "" {
		id.Source = (&FileError{File: u.File, Line: u.Line}).where()
	}
	if id.Tenant == "" {
		id.Tenant = Any
	}
	if len(id.Databases) == 0 {
		id.Databases = []string{Any}
	}
	return id
}

// usersFile is the document: Chroma's authn users file. roles_mapping is
// allowed (and ignored here) because Chroma users often keep the RBAC
// mapping in the same file.
type usersFile struct {
	Users        []yaml.Node `yaml:"users"`
	RolesMapping yaml.Node   `yaml:"roles_mapping"`
}

// LoadUsers reads a Chroma users YAML file.
func LoadUsers(path string, tokensRequired bool) ([]UserEntry, error) {
	data, err := readFile(path, "users file")
	if err != nil {
		return nil, err
	}
	return ParseUsers(path, data, tokensRequired)
}

// ParseUsers parses a Chroma users YAML document. Every problem names the
// file, the line and the entry (by id, or by position when the id is
// missing); a token is never quoted. With tokensRequired (a token file) a
// user without tokens is an error, as in Chroma.
func ParseUsers(name string, data []byte, tokensRequired bool) ([]UserEntry, error) {
	var doc usersFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fileErr(name, 0, "", "malformed users YAML: %s", yamlMsg(err))
	}
	if len(doc.Users) == 0 {
		return nil, fileErr(name, 0, "", "no users: want a top-level 'users:' list")
	}
	entries := make([]UserEntry, 0, len(doc.Users))
	ids := make(map[string]int)
	tokenOwner := make(map[string]string)
	for i := range doc.Users {
		node := &doc.Users[i]
		var u UserEntry
		var err error
		if key := unknownKey(node); key != "" {
			return nil, fileErr(name, node.Line, fmt.Sprintf("users[%d]", i), "unknown field %q (want id, role, tenant, databases, tokens, collections, rows, limits, certs)", key)
		}
		if err = node.Decode(&u); err != nil {
			return nil, fileErr(name, node.Line, fmt.Sprintf("users[%d]", i), "malformed entry: %s", yamlMsg(err))
		}
		u.Line, u.File = node.Line, name
		who := fmt.Sprintf("users[%d]", i)
		if u.ID == "" {
			return nil, fileErr(name, u.Line, who, "entry has no id")
		}
		who = fmt.Sprintf("user %q", u.ID)
		if !validName(u.ID) {
			return nil, fileErr(name, u.Line, fmt.Sprintf("users[%d]", i), "id has spaces or control characters")
		}
		if first, dup := ids[u.ID]; dup {
			return nil, fileErr(name, u.Line, who, "duplicate user (first on line %d)", first)
		}
		ids[u.ID] = u.Line
		if u.Tenant != "" && !validName(u.Tenant) {
			return nil, fileErr(name, u.Line, who, "tenant has spaces or control characters")
		}
		for _, db := range u.Databases {
			if db == "" || !validName(db) {
				return nil, fileErr(name, u.Line, who, "database names must be non-empty without spaces")
			}
		}
		if u.Collections, err = grantsNode(&u.Grants, u.ID); err != nil {
			return nil, fileErr(name, u.Grants.Line, who, "%v", err)
		}
		if u.Rows, err = userRows(u.Rows, u.ID); err != nil {
			return nil, fileErr(name, u.Line, who, "%v", err)
		}
		if u.Limits != nil {
			if err := u.Limits.Validate(); err != nil {
				return nil, fileErr(name, u.Line, who, "%v", err)
			}
		}
		if err = parseCerts(name, &u); err != nil {
			return nil, err
		}
		if tokensRequired && len(u.Tokens) == 0 {
			return nil, fileErr(name, u.Line, who, "user has no tokens")
		}
		for j, tok := range u.Tokens {
			if err := checkToken(tok); err != nil {
				return nil, fileErr(name, u.Line, who, "tokens[%d]: %v", j, err)
			}
			if owner, dup := tokenOwner[tok]; dup {
				return nil, fileErr(name, u.Line, who, "tokens[%d] is already the token of user %q: a token must belong to one user", j, owner)
			}
			tokenOwner[tok] = u.ID
		}
		entries = append(entries, u)
	}
	return entries, nil
}

// yamlMsg keeps the YAML parser's message but drops any quoted document
// text it may carry, which could be a token.
func yamlMsg(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.Index(msg, "`"); i >= 0 {
		msg = msg[:i] + "(value elided)"
	}
	return msg
}

// unknownKey returns the first key of a mapping node that is not a field
// of UserEntry: a typo such as `tokenz` must not silently drop tokens.
func unknownKey(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "id", "role", "tenant", "databases", "tokens", "collections", "rows", "limits", "certs":
		default:
			return k
		}
	}
	return ""
}

// grantsNode reads a `collections:` mapping of names and globs to levels.
// An absent key gives nil (every collection); `{}` gives none. A name given
// twice, a level that is not read, write or admin, or anything but a map
// of strings is an error.
func grantsNode(n *yaml.Node, user string) (*Grants, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("collections: want a map of collection name or glob to read, write or admin ({} for none)")
	}
	m := make(map[string]string, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("collections (line %d): want name: level", k.Line)
		}
		if first, dup := lines[k.Value]; dup {
			return nil, fmt.Errorf("collections (line %d): %q given twice (first on line %d)", k.Line, k.Value, first)
		}
		lines[k.Value] = k.Line
		m[k.Value] = v.Value
	}
	g, err := NewGrantsFor(m, user)
	if err != nil {
		return nil, fmt.Errorf("collections: %v", err)
	}
	return g, nil
}
