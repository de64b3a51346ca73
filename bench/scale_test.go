// Package bench holds the scale benchmarks of the credential store; the
// gateway benchmark itself is bench/run.sh.
//
//	go test -run '^$' -bench . -benchmem -benchtime 5x ./bench
//
// They report time and memory and assert nothing about either: the
// numbers go to BENCHMARKS.md.
package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const (
	scaleUsers  = 100_000
	scaleTokens = 100_000
	bcryptCost  = 10
	realUser    = "user-real"
	realPass    = "real-password"
)

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// writeHtpasswd writes n users. Making n real bcrypt hashes would take
// minutes, and loading never verifies a hash, only parses it: so every user
// gets a hash of the right form, cost and length whose salt and digest are
// varied per user, and one user (realUser) has a real hash of realPass.
func writeHtpasswd(tb testing.TB, dir string, n int) string {
	tb.Helper()
	real, err := bcrypt.GenerateFromPassword([]byte(realPass), bcryptCost)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "htpasswd")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "%s:%s\n", realUser, real)
	prefix := string(real[:7]) // "$2a$10$"
	body := []byte(string(real[7:]))
	rnd := make([]byte, len(body))
	for i := 1; i < n; i++ {
		if _, err := rand.Read(rnd); err != nil {
			tb.Fatal(err)
		}
		for j := range body {
			body[j] = bcryptAlphabet[int(rnd[j])%len(bcryptAlphabet)]
		}
		// bcrypt's 22-character salt ends in one of ".Oeu" (its last
		// character carries only 2 bits); keep the real one there.
		body[21] = real[7+21]
		fmt.Fprintf(w, "user%06d:%s%s\n", i, prefix, body)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// writeTokens writes n random tokens, one a line, and returns the file and
// its first token.
func writeTokens(tb testing.TB, dir string, n int) (string, string) {
	tb.Helper()
	path := filepath.Join(dir, "tokens.txt")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# benchmark tokens")
	var first string
	raw := make([]byte, 24)
	for i := 0; i < n; i++ {
		if _, err := rand.Read(raw); err != nil {
			tb.Fatal(err)
		}
		tok := "ck-" + hex.EncodeToString(raw)
		if i == 0 {
			first = tok
		}
		fmt.Fprintln(w, tok)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, first
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchLoad times providers.Load of src and reports, besides ns/op, B/op
// and allocs/op (all that one load allocates), the heap the loaded set
// keeps (MiB-retained) and the load time in ms.
func benchLoad(b *testing.B, src providers.Sources, users, tokens int) {
	// The first load also makes the unknown-user fake hash (one bcrypt),
	// once per process: keep it out of the timing.
	if _, err := providers.Load(src); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var c *providers.Credentials
	for i := 0; i < b.N; i++ {
		var err error
		if c, err = providers.Load(src); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if c.NumUsers() != users || c.NumTokens() != tokens {
		b.Fatalf("loaded %d users and %d tokens, want %d and %d", c.NumUsers(), c.NumTokens(), users, tokens)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
	before := heapInUse()
	runtime.KeepAlive(c)
	c = nil
	after := heapInUse()
	if before > after {
		b.ReportMetric(float64(before-after)/(1<<20), "MiB-retained")
	}
}

// BenchmarkLoad100kUsers loads an htpasswd file of 100,000 bcrypt users.
func BenchmarkLoad100kUsers(b *testing.B) {
	path := writeHtpasswd(b, b.TempDir(), scaleUsers)
	benchLoad(b, providers.Sources{HtpasswdFile: path}, scaleUsers, 0)
}

// BenchmarkLoad100kTokens loads a token file of 100,000 tokens.
func BenchmarkLoad100kTokens(b *testing.B) {
	path, _ := writeTokens(b, b.TempDir(), scaleTokens)
	benchLoad(b, providers.Sources{TokenFiles: []string{path}}, 0, scaleTokens)
}

// BenchmarkLoad100kUsersAnd100kTokens loads both, as one gateway would.
func BenchmarkLoad100kUsersAnd100kTokens(b *testing.B) {
	dir := b.TempDir()
	users := writeHtpasswd(b, dir, scaleUsers)
	toks, _ := writeTokens(b, dir, scaleTokens)
	benchLoad(b, providers.Sources{HtpasswdFile: users, TokenFiles: []string{toks}}, scaleUsers, scaleTokens)
}

// Lookups must not grow with the number of users: the same check against a
// set of 1 and of 100,000.

func benchLookups(b *testing.B, n int) {
	dir := b.TempDir()
	users := writeHtpasswd(b, dir, n)
	toks, tok := writeTokens(b, dir, n)
	c, err := providers.Load(providers.Sources{HtpasswdFile: users, TokenFiles: []string{toks}})
	if err != nil {
		b.Fatal(err)
	}
	a := providers.NewAuthenticator(c, providers.Options{})
	if _, err := a.CheckBasic(context.Background(), a.Credentials(), realUser, realPass); err != nil {
		b.Fatal(err)
	}
	b.Run("cached-basic", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, ok := a.CachedBasic(a.Credentials(), realUser, realPass); !ok {
				b.Fatal("not cached")
			}
		}
	})
	b.Run("token", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := a.CheckToken(a.Credentials(), tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unknown-token", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := a.CheckToken(a.Credentials(), "ck-not-a-token-of-this-set"); err == nil {
				b.Fatal("unknown token accepted")
			}
		}
	})
}

func BenchmarkLookup1(b *testing.B)    { benchLookups(b, 1) }
func BenchmarkLookup100k(b *testing.B) { benchLookups(b, scaleUsers) }

// TestScaleFilesLoad keeps the generators honest on a small set: the files
// they write load, and the real user and first token check out.
func TestScaleFilesLoad(t *testing.T) {
	dir := t.TempDir()
	users := writeHtpasswd(t, dir, 50)
	toks, tok := writeTokens(t, dir, 50)
	c, err := providers.Load(providers.Sources{HtpasswdFile: users, TokenFiles: []string{toks}})
	if err != nil {
		t.Fatal(err)
	}
	if c.NumUsers() != 50 || c.NumTokens() != 50 {
		t.Fatalf("loaded %d users, %d tokens; want 50 and 50", c.NumUsers(), c.NumTokens())
	}
	a := providers.NewAuthenticator(c, providers.Options{})
	if _, err := a.CheckBasic(context.Background(), a.Credentials(), realUser, realPass); err != nil {
		t.Fatalf("real user: %v", err)
	}
	if _, err := a.CheckToken(a.Credentials(), tok); err != nil {
		t.Fatalf("first token: %v", err)
	}
}
