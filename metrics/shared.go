package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// sharedUp is caddy_chroma_auth_shared_state_up.
var sharedUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "caddy", Subsystem: "chroma_auth", Name: "shared_state_up",
	Help: "1 while the gateway counts its failure limiter and quotas in the shared_state Redis (store: its URL without password), 0 while it counts in its own memory because Redis does not answer.",
}, []string{"store"})

// InitShared registers caddy_chroma_auth_shared_state_up with registry
// (once per config that has a shared_state).
func InitShared(registry *prometheus.Registry) error {
	if err := registry.Register(sharedUp); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return err
		}
	}
	return nil
}

// SharedUp sets whether the gateway counts in the store named addr (its
// URL without password).
func SharedUp(addr string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	sharedUp.WithLabelValues(addr).Set(v)
}

// SharedGone forgets the store named addr, closed.
func SharedGone(addr string) { sharedUp.DeleteLabelValues(addr) }

// SharedUpGauge is shared_state_up of the store named addr (for tests).
func SharedUpGauge(addr string) prometheus.Gauge { return sharedUp.WithLabelValues(addr) }
