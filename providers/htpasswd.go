package providers

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// HtpasswdEntry is one user of an htpasswd file.
type HtpasswdEntry struct {
	User string
	Hash string // a bcrypt hash ($2a$, $2b$ or $2y$)
	Line int
}

// LoadHtpasswd reads an htpasswd file of bcrypt hashes.
func LoadHtpasswd(path string) ([]HtpasswdEntry, error) {
	data, err := readFile(path, "htpasswd file")
	if err != nil {
		return nil, err
	}
	return ParseHtpasswd(path, data)
}

// ParseHtpasswd parses the lines `user:hash` of an htpasswd file. Only
// bcrypt hashes are accepted, as in Chroma: anything else names the file,
// line and user and says how to make a bcrypt one. Blank lines and lines
// starting with '#' are skipped; a duplicate user or an empty file is an
// error, so a typo cannot silently lock everybody out or let a stale entry
// win.
func ParseHtpasswd(name string, data []byte) ([]HtpasswdEntry, error) {
	lines := bytes.Count(data, []byte{'\n'}) + 1
	entries := make([]HtpasswdEntry, 0, lines)
	seen := make(map[string]int, lines)
	err := eachLine(name, data, func(lineNo int, line string) error {
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok:
			return fileErr(name, lineNo, "", "malformed line: want user:bcrypt-hash (make it with htpasswd -B)")
		case user == "":
			return fileErr(name, lineNo, "", "malformed line: empty user name")
		case !validName(user):
			return fileErr(name, lineNo, "", "malformed line: user name has spaces or control characters")
		case hash == "":
			return fileErr(name, lineNo, quoteUser(user), "no password hash")
		}
		if err := checkBcrypt(hash); err != nil {
			return fileErr(name, lineNo, quoteUser(user), "%v", err)
		}
		if first, dup := seen[user]; dup {
			return fileErr(name, lineNo, quoteUser(user), "duplicate user (first on line %d)", first)
		}
		seen[user] = lineNo
		entries = append(entries, HtpasswdEntry{User: user, Hash: hash, Line: lineNo})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fileErr(name, 0, "", "no users: the htpasswd file is empty (add one with htpasswd -B %s <user>)", name)
	}
	return entries, nil
}

// checkBcrypt tells why hash is not a usable bcrypt hash, naming the scheme
// it looks like so the operator knows what went wrong.
func checkBcrypt(hash string) error {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return fmt.Errorf("malformed bcrypt hash; make it again with htpasswd -B")
		}
		return nil
	case strings.HasPrefix(hash, "$apr1$"):
		return fmt.Errorf("hash is Apache MD5 ($apr1$), not bcrypt; use htpasswd -B")
	case strings.HasPrefix(hash, "{SHA}"):
		return fmt.Errorf("hash is SHA-1 ({SHA}), not bcrypt; use htpasswd -B")
	case strings.HasPrefix(hash, "$1$"), strings.HasPrefix(hash, "$5$"), strings.HasPrefix(hash, "$6$"):
		return fmt.Errorf("hash is crypt(3) (%s), not bcrypt; use htpasswd -B", hash[:3])
	case strings.HasPrefix(hash, "$argon2"):
		return fmt.Errorf("hash is argon2, not bcrypt; use htpasswd -B")
	default:
		return fmt.Errorf("hash is not bcrypt (plain text or crypt?); use htpasswd -B")
	}
}

func quoteUser(u string) string { return fmt.Sprintf("user %q", u) }

// validName rejects names that cannot be typed in a Basic credential or that
// would garble a log line.
func validName(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// unwrapPathError drops the path from an *os.PathError: the file name is
// already in our message.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
