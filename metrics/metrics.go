// Package metrics is the chroma_auth handler's Prometheus metrics, served
// with Caddy's own at the admin endpoint's /metrics (and by the `metrics`
// handler). Like Caddy's reverse_proxy metrics they are process-wide: one
// set, registered with each config's registry, so counters survive a
// config reload. The values of their labels are the handler's constants
// (the root package's result… and reason…), which the contract tests hold
// the README to.
package metrics

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// chromaMetrics are the metrics, made once.
var chromaMetrics = struct {
	once      sync.Once
	requests  *prometheus.CounterVec
	denied    *prometheus.CounterVec
	bcrypt    prometheus.Counter
	cacheHits prometheus.Counter
	cacheSize prometheus.GaugeFunc

	mu   sync.Mutex
	live map[*providers.Authenticator]struct{}
}{}

// Init registers the metrics with registry (once per config).
func Init(registry *prometheus.Registry) error {
	m := &chromaMetrics
	m.once.Do(func() {
		const ns, sub = "caddy", "chroma_auth"
		m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Requests seen by chroma_auth, by result: allowed, public, denied (401), forbidden (403), bad_request (400, 413), rate_limited (429: failures or quotas), busy (503), quota_exceeded (400, 413: a size limit).",
		}, []string{"result"})
		m.denied = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "denied_total",
			Help: "Requests refused by chroma_auth, by reason.",
		}, []string{"reason"})
		m.bcrypt = prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bcrypt_checks_total",
			Help: "bcrypt comparisons run (cache misses, including unknown users and wrong passwords).",
		})
		m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "cache_hits_total",
			Help: "Basic credentials answered from the verified-credentials cache.",
		})
		m.cacheSize = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "cache_entries",
			Help: "Verified credentials held in the caches of the running handlers.",
		}, func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			n := 0
			for a := range m.live {
				n += a.Stats().CacheSize
			}
			return float64(n)
		})
		m.live = make(map[*providers.Authenticator]struct{})
	})
	for _, c := range []prometheus.Collector{m.requests, m.denied, m.bcrypt, m.cacheHits, m.cacheSize} {
		if err := registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// Track counts a's cache in cache_entries until untracked.
func Track(a *providers.Authenticator, on bool) {
	m := &chromaMetrics
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live == nil {
		return
	}
	if on {
		m.live[a] = struct{}{}
	} else {
		delete(m.live, a)
	}
}

// resultCounters are the requests_total children, resolved once: the
// label lookup costs more than the increment on the hot path.
var resultCounters sync.Map // result → prometheus.Counter

// Request counts a request by its result (requests_total).
func Request(result string) {
	if chromaMetrics.requests == nil {
		return
	}
	if c, ok := resultCounters.Load(result); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c := chromaMetrics.requests.WithLabelValues(result)
	resultCounters.Store(result, c)
	c.Inc()
}

// Denied counts a refusal by its reason (denied_total).
func Denied(reason string) {
	if chromaMetrics.denied != nil {
		chromaMetrics.denied.WithLabelValues(reason).Inc()
	}
}

// Bcrypt counts a bcrypt comparison.
func Bcrypt() {
	if chromaMetrics.bcrypt != nil {
		chromaMetrics.bcrypt.Inc()
	}
}

// CacheHit counts a Basic credential answered from the cache.
func CacheHit() {
	if chromaMetrics.cacheHits != nil {
		chromaMetrics.cacheHits.Inc()
	}
}

// RequestsVec and DeniedVec are requests_total and denied_total (nil
// before Init), for tests that read them.
func RequestsVec() *prometheus.CounterVec { return chromaMetrics.requests }

// DeniedVec is denied_total (nil before Init).
func DeniedVec() *prometheus.CounterVec { return chromaMetrics.denied }
