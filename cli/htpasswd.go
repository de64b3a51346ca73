package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Errors of the htpasswd commands, for errors.Is.
var (
	ErrUserExists    = errors.New("user already exists")
	ErrNoSuchUser    = errors.New("no such user")
	ErrWrongPassword = errors.New("wrong password")
)

// MaxPasswordLen is bcrypt's limit: it ignores anything past 72 bytes, so a
// longer password is refused rather than silently cut.
const MaxPasswordLen = 72

// maxUserLen bounds a user name; Chroma has no limit, but a name is typed in
// a Basic credential and written to logs.
const maxUserLen = 256

// htFile is an htpasswd file held as its lines, each with its line ending,
// so that an edit changes one line and keeps every other line, comment and
// blank line byte for byte.
type htFile struct {
	path  string
	lines []string       // with their endings; the last may have none
	users map[string]int // user → index in lines
	nl    string         // the file's line ending: "\n" or "\r\n"
}

// readHtpasswd reads the htpasswd file at path for editing. A file that
// does not exist is empty unless mustExist. A file with users must parse
// (providers.ParseHtpasswd, the gateway's own parser): the tools refuse to
// edit a file the gateway would refuse to load, and the error names the
// file, line and user. A file with only comments and blank lines is empty.
func readHtpasswd(path string, mustExist bool) (*htFile, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !mustExist:
		data = nil
	case err != nil:
		return nil, fmt.Errorf("cannot read htpasswd file: %w", err)
	}
	f := &htFile{path: path, users: make(map[string]int), nl: "\n"}
	if bytes.Contains(data, []byte("\r\n")) {
		f.nl = "\r\n"
	}
	for rest := string(data); rest != ""; {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			f.lines = append(f.lines, rest)
			break
		}
		f.lines = append(f.lines, rest[:i+1])
		rest = rest[i+1:]
	}
	for i, line := range f.lines {
		if user, ok := lineUser(line, i == 0); ok {
			f.users[user] = i
		}
	}
	if len(f.users) > 0 {
		if _, err := providers.ParseHtpasswd(path, data); err != nil {
			return nil, fmt.Errorf("refusing to edit a file the gateway cannot load (fix it first): %w", err)
		}
	}
	return f, nil
}

// editHtpasswd runs an edit of the htpasswd file at path under a lock of
// its directory: read, change, write.
func editHtpasswd(path string, mustExist bool, edit func(f *htFile) error) error {
	return withFileLock(path, func() error {
		f, err := readHtpasswd(path, mustExist)
		if err != nil {
			return err
		}
		if err := edit(f); err != nil {
			return err
		}
		return f.write()
	})
}

// lineUser returns the user of an entry line, reading it the way
// providers.ParseHtpasswd does; ok is false for blank and comment lines.
func lineUser(line string, first bool) (string, bool) {
	line = strings.TrimRight(line, " \t\r\n")
	if first {
		line = strings.TrimPrefix(line, "\uFEFF")
	}
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", false
	}
	user, _, _ := strings.Cut(line, ":")
	return user, true
}

func (f *htFile) bytes() []byte {
	var b bytes.Buffer
	for _, l := range f.lines {
		b.WriteString(l)
	}
	return b.Bytes()
}

// setLine puts user's entry in place of its line, or appends it.
func (f *htFile) setLine(user, hash string) {
	entry := user + ":" + hash
	if i, ok := f.users[user]; ok {
		old := f.lines[i]
		ending := old[len(strings.TrimRight(old, "\r\n")):]
		prefix := ""
		if i == 0 && strings.HasPrefix(old, "\uFEFF") {
			prefix = "\uFEFF"
		}
		f.lines[i] = prefix + entry + ending
		return
	}
	if n := len(f.lines); n > 0 && !strings.HasSuffix(f.lines[n-1], "\n") {
		f.lines[n-1] += f.nl
	}
	f.users[user] = len(f.lines)
	f.lines = append(f.lines, entry+f.nl)
}

// removeLine drops user's line.
func (f *htFile) removeLine(user string) {
	i := f.users[user]
	f.lines = append(f.lines[:i], f.lines[i+1:]...)
	delete(f.users, user)
	for u, j := range f.users {
		if j > i {
			f.users[u] = j - 1
		}
	}
}

// write checks the new contents with the gateway's parser, then replaces
// the file atomically.
func (f *htFile) write() error {
	data := f.bytes()
	if len(f.users) > 0 {
		if _, err := providers.ParseHtpasswd(f.path, data); err != nil {
			return fmt.Errorf("internal error: the edited file would not load, not writing it: %w", err)
		}
	}
	return WriteFileAtomic(f.path, data)
}

// CheckUser accepts a user name that fits in an htpasswd line and a Basic
// credential: not empty, no colon, no spaces or control characters, not
// starting with '#', valid UTF-8.
func CheckUser(user string) error {
	switch {
	case user == "":
		return errors.New("user name is empty")
	case len(user) > maxUserLen:
		return fmt.Errorf("user name longer than %d bytes", maxUserLen)
	case !utf8.ValidString(user):
		return errors.New("user name is not valid UTF-8")
	case strings.Contains(user, ":"):
		return errors.New("user name has a colon (it separates user and password in Basic auth)")
	case strings.HasPrefix(user, "#"):
		return errors.New("user name starts with '#' (a comment in htpasswd files)")
	}
	for _, r := range user {
		if r <= ' ' || r == 0x7f || r == '\uFEFF' {
			return errors.New("user name has spaces or control characters")
		}
	}
	return nil
}

// CheckPassword accepts a password bcrypt can hash whole.
func CheckPassword(pw []byte) error {
	switch {
	case len(pw) == 0:
		return errors.New("password is empty")
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password longer than %d bytes: bcrypt would ignore the rest", MaxPasswordLen)
	}
	return nil
}

// CheckCost accepts a bcrypt cost bcrypt can use.
func CheckCost(cost int) error {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return fmt.Errorf("bcrypt cost %d: want %d to %d (default %d)", cost, bcrypt.MinCost, bcrypt.MaxCost, bcrypt.DefaultCost)
	}
	return nil
}

// hash makes a bcrypt hash at cost (0: bcrypt.DefaultCost).
func hash(pw []byte, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if err := CheckCost(cost); err != nil {
		return "", err
	}
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// HtpasswdAdd adds user with a bcrypt hash of password to the htpasswd file
// at path, creating the file (mode 0600) if needed. An existing user is an
// error (ErrUserExists): use HtpasswdSet to change a password.
func HtpasswdAdd(path, user string, password []byte, cost int) error {
	if err := CheckUser(user); err != nil {
		return err
	}
	return editHtpasswd(path, false, func(f *htFile) error {
		if _, ok := f.users[user]; ok {
			return fmt.Errorf("%s: user %q: %w (use set to change the password)", path, user, ErrUserExists)
		}
		h, err := hash(password, cost)
		if err != nil {
			return err
		}
		f.setLine(user, h)
		return nil
	})
}

// HtpasswdSet sets user's password in the htpasswd file at path, adding the
// user (and creating the file) if needed. It reports whether the user was
// added.
func HtpasswdSet(path, user string, password []byte, cost int) (added bool, err error) {
	if err := CheckUser(user); err != nil {
		return false, err
	}
	err = editHtpasswd(path, false, func(f *htFile) error {
		_, exists := f.users[user]
		h, err := hash(password, cost)
		if err != nil {
			return err
		}
		f.setLine(user, h)
		added = !exists
		return nil
	})
	return added, err
}

// HtpasswdRemove removes user from the htpasswd file at path. A missing user
// is an error (ErrNoSuchUser). It returns how many users remain; with none
// left the gateway will refuse to load the file, which keeps it closed.
func HtpasswdRemove(path, user string) (remaining int, err error) {
	err = editHtpasswd(path, true, func(f *htFile) error {
		if _, ok := f.users[user]; !ok {
			return fmt.Errorf("%s: user %q: %w", path, user, ErrNoSuchUser)
		}
		f.removeLine(user)
		remaining = len(f.users)
		return nil
	})
	return remaining, err
}

// HtpasswdVerify checks password against user's hash in the htpasswd file
// at path: nil when it matches, ErrWrongPassword or ErrNoSuchUser when not.
func HtpasswdVerify(path, user string, password []byte) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read htpasswd file: %w", err)
	}
	entries, err := providers.ParseHtpasswd(path, data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.User != user {
			continue
		}
		if bcrypt.CompareHashAndPassword([]byte(e.Hash), password) != nil {
			return fmt.Errorf("%s: user %q: %w", path, user, ErrWrongPassword)
		}
		return nil
	}
	return fmt.Errorf("%s: user %q: %w", path, user, ErrNoSuchUser)
}
