package admission

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/metrics"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared"
)

// sharedStores are the open stores, one per URL and timeout, shared by
// every handler (and config reload) naming them.
var sharedStores = caddy.NewUsagePool()

type storeRef struct{ *shared.Store }

func (r storeRef) Destruct() error {
	metrics.SharedGone(r.Addr())
	return r.Close()
}

// Shared is a handler's hold on a shared_state store.
type Shared struct {
	key   string
	Store *shared.Store
}

// OpenShared opens (or joins) the shared store c names. Only a bad URL
// fails: a Redis that does not answer leaves the gateway on its local
// limits, which logger says (once each way), as the metric
// caddy_chroma_auth_shared_state_up shows.
func OpenShared(c *config.SharedState, logger *zap.Logger, reg *prometheus.Registry) (*Shared, error) {
	if err := metrics.InitShared(reg); err != nil {
		return nil, fmt.Errorf("chroma_auth: metrics: %w", err)
	}
	raw := caddy.NewReplacer().ReplaceAll(c.URL, "")
	timeout := time.Duration(c.Timeout)
	key := raw + "\x00" + timeout.String()
	v, _, err := sharedStores.LoadOrNew(key, func() (caddy.Destructor, error) {
		addr := shared.Redact(raw)
		s, err := shared.Open(shared.Options{URL: raw, Timeout: timeout, OnMode: func(up bool, err error) {
			metrics.SharedUp(addr, up)
			if up {
				logger.Info("shared state answers; counting across gateways", zap.String("store", addr))
				return
			}
			logger.Warn("shared state does not answer; counting in this gateway's memory until it does",
				zap.String("store", addr), zap.String("error", err.Error()))
		}})
		if err != nil {
			return nil, err
		}
		return storeRef{s}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("chroma_auth: %w", err)
	}
	return &Shared{key: key, Store: v.(storeRef).Store}, nil
}

// Close lets go of the shared store; the last handler naming it closes it.
func (s *Shared) Close() {
	if s != nil && s.key != "" {
		_, _ = sharedStores.Delete(s.key)
		s.key = ""
	}
}

// EachStore calls fn with every open store (for tests).
func EachStore(fn func(*shared.Store) bool) {
	sharedStores.Range(func(_, v any) bool { return fn(v.(storeRef).Store) })
}

// UseShared makes the quotas count their rates in s.
func (q *Quotas) UseShared(s *shared.Store) { q.engine.Shared = sharedQuota{s} }

// SharedStore is the store the quotas count in (nil: their own memory).
func (q *Quotas) SharedStore() *shared.Store {
	if s, ok := q.engine.Shared.(sharedQuota); ok {
		return s.s
	}
	return nil
}

// sharedQuota counts the quotas' rates in the shared store.
type sharedQuota struct{ s *shared.Store }

func (q sharedQuota) Take(k quota.Key, rate quota.Rate, burst int, _ time.Time) (bool, time.Duration, bool) {
	return q.s.Take("q:"+k.String(), float64(rate), burst)
}
