package providers

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"
)

// Errors of a credential check. None of them carries the credential.
var (
	// ErrBadCredentials: unknown user, wrong password or unknown token.
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrBusy: no bcrypt slot came free in time; the caller should answer
	// 503 and let the client retry.
	ErrBusy = errors.New("too many password checks in flight")
)

// DefaultBcryptQueueTimeout is how long a Basic check waits for a bcrypt
// slot before it is answered busy (503).
const DefaultBcryptQueueTimeout = 10 * time.Second

// Options tune an Authenticator.
type Options struct {
	// CacheSize bounds the verified-credentials cache (entries).
	CacheSize int
	// MaxConcurrentBcrypt bounds the bcrypt checks that run at once, so a
	// flood of wrong passwords cannot take every core. Default: GOMAXPROCS.
	MaxConcurrentBcrypt int
	// BcryptQueueTimeout bounds how long a check waits for a slot.
	BcryptQueueTimeout time.Duration
	// OnBcrypt and OnCacheHit, when set, are called for each bcrypt run
	// and each cache hit: hooks for metrics.
	OnBcrypt, OnCacheHit func()
}

// Authenticator checks Basic credentials and tokens against the current
// credential set. The set is swapped atomically on reload; checks in flight
// finish against the set they started with.
type Authenticator struct {
	creds  atomic.Pointer[Credentials]
	cache  *verifiedCache
	flight singleflight.Group
	slots  chan struct{}
	wait   time.Duration
	hooks  Options

	bcryptChecks atomic.Uint64
	cacheHits    atomic.Uint64
}

// NewAuthenticator serves the credential set c.
func NewAuthenticator(c *Credentials, opt Options) *Authenticator {
	n := opt.MaxConcurrentBcrypt
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	wait := opt.BcryptQueueTimeout
	if wait <= 0 {
		wait = DefaultBcryptQueueTimeout
	}
	a := &Authenticator{cache: newVerifiedCache(opt.CacheSize), slots: make(chan struct{}, n), wait: wait, hooks: opt}
	a.creds.Store(c)
	return a
}

// Credentials is the set last given to NewAuthenticator or Swap. The
// gateway judges each request by the set of its own policy snapshot, and
// passes it to the checks; this is for tools and tests.
func (a *Authenticator) Credentials() *Credentials { return a.creds.Load() }

// Swap puts a new credential set in force and drops the cached
// verifications it no longer vouches for (removed users, changed hashes).
func (a *Authenticator) Swap(c *Credentials) {
	a.creds.Store(c)
	a.cache.prune(func(e cacheEntry) bool {
		u := c.users[e.user]
		return u != nil && u.hash == e.hash
	})
}

// Stats are counters for metrics and tests.
type Stats struct {
	BcryptChecks uint64
	CacheHits    uint64
	CacheSize    int
}

// Stats reads the counters.
func (a *Authenticator) Stats() Stats {
	return Stats{BcryptChecks: a.bcryptChecks.Load(), CacheHits: a.cacheHits.Load(), CacheSize: a.cache.Len()}
}

// CheckToken returns the identity of tok in the set c: an API key
// (ErrKeyExpired past its expiry) or a static token.
func (a *Authenticator) CheckToken(c *Credentials, tok string) (*Identity, error) {
	if id, handled, err := c.checkKey(tok, time.Now()); handled {
		return id, err
	}
	if id, ok := c.lookupToken(tok); ok {
		return id, nil
	}
	return nil, ErrBadCredentials
}

// CheckBasic verifies user and password against the set creds. A pair verified before is answered
// from the cache; otherwise one bcrypt runs, shared by every concurrent
// request with the same pair, and bounded by the bcrypt slots. An unknown
// user is checked against a fake hash of the same cost, so that it takes as
// long as a known one.
func (a *Authenticator) CheckBasic(ctx context.Context, creds *Credentials, user, pass string) (*Identity, error) {
	if !creds.basic {
		return nil, ErrBadCredentials
	}
	key := a.cache.key(user, pass)
	if id := a.cached(creds, key, user); id != nil {
		return id, nil
	}
	for {
		// The flight is per credential and per set: right after a reload a
		// check must not take the answer of one that began on the old set.
		v, err, _ := a.flight.Do(fmt.Sprintf("%x/%p", key, creds), func() (any, error) {
			return a.verify(ctx, creds, key, user, pass)
		})
		// A shared check ends with the context of the request that led it;
		// if that client went away, ours may still be waiting: try again.
		if err != nil && errors.Is(err, context.Canceled) && ctx.Err() == nil {
			continue
		}
		if err != nil {
			return nil, err
		}
		return v.(*Identity), nil
	}
}

// CachedBasic answers from the cache alone: it never runs bcrypt, so it is
// what a client that is being rate-limited still gets.
func (a *Authenticator) CachedBasic(creds *Credentials, user, pass string) (*Identity, bool) {
	if !creds.basic {
		return nil, false
	}
	id := a.cached(creds, a.cache.key(user, pass), user)
	return id, id != nil
}

// cached is the identity of a pair verified before, while the current set
// still has the user with the hash it was verified against.
func (a *Authenticator) cached(creds *Credentials, key [32]byte, user string) *Identity {
	e, ok := a.cache.get(key)
	if !ok {
		return nil
	}
	if u := creds.users[user]; u != nil && e.user == user && u.hash == e.hash {
		a.cacheHits.Add(1)
		if a.hooks.OnCacheHit != nil {
			a.hooks.OnCacheHit()
		}
		return u.id
	}
	a.cache.delete(key)
	return nil
}

func (a *Authenticator) verify(ctx context.Context, creds *Credentials, key [32]byte, user, pass string) (*Identity, error) {
	timer := time.NewTimer(a.wait)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, ErrBusy
	}
	defer func() { <-a.slots }()

	u := creds.users[user]
	hash := creds.fakeHash
	if u != nil {
		hash = []byte(u.hash)
	}
	a.bcryptChecks.Add(1)
	if a.hooks.OnBcrypt != nil {
		a.hooks.OnBcrypt()
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(pass))
	if u == nil || err != nil {
		return nil, ErrBadCredentials
	}
	a.cache.put(key, cacheEntry{user: user, hash: u.hash})
	return u.id, nil
}
