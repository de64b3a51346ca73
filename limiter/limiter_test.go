package limiter

import (
	"fmt"
	"testing"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailureLimiter(t *testing.T) {
	l := New(3)
	now := time.Unix(1000, 0)
	a, b := authz.ClientKey("1.2.3.4"), authz.ClientKey("5.6.7.8")
	for i := 0; i < 3; i++ {
		_, ok := l.Reserve(a, now)
		require.True(t, ok, "try %d", i)
	}
	wait, ok := l.Reserve(a, now)
	assert.False(t, ok, "the bucket is empty")
	assert.InDelta(t, 20*time.Second, wait, float64(time.Second), "one try back after a third of a minute")
	_, ok = l.Reserve(b, now)
	assert.True(t, ok, "other clients are not affected")

	_, ok = l.Reserve(a, now.Add(21*time.Second))
	assert.True(t, ok, "refilled")
	_, ok = l.Reserve(a, now.Add(21*time.Second))
	assert.False(t, ok)

	off := New(0)
	off.Fail(a, now, nil)
	_, ok = off.Reserve(a, now)
	assert.True(t, ok, "0 turns the limiter off")
	assert.True(t, off.Knows(a, Digest{}))
}

// TestFailureLimiterReleaseAndSuccess: a try reserved for a valid
// credential, or for a check that could not run, is given back; only a
// wrong credential spends one.
func TestFailureLimiterReleaseAndSuccess(t *testing.T) {
	l := New(2)
	now := time.Unix(1000, 0)
	a := authz.ClientKey("192.0.2.1")
	good := l.Digest(Credential{Basic: true, User: "alice", Pass: "pw"})
	for i := 0; i < 10; i++ {
		_, ok := l.Reserve(a, now)
		require.True(t, ok)
		if i%2 == 0 {
			l.Succeeded(a, good)
		} else {
			l.Release(a)
		}
	}
	assert.True(t, l.Knows(a, good))
	assert.False(t, l.Knows(authz.ClientKey("192.0.2.2"), good), "known per address")
	l.Fail(a, now, nil)
	l.Fail(a, now, &good)
	_, ok := l.Reserve(a, now)
	assert.False(t, ok, "two failures empty a bucket of two")
	assert.False(t, l.Knows(a, good), "a known credential that fails is forgotten")
}

// longCred is longer than the scratch buffers keyed.Hash pools.
const longCred = 5000

func TestCredentialDigest(t *testing.T) {
	l, other := New(1), New(1)
	basic := Credential{Basic: true, User: "alice", Pass: "a:b"}
	assert.Equal(t, l.Digest(basic), l.Digest(Credential{Basic: true, User: "alice", Pass: "a:b"}))
	assert.NotEqual(t, l.Digest(basic), other.Digest(basic), "keyed by a per-process secret")
	// a user never holds ':' (Basic splits at the first), so the split
	// point is part of what is digested
	assert.NotEqual(t, l.Digest(Credential{Basic: true, User: "alic", Pass: "e:a:b"}), l.Digest(basic))
	assert.NotEqual(t, l.Digest(Credential{Token: "alice:a:b"}), l.Digest(Credential{Basic: true, User: "alice", Pass: "a:b"}), "a token is not a Basic pair")
	long := Credential{Token: string(make([]byte, longCred+10))}
	longer := Credential{Token: string(make([]byte, longCred+11))}
	assert.NotEqual(t, l.Digest(long), l.Digest(longer), "long credentials are digested whole")
	longBasic := Credential{Basic: true, User: "u", Pass: string(make([]byte, longCred))}
	assert.NotEqual(t, l.Digest(longBasic), l.Digest(Credential{Basic: true, User: "u", Pass: string(make([]byte, longCred+1))}))
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                "192.0.2.1",
		"::ffff:192.0.2.1":         "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1":     "2001:db8:1:2::",
		"fe80::1%eth0":             "fe80::",
		"2001:db8:1:3::1":          "2001:db8:1:3::",
		"::1":                      "::",
		"not-an-address":           "invalid IP",
		"":                         "invalid IP",
		"2001:0db8:0001:0002::abc": "2001:db8:1:2::",
	} {
		assert.Equal(t, want, authz.ClientKey(in).String(), in)
	}
}

func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	l := New(10)
	now := time.Unix(1000, 0)
	user := authz.ClientKey("192.0.2.200")
	_, _ = l.Reserve(user, now)
	l.Succeeded(user, l.Digest(Credential{Token: "t"}))
	for i := 0; i < maxTrackedClients+5000; i++ {
		l.Fail(authz.ClientKey(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)), now, nil)
	}
	assert.LessOrEqual(t, l.Size(), maxTrackedClients)
	assert.True(t, l.Knows(user, l.Digest(Credential{Token: "t"})), "addresses that only failed go first")

	for i := 0; i < 3*maxKnownPerClient; i++ {
		_, _ = l.Reserve(user, now)
		l.Succeeded(user, l.Digest(Credential{Token: fmt.Sprint("tok-", i)}))
	}
	s := l.shard(user)
	assert.Len(t, s.clients[user].known, maxKnownPerClient, "a bounded set per address")
	assert.True(t, l.Knows(user, l.Digest(Credential{Token: fmt.Sprint("tok-", 3*maxKnownPerClient-1)})), "the newest stay")
}

// BenchmarkLimiterKnown is what the failure limit adds to a valid request
// whose credential its address used before: the address key, a keyed
// digest and a read-locked lookup.
func BenchmarkLimiterKnown(b *testing.B) {
	l := New(60)
	c := Credential{Basic: true, User: "alice", Pass: "secret"}
	a := authz.ClientKey("192.0.2.1")
	_, _ = l.Reserve(a, time.Now())
	l.Succeeded(a, l.Digest(c))
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !l.Knows(authz.ClientKey("192.0.2.1"), l.Digest(c)) {
				b.Fatal("not known")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !l.Knows(authz.ClientKey("192.0.2.1"), l.Digest(c)) {
					b.Fatal("not known")
				}
			}
		})
	})
}
