package jwtauth

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// MaxTokenLen bounds a token the verifier looks at.
const MaxTokenLen = 16384

// Hooks report key loading, for the caller's log. Errors name files and
// URLs, never key material. Either may be nil.
type Hooks struct {
	// KeysLoaded: source ("remote" or "files") loaded n keys.
	KeysLoaded func(source string, n int)
	// KeysFailed: loading from source failed; the last good keys stay.
	KeysFailed func(source string, err error)
}

// Verifier checks tokens. Build it with New, call Start before Verify and
// Stop when done; Verify is safe for concurrent use.
type Verifier struct {
	cfg    Config
	algs   []jose.SignatureAlgorithm
	hooks  Hooks
	client *http.Client
	cache  *tokenCache
	now    func() time.Time

	verifications atomic.Int64 // full checks made (cache misses), for tests and metrics

	static atomic.Pointer[[]key]  // from key files and the secret
	remote atomic.Pointer[[]key]  // from the provider; nil until fetched
	keys   atomic.Pointer[keySet] // static and remote together
	setMu  sync.Mutex             // serializes building keys
	gen    uint64                 // under setMu

	fetchMu   sync.Mutex // one fetch at a time
	lastFetch time.Time  // under fetchMu

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopWatch func()
	stopOnce  sync.Once
}

// New checks cfg and builds a verifier; it reads no file and fetches
// nothing until Start.
func New(cfg Config, hooks Hooks) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.RefreshInterval = orDefault(cfg.RefreshInterval, DefaultRefreshInterval)
	cfg.MinRefreshInterval = orDefault(cfg.MinRefreshInterval, DefaultMinRefreshInterval)
	cfg.HTTPTimeout = orDefault(cfg.HTTPTimeout, DefaultHTTPTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	return &Verifier{
		cfg:   cfg,
		algs:  cfg.algorithms(),
		hooks: hooks,
		// its own transport, so Stop can close its idle connections: a
		// config reload leaves no connection (and no goroutine) behind
		client: &http.Client{Timeout: cfg.HTTPTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		cache:  newTokenCache(cfg.CacheSize),
		now:    time.Now,
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// Start loads the key files and secret (an error there is returned: a
// config with an unreadable key file must not start), makes a first
// attempt at the provider's keys (a provider that is down is no error:
// tokens it signs are answered ErrKeysUnavailable until its keys arrive),
// and starts the refresh and file watch.
func (v *Verifier) Start() error {
	static, err := loadStatic(&v.cfg)
	if err != nil {
		return err
	}
	v.static.Store(&static)
	v.rebuild()
	if len(v.cfg.KeyFiles) > 0 || v.cfg.SecretFile != "" {
		v.loaded("files", len(static))
		if v.cfg.ReloadInterval >= 0 {
			files := append([]string{}, v.cfg.KeyFiles...)
			if v.cfg.SecretFile != "" {
				files = append(files, v.cfg.SecretFile)
			}
			v.stopWatch = providers.Watch(files, v.cfg.ReloadInterval, v.reloadFiles)
		}
	}
	if v.cfg.remote() {
		v.refresh(true) // bounded by HTTPTimeout; a provider that is down fails fast
		v.wg.Add(1)
		go v.refreshLoop()
	}
	return nil
}

// Stop ends the refresh and the file watch and waits for them; a fetch
// in flight is cancelled. It may be called more than once.
func (v *Verifier) Stop() {
	v.stopOnce.Do(func() {
		v.cancel()
		v.wg.Wait()
		if v.stopWatch != nil {
			v.stopWatch()
		}
		v.client.CloseIdleConnections()
	})
}

// Ready reports whether the verifier has keys for every source it has:
// false while the provider's keys have never been fetched.
func (v *Verifier) Ready() bool { return !v.cfg.remote() || v.remote.Load() != nil }

// CacheLen is the number of verified tokens remembered.
func (v *Verifier) CacheLen() int { return v.cache.len() }

func (v *Verifier) loaded(source string, n int) {
	if v.hooks.KeysLoaded != nil {
		v.hooks.KeysLoaded(source, n)
	}
}

func (v *Verifier) failed(source string, err error) {
	if v.hooks.KeysFailed != nil {
		v.hooks.KeysFailed(source, err)
	}
}

func (v *Verifier) reloadFiles() {
	static, err := loadStatic(&v.cfg)
	if err != nil {
		v.failed("files", err)
		return
	}
	v.static.Store(&static)
	if v.rebuild() {
		v.loaded("files", len(static))
	}
}

// rebuild joins the static and remote keys into the set in force. The
// generation (and so the cache) changes only when the keys do; it reports
// whether they did.
func (v *Verifier) rebuild() bool {
	v.setMu.Lock()
	defer v.setMu.Unlock()
	var all []key
	if s := v.static.Load(); s != nil {
		all = append(all, *s...)
	}
	if r := v.remote.Load(); r != nil {
		all = append(all, *r...)
	}
	ks := newKeySet(all, v.gen+1)
	if old := v.keys.Load(); old != nil && old.print == ks.print {
		return false
	}
	v.gen++
	v.keys.Store(ks)
	return true
}

// refresh fetches the provider's keys, unless a fetch started less than
// MinRefreshInterval ago (force skips that check, for the first one).
// Concurrent callers wait for the fetch in flight rather than start one.
// A failed fetch keeps the last good keys.
func (v *Verifier) refresh(force bool) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	now := v.now()
	if !force && now.Sub(v.lastFetch) < v.cfg.MinRefreshInterval {
		return
	}
	v.lastFetch = now
	ctx, cancel := context.WithTimeout(v.ctx, v.cfg.HTTPTimeout)
	defer cancel()
	keys, err := fetchRemote(ctx, v.client, &v.cfg)
	if err != nil {
		if v.ctx.Err() == nil {
			v.failed("remote", err)
		}
		return
	}
	first := v.remote.Load() == nil
	v.remote.Store(&keys)
	if v.rebuild() || first {
		v.loaded("remote", len(keys)) // not every periodic fetch of the same keys
	}
}

// refreshLoop fetches the keys every RefreshInterval, and every
// MinRefreshInterval while none have arrived.
func (v *Verifier) refreshLoop() {
	defer v.wg.Done()
	for {
		wait := v.cfg.RefreshInterval
		if !v.Ready() {
			wait = v.cfg.MinRefreshInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-v.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		v.refresh(false)
	}
}

// retryAfter is what a client refused for want of keys should wait.
func (v *Verifier) retryAfter() time.Duration { return v.cfg.MinRefreshInterval }

// errUnavailable is the refusal while the provider's keys are missing.
func (v *Verifier) errUnavailable() error {
	return &Error{Err: ErrKeysUnavailable, RetryAfter: v.retryAfter()}
}

// isAsymmetric reports whether alg is a public-key algorithm.
func isAsymmetric(alg string) bool { return contains(asymmetricAlgs, alg) }

// Verifications is the number of full checks made: tokens not found in
// the cache.
func (v *Verifier) Verifications() int64 { return v.verifications.Load() }

// Cached returns the identity of a token verified before, still within
// its exp and under the keys in force; nil otherwise. It costs a keyed
// hash and a map lookup, never a signature check.
func (v *Verifier) Cached(token string) *providers.Identity {
	if len(token) == 0 || len(token) > MaxTokenLen {
		return nil
	}
	ks := v.keys.Load()
	if ks == nil {
		return nil
	}
	return v.cache.get(v.cache.key(token), ks.gen, v.now())
}

// LooksLikeJWT reports whether a bearer token has the shape of a signed
// JWT: three dot-separated segments, the first a base64url JSON object
// ("eyJ" is the base64 of `{"`). It decides which check a token goes to,
// not whether it is valid (go-jose refuses any other character), so it
// stays cheap on the hot path.
func LooksLikeJWT(tok string) bool {
	return len(tok) >= 10 && len(tok) <= MaxTokenLen && strings.HasPrefix(tok, "eyJ") && strings.Count(tok, ".") == 2
}
