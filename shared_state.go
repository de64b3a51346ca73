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

// sharedQuota counts the quotas' rates in the shared store.
type sharedQuota struct{ s *shared.Store }

func (q sharedQuota) Take(k quota.Key, rate quota.Rate, burst int, _ time.Time) (bool, time.Duration, bool) {
	return q.s.Take("q:"+k.String(), float64(rate), burst)
}
