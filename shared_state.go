package chromaauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared"
)

// SharedState is `shared_state`: a Redis in which every gateway naming it
// counts the failure limiter's tries and the quotas' rates, so that N
// gateways behind a balancer give an address one failure budget and an
// identity one rate, not N. Each gateway leases a share of a bucket in
// batches and spends it in memory: the allowed path makes no round trip
// per request. When Redis does not answer within the timeout, the gateway
// counts in its own memory (its local limits) until Redis answers again,
// logs the change once each way, and shows the mode in the metric
// caddy_chroma_auth_shared_state_up.
type SharedState struct {
	// redis://[[user]:password@]host:port[/db], or rediss:// for TLS.
	// Placeholders ({env.REDIS_URL}) are resolved at start; the password
	// never appears in a log.
	URL string `json:"url"`
	// How long one call to Redis may take before the gateway counts
	// locally instead; default 100ms.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// sharedStores are the open stores, one per URL and timeout, shared by
// every handler (and config reload) naming them.
var sharedStores = caddy.NewUsagePool()

type storeRef struct{ *shared.Store }

func (r storeRef) Destruct() error {
	sharedUp.DeleteLabelValues(r.Addr())
	return r.Close()
}

// sharedUp is caddy_chroma_auth_shared_state_up.
var sharedUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "caddy", Subsystem: "chroma_auth", Name: "shared_state_up",
	Help: "1 while the gateway counts its failure limiter and quotas in the shared_state Redis (store: its URL without password), 0 while it counts in its own memory because Redis does not answer.",
}, []string{"store"})

// provisionShared opens (or joins) the shared store and hands it to the
// failure limiter and the quotas. Only a bad URL fails: a Redis that does
// not answer leaves the gateway on its local limits.
func (h *ChromaAuth) provisionShared(reg *prometheus.Registry) error {
	if h.SharedState == nil {
		return nil
	}
	if err := reg.Register(sharedUp); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return fmt.Errorf("chroma_auth: metrics: %w", err)
		}
	}
	raw := caddy.NewReplacer().ReplaceAll(h.SharedState.URL, "")
	timeout := time.Duration(h.SharedState.Timeout)
	key := raw + "\x00" + timeout.String()
	logger := h.logger
	v, _, err := sharedStores.LoadOrNew(key, func() (caddy.Destructor, error) {
		addr := shared.Redact(raw)
		s, err := shared.Open(shared.Options{URL: raw, Timeout: timeout, OnMode: func(up bool, err error) {
			if up {
				sharedUp.WithLabelValues(addr).Set(1)
				logger.Info("shared state answers; counting across gateways", zap.String("store", addr))
				return
			}
			sharedUp.WithLabelValues(addr).Set(0)
			logger.Warn("shared state does not answer; counting in this gateway's memory until it does",
				zap.String("store", addr), zap.String("error", err.Error()))
		}})
		if err != nil {
			return nil, err
		}
		return storeRef{s}, nil
	})
	if err != nil {
		return fmt.Errorf("chroma_auth: %w", err)
	}
	h.sharedKey = key
	store := v.(storeRef).Store
	h.quota.engine.Shared = sharedQuota{store}
	if h.limiter != nil {
		h.limiter.Shared = store
	}
	return nil
}

// cleanupShared lets go of the shared store; the last handler naming it
// closes it.
func (h *ChromaAuth) cleanupShared() {
	if h.sharedKey != "" {
		_, _ = sharedStores.Delete(h.sharedKey)
		h.sharedKey = ""
	}
}

// validateShared checks shared_state.
func (h *ChromaAuth) validateShared() error {
	if h.SharedState == nil {
		return nil
	}
	if h.SharedState.URL == "" {
		return fmt.Errorf("chroma_auth: shared_state needs a URL (redis://host:port/db or rediss://…)")
	}
	if h.SharedState.Timeout < 0 {
		return fmt.Errorf("chroma_auth: shared_state: timeout cannot be negative")
	}
	return nil
}

// sharedQuota counts the quotas' rates in the shared store.
type sharedQuota struct{ s *shared.Store }

func (q sharedQuota) Take(k quota.Key, rate quota.Rate, burst int, _ time.Time) (bool, time.Duration, bool) {
	return q.s.Take("q:"+k.String(), float64(rate), burst)
}
