// Package shared counts token buckets across gateways in Redis. Each
// gateway leases a share of a bucket in batches and spends it in memory,
// as Envoy pairs a local and a global rate limit: the allowed path makes no
// Redis round trip per request, only one per batch. When Redis does not
// answer (down, slow, refusing), the store says so (Take and friends
// answer handled=false, and the caller counts in its own memory), tells
// its owner once, and tries Redis again in the background until it
// answers. It knows nothing of Caddy.
package shared

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	DefaultTimeout = 100 * time.Millisecond
	DefaultLease   = time.Second
	DefaultProbe   = time.Second
	DefaultPrefix  = "chroma_auth:"
)

// Options configure a Store.
type Options struct {
	// URL is redis://[[user]:password@]host:port[/db] or rediss:// (TLS).
	URL string
	// Timeout bounds every call to Redis; a call over it counts as Redis
	// down. Default DefaultTimeout.
	Timeout time.Duration
	// Lease is how long a leased share stays good in this process; what is
	// left of it then goes back to Redis with the next call. Default
	// DefaultLease.
	Lease time.Duration
	// Probe is how often a store that lost Redis tries it again. Default
	// DefaultProbe.
	Probe time.Duration
	// Prefix starts every Redis key. Default DefaultPrefix.
	Prefix string
	// OnMode is told each change of mode, and the first mode: up (counting
	// in Redis), or not with the error (redacted: it never holds the
	// password). It must not block.
	OnMode func(up bool, err error)
}

// Store is a connection to Redis and the shares leased from it.
type Store struct {
	opt    Options
	ro     *redis.Options
	rdb    atomic.Pointer[redis.Client] // a new one after each outage
	secret string                       // the URL's password, scrubbed from errors
	addr   string                       // the URL without its password, for logs and metrics
	up     atomic.Bool
	leases leaseMap

	probing atomic.Bool
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// Open parses the URL and asks Redis once (within the timeout) whether it
// answers. Only a bad URL is an error: a Redis that does not answer makes
// a store that is down, and comes up once Redis answers.
func Open(opt Options) (*Store, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Probe <= 0 {
		opt.Probe = DefaultProbe
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	u, err := url.Parse(opt.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, fmt.Errorf("shared state %s: want redis://[:password@]host:port[/db] or rediss://…", Redact(opt.URL))
	}
	ro, err := redis.ParseURL(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("shared state %s: %v", Redact(opt.URL), scrub(err, u))
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = opt.Timeout, opt.Timeout, opt.Timeout
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1 // no retry: a failed call falls back to local counting at once
	ro.PoolTimeout = opt.Timeout
	s := &Store{opt: opt, ro: ro, addr: Redact(opt.URL)}
	s.rdb.Store(redis.NewClient(ro))
	s.secret, _ = u.User.Password()
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.leases.init()
	if err := s.ping(); err != nil {
		s.mode(false, err)
		s.startProbe()
	} else {
		s.up.Store(true)
		s.mode(true, nil)
	}
	return s, nil
}

// Addr is the store's URL without its password.
func (s *Store) Addr() string { return s.addr }

// Up reports whether the store counts in Redis now.
func (s *Store) Up() bool { return s.up.Load() }

// Close stops the probe and closes the connections.
func (s *Store) Close() error {
	s.stop()
	s.wg.Wait()
	return s.rdb.Load().Close()
}

func (s *Store) ping() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.opt.Timeout)
	defer cancel()
	return s.rdb.Load().Ping(ctx).Err()
}

func (s *Store) mode(up bool, err error) {
	if s.opt.OnMode != nil {
		if err != nil {
			err = errors.New(s.scrub(err))
		}
		s.opt.OnMode(up, err)
	}
}

// down marks the store down after a failed call: once, however many
// calls fail at once, and starts the probe.
func (s *Store) down(err error) {
	if s.ctx.Err() != nil {
		return // closing
	}
	if s.up.CompareAndSwap(true, false) {
		s.mode(false, err)
		s.startProbe()
	}
}

func (s *Store) startProbe() {
	if !s.probing.CompareAndSwap(false, true) {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.probing.Store(false)
		t := time.NewTicker(s.opt.Probe)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
			if s.ping() == nil {
				// What was leased before belongs to a Redis that may have
				// restarted empty: start over. The pool may still hold
				// connections to the Redis that went away (a TLS one is
				// not seen dead until used): start with fresh ones.
				s.leases.reset()
				if old := s.rdb.Swap(redis.NewClient(s.ro)); old != nil {
					_ = old.Close()
				}
				s.up.Store(true)
				s.mode(true, nil)
				return
			}
		}
	}()
}

func (s *Store) scrub(err error) string {
	msg := err.Error()
	if s.secret != "" {
		msg = strings.ReplaceAll(msg, s.secret, "xxxxx")
	}
	return msg
}

func scrub(err error, u *url.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}

// Redact is raw with its password (if any) replaced by xxxxx; a URL that
// does not parse is not shown at all.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}
