package keyed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"strings"
	"sync"
	"testing"
)

// The digest is AES_K2(GCM_K1(nonce 0, additional data m).tag): checked
// against the standard library's pieces, for lengths around the block
// edges and in parts.
func TestConstruction(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i * 7)
	}
	h := NewWithKey(key)
	b1, _ := aes.NewCipher(key[:16])
	b2, _ := aes.NewCipher(key[16:])
	g, _ := cipher.NewGCM(b1)
	msg := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 40)
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 127, 128, 129, 600, len(msg)} {
		tag := g.Seal(nil, make([]byte, 12), nil, []byte(msg[:n]))
		var want Digest
		b2.Encrypt(want[:], tag)
		if got := h.Sum(msg[:n]); got != want {
			t.Fatalf("%d bytes: %x, want %x", n, got, want)
		}
		if n > 2 {
			if got := h.Sum(msg[:1], msg[1:n/2], "", msg[n/2:n]); got != want {
				t.Fatalf("%d bytes in parts: %x, want %x", n, got, want)
			}
		}
	}
}

// Distinct messages (every length, one byte changed, trailing zeros that
// padding would add) have distinct digests; two hashes made by New have
// distinct keys.
func TestDistinct(t *testing.T) {
	for _, h := range []*Hash{New(), fallback()} {
		seen := map[Digest]string{}
		add := func(m string) {
			d := h.Sum(m)
			if prev, ok := seen[d]; ok && prev != m {
				t.Fatalf("%q and %q share a digest", prev, m)
			}
			seen[d] = m
		}
		base := strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 8)
		for n := 0; n <= len(base); n++ {
			add(base[:n])
			add(base[:n] + "\x00")
			if n > 0 {
				add(base[:n-1] + "X")
			}
		}
		if h.Sum(strings.Repeat("y", maxPooled+1)) == h.Sum(strings.Repeat("y", maxPooled)) {
			t.Fatal("long messages share a digest")
		}
	}
	if New().Sum("token") == New().Sum("token") {
		t.Fatal("two hashes made by New share a key")
	}
}

// fallback is the HMAC-SHA256 Hash of FIPS 140-only mode.
func fallback() *Hash {
	h := New()
	h.gcm = nil
	h.scratch.New = func() any {
		return &scratch{tag: make([]byte, 0, sha256.Size), mac: newMAC()}
	}
	return h
}

func TestAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without -race")
	}
	h := New()
	tok := strings.Repeat("x", 615)
	_ = h.Sum(tok)
	if n := testing.AllocsPerRun(100, func() { _ = h.Sum("t", tok) }); n != 0 {
		t.Fatalf("Sum allocates %v times", n)
	}
}

// BenchmarkSum: a 600-byte JWT, against the SHA-256 pass it replaces.
func BenchmarkSum(b *testing.B) {
	tok := strings.Repeat("x", 600)
	b.Run("keyed", func(b *testing.B) {
		h := New()
		for b.Loop() {
			_ = h.Sum(tok)
		}
	})
	b.Run("sha256", func(b *testing.B) {
		var buf [1024]byte
		for b.Loop() {
			n := copy(buf[:], tok)
			_ = sha256.Sum256(buf[:n])
		}
	})
}

func newMAC() hash.Hash { return hmac.New(sha256.New, []byte("0123456789abcdef")) }

// Concurrent digests of one Hash (its pooled scratch shared): each is the
// digest computed alone, under a cold start of many goroutines at once.
func TestConcurrent(t *testing.T) {
	for _, h := range []*Hash{New(), fallback()} {
		msgs := make([]string, 64)
		want := make([]Digest, len(msgs))
		for i := range msgs {
			msgs[i] = strings.Repeat(string(rune('a'+i%26)), i*37%700)
			want[i] = h.Sum("t", msgs[i])
		}
		start := make(chan struct{})
		errs := make(chan string, len(msgs))
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for k := range 200 {
					i := (g*31 + k) % len(msgs)
					if h.Sum("t", msgs[i]) != want[i] {
						errs <- msgs[i]
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for m := range errs {
			t.Fatalf("a concurrent digest of %d bytes differs", len(m))
		}
	}
}
