package providers

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// UserEntry is one user of a Chroma users file:
//
//	users:
//	  - id: user@example.com
//	    role: admin
//	    tenant: acme          # default "*"
//	    databases: [prod]     # default ["*"]
//	    tokens: [tok-1]
type UserEntry struct {
	ID        string   `yaml:"id"`
	Role      string   `yaml:"role"`
	Tenant    string   `yaml:"tenant"`
	Databases []string `yaml:"databases"`
	Tokens    []string `yaml:"tokens"`
	Line      int      `yaml:"-"`
}

// Identity is the entry's identity with Chroma's defaults filled in.
func (u *UserEntry) Identity(provider string) *Identity {
	id := &Identity{User: u.ID, Role: u.Role, Tenant: u.Tenant, Databases: u.Databases, Provider: provider}
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
		if key := unknownKey(node); key != "" {
			return nil, fileErr(name, node.Line, fmt.Sprintf("users[%d]", i), "unknown field %q (want id, role, tenant, databases, tokens)", key)
		}
		if err := node.Decode(&u); err != nil {
			return nil, fileErr(name, node.Line, fmt.Sprintf("users[%d]", i), "malformed entry: %s", yamlMsg(err))
		}
		u.Line = node.Line
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
		case "id", "role", "tenant", "databases", "tokens":
		default:
			return k
		}
	}
	return ""
}
