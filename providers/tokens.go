package providers

import (
	"bytes"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// TokenEntry is one token with the identity it proves.
type TokenEntry struct {
	Token    string
	Identity *Identity
	Source   string // "file:line" or "inline #n", for messages that must not quote the token
	// Named: the entry is a user of a users YAML, whose identity the
	// user's issued credentials are narrowed to (not an anonymous token).
	Named bool
	// UserLimits are the `limits:` of the token's user in a users YAML.
	UserLimits *quota.Limits
}

// LoadTokenFile reads a token file: either Chroma's users YAML (a top-level
// `users:` list, each user with its tokens) or plain text, one token a line
// with '#' comments, each an anonymous token.
func LoadTokenFile(path string) ([]TokenEntry, error) {
	data, err := readFile(path, "token file")
	if err != nil {
		return nil, err
	}
	return ParseTokenFile(path, data)
}

// ParseTokenFile parses the contents of a token file; see LoadTokenFile.
func ParseTokenFile(name string, data []byte) ([]TokenEntry, error) {
	if looksLikeUsersYAML(data) {
		users, err := ParseUsers(name, data, true)
		if err != nil {
			return nil, err
		}
		var out []TokenEntry
		for i := range users {
			if len(users[i].Certs) > 0 {
				return nil, fileErr(name, users[i].Line, fmt.Sprintf("user %q", users[i].ID), "certs: belong in the users_file, not a token file")
			}
			id := users[i].Identity("token")
			src := (&FileError{File: name, Line: users[i].Line}).where()
			for _, tok := range users[i].Tokens {
				out = append(out, TokenEntry{Token: tok, Identity: id, Source: src, Named: true, UserLimits: users[i].Limits})
			}
		}
		return out, nil
	}
	lines := bytes.Count(data, []byte{'\n'}) + 1
	out := make([]TokenEntry, 0, lines)
	seen := make(map[string]int, lines)
	err := eachLine(name, data, func(lineNo int, tok string) error {
		if err := checkToken(tok); err != nil {
			return fileErr(name, lineNo, "", "%v", err)
		}
		if first, dup := seen[tok]; dup {
			return fileErr(name, lineNo, "", "the same token as line %d", first)
		}
		seen[tok] = lineNo
		id := AnonymousIdentity()
		id.Source = (&FileError{File: name, Line: lineNo}).where()
		out = append(out, TokenEntry{Token: tok, Identity: id, Source: id.Source})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fileErr(name, 0, "", "no tokens: the token file is empty")
	}
	return out, nil
}

// AnonymousIdentity is the identity of a bare token, as Chroma gives it: user
// "anonymous", every tenant and database.
func AnonymousIdentity() *Identity {
	return &Identity{User: AnonymousUser, Tenant: Any, Databases: []string{Any}, Provider: "token"}
}

// looksLikeUsersYAML tells a users YAML document from a plain token list: a
// plain token (printable, no spaces) never parses as a YAML mapping.
func looksLikeUsersYAML(data []byte) bool {
	// Without the word there is no users key: a plain token list is told
	// apart without parsing it as YAML (which costs most of loading 100k).
	if !bytes.Contains(data, []byte("users")) {
		return false
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		// A broken YAML document that still says "users:" is meant as YAML:
		// let ParseUsers report where it breaks.
		return bytes.Contains(data, []byte("users:"))
	}
	_, ok := m["users"]
	return ok
}

// MaxTokenLen bounds a token so a header cannot make us hash megabytes.
const MaxTokenLen = 4096

var (
	errTokenEmpty   = errors.New("empty token")
	errTokenChars   = errors.New("token has spaces, control or non-ASCII characters (tokens are printable ASCII)")
	errTokenTooLong = errors.New("token longer than 4096 characters")
)

// checkToken accepts Chroma's tokens: printable ASCII, no spaces.
func checkToken(tok string) error {
	if tok == "" {
		return errTokenEmpty
	}
	if len(tok) > MaxTokenLen {
		return errTokenTooLong
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c >= 0x7f {
			return errTokenChars
		}
	}
	return nil
}
