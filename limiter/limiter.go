// Package limiter is the gateway's failure limiter: it stops a client
// address from guessing credentials (see Limiter).
package limiter

import (
	"crypto/rand"
	"encoding/binary"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/keyed"
)

const (
	// maxTrackedClients bounds the addresses the limiter remembers, under a
	// flood from many addresses.
	maxTrackedClients = 100000
	// maxKnownPerClient bounds the credentials remembered as used with
	// success from one address (a NAT may hide several users).
	maxKnownPerClient = 16
	limiterShardBits  = 4
	limiterShards     = 1 << limiterShardBits
)

// Limiter stops a client address from guessing credentials.
//
// Each address has a bucket of perMinute tries that refills at perMinute a
// minute. A credential the address has not used with success before takes
// a try from the bucket before it is checked at all, and gets it back if it
// turns out valid: a wrong one spends it. An empty bucket means 429 for
// every such credential, right or wrong, before anything is checked: a
// blocked address learns nothing, whatever it sends, and costs no bcrypt.
// Taking the try before the check (not counting the failure after it) is
// what keeps concurrent guesses from slipping past the limit while their
// checks run.
//
// Credentials that succeeded from an address stay usable from it while it
// is blocked (OWASP's device-cookie idea): a real user behind the same
// address as an attacker keeps working. The limiter remembers them as
// keyed digests (see Digest), never the credentials.
//
// Why every first success is remembered, not only those of addresses that
// have failed before: an address that never failed has no bucket, and an
// attacker at it can empty a fresh bucket in well under a second; a user
// whose last success predates the attacker's first failure would then be
// locked out for as long as the attack lasts. Remembering costs one write
// per new (address, credential) pair; after that, a valid request is one
// Digest and one read-locked lookup, with no allocation.
type Limiter struct {
	perMinute float64
	digest    *keyed.Hash // the credential digests, under keys that never leave the process
	mult      uint64      // random, odd: spreads addresses over the shards
	// Now is the limiter's clock: time.Now; tests stop it.
	Now    func() time.Time
	shards [limiterShards]limiterShard
	// Shared counts the tries across gateways (shared_state); nil: in
	// this process only.
	Shared Shared
}

type limiterShard struct {
	mu      sync.RWMutex
	clients map[netip.Addr]*client
}

// client is what the limiter knows of one address (IPv6: one /64).
type client struct {
	tokens float64 // tries left; the bucket is full when the client is new
	last   time.Time
	known  []Digest // credentials that succeeded from here, oldest first
	next   int      // the entry to replace once known is full
}

// Digest names a credential without holding it: the keyed digest
// (keyed.Hash) of its kind and the credential.
type Digest = keyed.Digest

// Credential is what a request presents: Basic user and password, or a
// token.
type Credential struct {
	Basic      bool
	User, Pass string
	Token      string
}

// New is a limiter of perMinute tries a minute per address; nil (no
// limit: every method passes) when perMinute is not positive.
func New(perMinute int) *Limiter {
	if perMinute <= 0 {
		return nil
	}
	l := &Limiter{perMinute: float64(perMinute), Now: time.Now, digest: keyed.New()}
	var m [8]byte
	if _, err := rand.Read(m[:]); err != nil {
		panic("chroma_auth: no randomness for the limiter: " + err.Error())
	}
	l.mult = binary.LittleEndian.Uint64(m[:]) | 1
	for i := range l.shards {
		l.shards[i].clients = make(map[netip.Addr]*client)
	}
	return l
}

// Clock is the limiter's time.
func (l *Limiter) Clock() time.Time {
	if l == nil {
		return time.Time{}
	}
	return l.Now()
}

// Digest is the keyed digest of c. The keys keep anyone outside the
// process from computing one; 128 bits keep a chance collision out of
// reach. A user name holds no ':', so user ":" password is unambiguous.
func (l *Limiter) Digest(c Credential) Digest {
	if c.Basic {
		return l.digest.Sum("b", c.User, ":", c.Pass)
	}
	return l.digest.Sum("t", c.Token)
}

// shard is where a's entry lives: a multiplicative hash of the address
// with a secret multiplier, so nobody outside can aim at one shard (the
// map inside hashes the address again, with the runtime's own seed).
func (l *Limiter) shard(a netip.Addr) *limiterShard {
	b := a.As16()
	x := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])
	return &l.shards[(x*l.mult)>>(64-limiterShardBits)]
}

// Knows reports whether credential d succeeded from a before. This is the
// whole cost of the limiter for a client using its credential again: a
// read lock and a short scan.
func (l *Limiter) Knows(a netip.Addr, d Digest) bool {
	if l == nil {
		return true
	}
	s := l.shard(a)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.clients[a]; c != nil {
		for i := range c.known {
			if c.known[i] == d {
				return true
			}
		}
	}
	return false
}

// Reserve takes one try from a's bucket before a credential a has not
// used with success is checked. When none is left it returns false and how
// long until one is.
func (l *Limiter) Reserve(a netip.Addr, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	if wait, ok, handled := l.reserveShared(a, now); handled {
		return wait, ok
	}
	s := l.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := l.clientLocked(s, a, now)
	l.refill(c, now)
	if c.tokens < 1 {
		return time.Duration((1 - c.tokens) / l.perMinute * float64(time.Minute)), false
	}
	c.tokens--
	return 0, true
}

// Succeeded gives back the try reserved for credential d, which turned out
// valid, and remembers d as used with success from a.
func (l *Limiter) Succeeded(a netip.Addr, d Digest) {
	if l == nil {
		return
	}
	s := l.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[a]
	if c == nil {
		return // swept meanwhile: nothing to give back
	}
	if !l.giveShared(a) {
		c.tokens = math.Min(l.perMinute, c.tokens+1)
	}
	for i := range c.known {
		if c.known[i] == d {
			return
		}
	}
	if len(c.known) < maxKnownPerClient {
		c.known = append(c.known, d)
		return
	}
	c.known[c.next] = d
	c.next = (c.next + 1) % maxKnownPerClient
}

// Release gives back a reserved try whose check had no outcome (no bcrypt
// slot, or the client went away).
func (l *Limiter) Release(a netip.Addr) {
	if l == nil {
		return
	}
	s := l.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[a]; c != nil && !l.giveShared(a) {
		c.tokens = math.Min(l.perMinute, c.tokens+1)
	}
}

// Fail records a failure that took no reserved try: a malformed or
// ambiguous credential, or a credential a knew that no longer passes,
// which is then forgotten (so a blocked address cannot make the gateway
// run bcrypt for an old password).
func (l *Limiter) Fail(a netip.Addr, now time.Time, forget *Digest) {
	if l == nil {
		return
	}
	s := l.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := l.clientLocked(s, a, now)
	l.refill(c, now)
	if !l.spendShared(a) {
		c.tokens = math.Max(0, c.tokens-1)
	}
	if forget == nil {
		return
	}
	for i := range c.known {
		if c.known[i] == *forget {
			c.known = append(c.known[:i], c.known[i+1:]...)
			c.next = 0
			return
		}
	}
}

// clientLocked finds or adds a's entry, making room first when the shard
// is full.
func (l *Limiter) clientLocked(s *limiterShard, a netip.Addr, now time.Time) *client {
	c := s.clients[a]
	if c == nil {
		if len(s.clients) >= maxTrackedClients/limiterShards {
			l.sweepLocked(s, now)
		}
		c = &client{tokens: l.perMinute, last: now}
		s.clients[a] = c
	}
	return c
}

func (l *Limiter) refill(c *client, now time.Time) {
	if el := now.Sub(c.last); el > 0 {
		c.tokens = math.Min(l.perMinute, c.tokens+el.Minutes()*l.perMinute)
		c.last = now
	}
}

// sweepLocked makes room in a full shard. It forgets first the addresses
// that hold nothing (a full bucket, no credential), then those that only
// failed (attackers, which start over with a full bucket: bounded memory
// matters more than remembering every one), and only then, if the shard is
// still crowded, addresses at random, down to half. The credentials users
// used with success go last.
func (l *Limiter) sweepLocked(s *limiterShard, now time.Time) {
	const keep = maxTrackedClients / limiterShards * 3 / 4
	for k, c := range s.clients {
		l.refill(c, now)
		if c.tokens >= l.perMinute && len(c.known) == 0 {
			delete(s.clients, k)
		}
	}
	if len(s.clients) > keep {
		for k, c := range s.clients {
			if len(c.known) == 0 {
				delete(s.clients, k)
			}
		}
	}
	if len(s.clients) <= keep {
		return
	}
	for k := range s.clients {
		if len(s.clients) <= maxTrackedClients/limiterShards/2 {
			break
		}
		delete(s.clients, k)
	}
}

// Size is the number of tracked addresses.
func (l *Limiter) Size() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.RLock()
		n += len(s.clients)
		s.mu.RUnlock()
	}
	return n
}
