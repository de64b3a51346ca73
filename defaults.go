package chromaauth

import (
	"runtime"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// DefaultFailuresPerMinute is how many failed credential checks a client
// address may make a minute before it is answered 429.
const DefaultFailuresPerMinute = 60

// bcryptQueueTimeout is how long a Basic check waits for a bcrypt slot
// before it is answered 503 (a variable so that tests can shorten it).
var bcryptQueueTimeout = providers.DefaultBcryptQueueTimeout

// applyDefaults writes the default of every unset tunable into the config,
// so that the handler's fields say what is in force (and the README's
// defaults can be checked against them).
func (h *ChromaAuth) applyDefaults() {
	if h.CacheSize == 0 {
		h.CacheSize = providers.DefaultCacheSize
	}
	if h.MaxConcurrentBcrypt == 0 {
		h.MaxConcurrentBcrypt = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if h.FailuresPerMinute == 0 {
		h.FailuresPerMinute = DefaultFailuresPerMinute
	}
	if h.ReloadInterval == 0 {
		h.ReloadInterval = caddy.Duration(providers.DefaultReloadInterval)
	}
	if h.CollectionNameTTL == 0 {
		h.CollectionNameTTL = caddy.Duration(nameMaxAge)
	}
}
