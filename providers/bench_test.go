package providers

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkCheckBasicCached is the steady state: a client that sends the
// same Basic credentials on every request.
func BenchmarkCheckBasicCached(b *testing.B) {
	a, _ := newBasic(b, bcryptLine(b, "alice", "secret"))
	ctx := context.Background()
	if _, err := a.CheckBasic(ctx, a.Credentials(), "alice", "secret"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.CheckBasic(ctx, a.Credentials(), "alice", "secret"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheckBasicMiss is a first request: one bcrypt at cost 10, the
// cost of `htpasswd -B -C 10` and Go's default.
func BenchmarkCheckBasicMiss(b *testing.B) {
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	a, _ := newBasic(b, "alice:"+string(h))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.cache = newVerifiedCache(0) // forget, so every round is a miss
		if _, err := a.CheckBasic(ctx, a.Credentials(), "alice", "secret"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckToken(b *testing.B) {
	var toks []string
	for i := 0; i < 1000; i++ {
		toks = append(toks, fmt.Sprintf("token-%d-abcdefghijklmnop", i))
	}
	creds, err := Load(Sources{Tokens: toks})
	if err != nil {
		b.Fatal(err)
	}
	a := NewAuthenticator(creds, Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.CheckToken(a.Credentials(), "token-500-abcdefghijklmnop"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
