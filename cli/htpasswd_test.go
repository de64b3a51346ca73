package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const cost = bcrypt.MinCost // fast tests

func loadUsers(t *testing.T, path string) map[string]string {
	t.Helper()
	entries, err := providers.LoadHtpasswd(path)
	require.NoError(t, err)
	m := make(map[string]string)
	for _, e := range entries {
		m[e.User] = e.Hash
	}
	return m
}

func assertPassword(t *testing.T, hash, pw string) {
	t.Helper()
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)), "hash does not match the password")
}

func mode(t *testing.T, path string) os.FileMode {
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Mode().Perm()
}

func TestHtpasswdAddCreatesFile0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, HtpasswdAdd(path, "admin", []byte("pa:ss w0rd"), cost))
	users := loadUsers(t, path)
	require.Len(t, users, 1)
	assertPassword(t, users["admin"], "pa:ss w0rd")
	c, err := bcrypt.Cost([]byte(users["admin"]))
	require.NoError(t, err)
	assert.Equal(t, cost, c)
	assert.Equal(t, os.FileMode(0o600), mode(t, path))

	require.NoError(t, HtpasswdAdd(path, "reader", []byte("r"), cost))
	users = loadUsers(t, path)
	assert.Len(t, users, 2)
	assertPassword(t, users["reader"], "r")
	assertPassword(t, users["admin"], "pa:ss w0rd")
}

func TestHtpasswdDefaultCost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, HtpasswdAdd(path, "u", []byte("p"), 0))
	c, err := bcrypt.Cost([]byte(loadUsers(t, path)["u"]))
	require.NoError(t, err)
	assert.Equal(t, bcrypt.DefaultCost, c)
}

func TestHtpasswdAddRefusesExistingUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, HtpasswdAdd(path, "admin", []byte("one"), cost))
	before, _ := os.ReadFile(path)
	err := HtpasswdAdd(path, "admin", []byte("two"), cost)
	require.ErrorIs(t, err, ErrUserExists)
	after, _ := os.ReadFile(path)
	assert.Equal(t, before, after)
}

// An edit keeps every other line, comment, blank line and line ending, and
// the file's mode.
func TestHtpasswdEditKeepsOtherLines(t *testing.T) {
	h1, _ := bcrypt.GenerateFromPassword([]byte("alice-pw"), cost)
	h2, _ := bcrypt.GenerateFromPassword([]byte("bob-pw"), cost)
	orig := "# team credentials\n\nalice:" + string(h1) + "\n  # bob is on call\nbob:" + string(h2) + "\n# end\n"
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, os.WriteFile(path, []byte(orig), 0o640))
	require.NoError(t, os.Chmod(path, 0o640))

	added, err := HtpasswdSet(path, "alice", []byte("new-alice"), cost)
	require.NoError(t, err)
	assert.False(t, added)
	data, _ := os.ReadFile(path)
	lines := strings.Split(string(data), "\n")
	require.Len(t, lines, 7)
	assert.Equal(t, "# team credentials", lines[0])
	assert.Equal(t, "", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "alice:$2a$"))
	assert.Equal(t, "  # bob is on call", lines[3])
	assert.Equal(t, "bob:"+string(h2), lines[4])
	assert.Equal(t, "# end", lines[5])
	users := loadUsers(t, path)
	assertPassword(t, users["alice"], "new-alice")
	assertPassword(t, users["bob"], "bob-pw")
	assert.Equal(t, os.FileMode(0o640), mode(t, path), "the file keeps its mode")

	added, err = HtpasswdSet(path, "carol", []byte("carol-pw"), cost)
	require.NoError(t, err)
	assert.True(t, added)
	data, _ = os.ReadFile(path)
	assert.True(t, strings.HasSuffix(string(data), "# end\ncarol:"+loadUsers(t, path)["carol"]+"\n"))

	left, err := HtpasswdRemove(path, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, left)
	data, _ = os.ReadFile(path)
	assert.Equal(t, "# team credentials\n\n  # bob is on call\nbob:"+string(h2)+"\n# end\ncarol:"+loadUsers(t, path)["carol"]+"\n", string(data))
	assert.Equal(t, os.FileMode(0o640), mode(t, path))
	// no temporary files left behind
	ents, _ := os.ReadDir(filepath.Dir(path))
	assert.Len(t, ents, 1)
}

func TestHtpasswdCRLFAndNoFinalNewline(t *testing.T) {
	h1, _ := bcrypt.GenerateFromPassword([]byte("a"), cost)
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, os.WriteFile(path, []byte("# win\r\nalice:"+string(h1)), 0o600))
	require.NoError(t, HtpasswdAdd(path, "bob", []byte("b"), cost))
	data, _ := os.ReadFile(path)
	assert.True(t, strings.HasPrefix(string(data), "# win\r\nalice:"+string(h1)+"\r\nbob:$2a$"))
	assert.True(t, strings.HasSuffix(string(data), "\r\n"))
	users := loadUsers(t, path)
	assertPassword(t, users["alice"], "a")
	assertPassword(t, users["bob"], "b")
}

func TestHtpasswdRefusesBrokenFile(t *testing.T) {
	good, _ := bcrypt.GenerateFromPassword([]byte("a"), cost)
	for name, content := range map[string]string{
		"apr1":      "alice:" + string(good) + "\nbob:$apr1$abc$def\n",
		"sha":       "alice:" + string(good) + "\nbob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n",
		"malformed": "alice:" + string(good) + "\njust-a-name\n",
		"duplicate": "alice:" + string(good) + "\nalice:" + string(good) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "htpasswd")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			err := HtpasswdAdd(path, "carol", []byte("c"), cost)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+":2", "the error names file:line")
			_, err = HtpasswdSet(path, "alice", []byte("c"), cost)
			require.Error(t, err)
			_, err = HtpasswdRemove(path, "alice")
			require.Error(t, err)
			data, _ := os.ReadFile(path)
			assert.Equal(t, content, string(data), "a broken file is left alone")
			assert.NotContains(t, err.Error(), string(good))
		})
	}
}

func TestHtpasswdCommentOnlyFileIsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, os.WriteFile(path, []byte("# users go here\n"), 0o600))
	require.NoError(t, HtpasswdAdd(path, "u", []byte("p"), cost))
	data, _ := os.ReadFile(path)
	assert.True(t, strings.HasPrefix(string(data), "# users go here\nu:"))
}

func TestHtpasswdRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	_, err := HtpasswdRemove(path, "nobody")
	require.Error(t, err, "a missing file")
	require.NoError(t, HtpasswdAdd(path, "a", []byte("p"), cost))
	_, err = HtpasswdRemove(path, "nobody")
	require.ErrorIs(t, err, ErrNoSuchUser)
	left, err := HtpasswdRemove(path, "a")
	require.NoError(t, err)
	assert.Equal(t, 0, left)
	data, _ := os.ReadFile(path)
	assert.Empty(t, data)
	// the gateway refuses the now empty file: it stays closed
	_, err = providers.LoadHtpasswd(path)
	assert.Error(t, err)
}

func TestHtpasswdVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, HtpasswdAdd(path, "a", []byte("right"), cost))
	assert.NoError(t, HtpasswdVerify(path, "a", []byte("right")))
	err := HtpasswdVerify(path, "a", []byte("wrong"))
	assert.ErrorIs(t, err, ErrWrongPassword)
	assert.NotContains(t, err.Error(), "wrong\"")
	assert.ErrorIs(t, HtpasswdVerify(path, "b", []byte("right")), ErrNoSuchUser)
}

func TestHtpasswdUserAndPasswordChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	for _, u := range []string{"", "a:b", "a b", "#a", "a\tb", "a\x00", strings.Repeat("u", 300), "\xff"} {
		assert.Error(t, HtpasswdAdd(path, u, []byte("p"), cost), "user %q", u)
	}
	assert.Error(t, HtpasswdAdd(path, "u", nil, cost))
	assert.Error(t, HtpasswdAdd(path, "u", bytes.Repeat([]byte("x"), 73), cost))
	assert.NoError(t, HtpasswdAdd(path, "u", bytes.Repeat([]byte("x"), 72), cost))
	assert.Error(t, HtpasswdAdd(path, "v", []byte("p"), 3))
	assert.Error(t, HtpasswdAdd(path, "v", []byte("p"), 32))
	assert.NoError(t, HtpasswdAdd(path, "user@example.com", []byte("p"), cost))
}

func TestWriteFileAtomicFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	require.NoError(t, os.WriteFile(target, []byte("old"), 0o644))
	require.NoError(t, os.Chmod(target, 0o644))
	require.NoError(t, os.Symlink(target, link))
	require.NoError(t, WriteFileAtomic(link, []byte("new")))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, fi.Mode()&os.ModeSymlink, "the link stays a link")
	data, _ := os.ReadFile(target)
	assert.Equal(t, "new", string(data))
	assert.Equal(t, os.FileMode(0o644), mode(t, target))
}

func TestReadPasswordLine(t *testing.T) {
	for in, want := range map[string]string{
		"secret\n":          "secret",
		"secret\r\n":        "secret",
		"secret":            "secret",
		"two words\nnext\n": "two words",
		" spaced \n":        " spaced ",
	} {
		pw, err := ReadPassword(strings.NewReader(in), io.Discard, true)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, string(pw))
	}
	for _, in := range []string{"", "\n", strings.Repeat("x", 73) + "\n"} {
		_, err := ReadPassword(strings.NewReader(in), io.Discard, true)
		assert.Error(t, err, "%q", in)
	}
}

func TestPromptPassword(t *testing.T) {
	feed := func(answers ...string) func() ([]byte, error) {
		return func() ([]byte, error) {
			if len(answers) == 0 {
				return nil, errors.New("EOF")
			}
			a := answers[0]
			answers = answers[1:]
			return []byte(a), nil
		}
	}
	var out bytes.Buffer
	pw, err := promptPassword(feed("pw", "pw"), &out, true)
	require.NoError(t, err)
	assert.Equal(t, "pw", string(pw))
	assert.Contains(t, out.String(), "Confirm password")
	assert.NotContains(t, out.String(), "pw\n", "the password is not echoed")

	_, err = promptPassword(feed("pw", "other"), io.Discard, true)
	assert.ErrorContains(t, err, "do not match")
	_, err = promptPassword(feed(""), io.Discard, true)
	assert.Error(t, err)
	pw, err = promptPassword(feed("pw"), io.Discard, false)
	require.NoError(t, err)
	assert.Equal(t, "pw", string(pw))
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		tok, err := NewToken(0)
		require.NoError(t, err)
		assert.Len(t, tok, 43)
		assert.Regexp(t, `^[A-Za-z0-9_-]+$`, tok)
		assert.False(t, seen[tok])
		seen[tok] = true
		// the gateway accepts it as a token
		_, err = providers.ParseTokenFile("t", []byte(tok+"\n"))
		require.NoError(t, err)
	}
	tok, err := NewToken(MaxTokenBytes)
	require.NoError(t, err)
	assert.Len(t, tok, providers.MaxTokenLen)
	_, err = NewToken(8)
	assert.Error(t, err)
	_, err = NewToken(MaxTokenBytes + 1)
	assert.Error(t, err)
}

// Edits at the same time do not lose each other's users.
func TestHtpasswdConcurrentEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	const n = 12
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			_, err := HtpasswdSet(path, fmt.Sprintf("user%d", i), []byte("pw"), cost)
			errs <- err
		}(i)
	}
	for i := 0; i < n; i++ {
		require.NoError(t, <-errs)
	}
	assert.Len(t, loadUsers(t, path), n)
}
