package chromaauth

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// waitStatus polls f until it returns want, for at most 10 s (a bound for
// slow CI machines, not a timing assertion), and fails with the last
// status otherwise.
func waitStatus(t testing.TB, f func() int, want int, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := f()
	for got != want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		got = f()
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// waitFor polls cond for at most 10 s.
func waitFor(t testing.TB, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			require.Fail(t, "condition not met in 10 s", msgAndArgs...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// replaceFile replaces path the way htpasswd and editors do: a new file,
// renamed over the old one (a new inode, which the watcher always sees).
func replaceFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// htpasswdText is an htpasswd file of user→password at bcrypt's cheapest
// cost.
func htpasswdText(t testing.TB, users map[string]string) string {
	t.Helper()
	var b strings.Builder
	for u, p := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s:%s\n", u, h)
	}
	return b.String()
}
