package limiter

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const perShard = maxTrackedClients / limiterShards

// sameShard is n addresses (none of them skip) that live in skip's shard.
func sameShard(l *Limiter, skip netip.Addr, n int) []netip.Addr {
	target := l.shard(skip)
	out := make([]netip.Addr, 0, n)
	for i := uint32(1); len(out) < n; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if a != skip && l.shard(a) == target {
			out = append(out, a)
		}
	}
	return out
}

// blocked reports whether a has no try left at now (without taking one
// when it has).
func blocked(l *Limiter, a netip.Addr, now time.Time) bool {
	_, ok := l.Reserve(a, now)
	if ok {
		l.Release(a)
	}
	return !ok
}

// A shard is swept only once it is full: below that, every address that
// failed keeps its spent budget, however many others fail meanwhile
// (limiter.go:284, the sweep's threshold).
func TestBlockedAddressStaysBlockedBelowTheBound(t *testing.T) {
	l := New(3)
	now := time.Unix(1_000_000, 0)
	attacker := netip.MustParseAddr("203.0.113.9")
	for range 3 {
		l.Fail(attacker, now, nil)
	}
	require.True(t, blocked(l, attacker, now))
	for _, a := range sameShard(l, attacker, perShard-1) {
		l.Fail(a, now, nil)
	}
	assert.Equal(t, perShard, len(l.shard(attacker).clients), "nothing swept below the bound")
	assert.True(t, blocked(l, attacker, now), "the attacker's budget is still spent")
}

// A full shard forgets first the addresses that hold nothing (a bucket
// full again, no credential), and keeps one whose budget is spent when
// that makes room enough (limiter.go:310, the first pass of the sweep).
func TestSweepForgetsIdleAddressesBeforeBlockedOnes(t *testing.T) {
	l := New(3)
	t0 := time.Unix(1_000_000, 0)
	attacker := netip.MustParseAddr("203.0.113.9")
	others := sameShard(l, attacker, perShard)
	for _, a := range others[:perShard-1] {
		l.Fail(a, t0, nil) // refilled by t1
	}
	t1 := t0.Add(2 * time.Minute)
	for range 3 {
		l.Fail(attacker, t1, nil)
	}
	require.Equal(t, perShard, len(l.shard(attacker).clients))
	l.Fail(others[perShard-1], t1, nil) // the shard is full: a sweep
	assert.Less(t, len(l.shard(attacker).clients), perShard/2, "the idle addresses went")
	assert.True(t, blocked(l, attacker, t1), "the blocked address did not start over")
}

// The bound holds when every address of a shard has used a credential
// with success: the sweep then forgets addresses at random, down to half
// the shard (limiter.go:321 and 325, the last pass of the sweep).
func TestBoundHoldsWhenEveryAddressIsKnown(t *testing.T) {
	l := New(3)
	now := time.Unix(1_000_000, 0)
	first := netip.MustParseAddr("203.0.113.9")
	addrs := append([]netip.Addr{first}, sameShard(l, first, perShard+100)...)
	d := l.Digest(Credential{Token: "tok"})
	for _, a := range addrs[:perShard] {
		_, ok := l.Reserve(a, now)
		require.True(t, ok)
		l.Succeeded(a, d)
	}
	require.Equal(t, perShard, len(l.shard(first).clients))
	for _, a := range addrs[perShard:] {
		l.Fail(a, now, nil)
		require.LessOrEqual(t, len(l.shard(first).clients), perShard)
	}
	assert.LessOrEqual(t, len(l.shard(first).clients), perShard/2+len(addrs[perShard:]), "swept down to half, then the newcomers")
	assert.Equal(t, len(l.shard(first).clients), l.Size())
}

// fakeShared is a shared store that counts the calls made of it.
type fakeShared struct {
	mu                  sync.Mutex
	takes, gives, spent int
}

func (f *fakeShared) Take(string, float64, int) (bool, time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.takes++
	return true, 0, true
}

func (f *fakeShared) Give(string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gives++
	return true
}

func (f *fakeShared) Spend(string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spent++
	return true
}

// Release gives a try back where it was taken: to the shared store when
// one counts the tries, and to nobody for an address the limiter does not
// hold (limiter.go:246).
func TestReleaseGivesBackWhereTheTryWasTaken(t *testing.T) {
	l := New(3)
	now := time.Unix(1_000_000, 0)
	a := netip.MustParseAddr("192.0.2.1")
	assert.NotPanics(t, func() { l.Release(a) }, "an address never seen")
	assert.Zero(t, l.Size(), "and not added by it")

	f := &fakeShared{}
	l.Shared = f
	_, ok := l.Reserve(a, now)
	require.True(t, ok)
	l.Release(a)
	assert.Equal(t, 1, f.takes)
	assert.Equal(t, 1, f.gives, "the shared try is given back")
	l.Fail(a, now, nil)
	assert.Equal(t, 1, f.spent)
	assert.False(t, blocked(New(3), a, now))
}

// Clock is the limiter's Now; a nil limiter (no limit) has none. Size
// counts the addresses held (limiter.go:110 and 334).
func TestClockAndSize(t *testing.T) {
	l := New(3)
	at := time.Unix(1_000_000, 0)
	l.Now = func() time.Time { return at }
	assert.Equal(t, at, l.Clock())
	var off *Limiter
	assert.True(t, off.Clock().IsZero())
	assert.Zero(t, off.Size())
	assert.Zero(t, l.Size())
	l.Fail(netip.MustParseAddr("192.0.2.1"), at, nil)
	l.Fail(netip.MustParseAddr("192.0.2.2"), at, nil)
	l.Fail(netip.MustParseAddr("192.0.2.2"), at, nil)
	assert.Equal(t, 2, l.Size())
}
