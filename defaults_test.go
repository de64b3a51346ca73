package chromaauth

import (
	"encoding/json"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// handlerFromCaddyfile adapts a site with the given chroma_auth directive
// as `caddy run` does and returns the handler's config, unprovisioned.
func handlerFromCaddyfile(t *testing.T, directive string) *ChromaAuth {
	t.Helper()
	cfg, err := adapt(caddyfileSite(freePort(t), "\t"+directive+"\n\trespond ok"))
	require.NoError(t, err)
	var tree any
	require.NoError(t, json.Unmarshal(cfg, &tree))
	found := findHandler(tree)
	require.NotNil(t, found, "%s", cfg)
	raw, err := json.Marshal(found)
	require.NoError(t, err)
	h := new(ChromaAuth)
	require.NoError(t, json.Unmarshal(raw, h))
	return h
}

// findHandler is the first JSON object of tree whose handler is
// chroma_auth.
func findHandler(tree any) map[string]any {
	switch v := tree.(type) {
	case map[string]any:
		if v["handler"] == "chroma_auth" {
			return v
		}
		for _, c := range v {
			if f := findHandler(c); f != nil {
				return f
			}
		}
	case []any:
		for _, c := range v {
			if f := findHandler(c); f != nil {
				return f
			}
		}
	}
	return nil
}

// readmeDefaults are the defaults the README's option block states, by
// option: "default 10000" after the option's line.
func readmeDefaults(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	doc := string(b)
	i := strings.Index(doc, "chroma_auth [<matcher>] {")
	require.GreaterOrEqual(t, i, 0)
	block, _, _ := strings.Cut(doc[i:], "\n}")
	out := map[string]string{}
	re := regexp.MustCompile(`default (\S+)`)
	for _, l := range strings.Split(block, "\n")[1:] {
		f := strings.Fields(l)
		if m := re.FindStringSubmatch(l); len(f) > 0 && m != nil {
			out[f[0]] = strings.TrimRight(m[1], ",.")
		}
	}
	return out
}

// TestDefaultsAsTheReadmeStates: a Caddyfile that sets none of the
// tunables gets the defaults the README's option block states.
func TestDefaultsAsTheReadmeStates(t *testing.T) {
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	h := provisioned(t, handlerFromCaddyfile(t, "chroma_auth basic "+ht))
	doc := readmeDefaults(t)

	assert.Equal(t, doc["cache_size"], strconv.Itoa(h.CacheSize), "cache_size")
	assert.Equal(t, doc["failures_per_minute"], strconv.Itoa(h.FailuresPerMinute), "failures_per_minute")
	require.Equal(t, "CPUs/2", doc["max_concurrent_bcrypt"], "max_concurrent_bcrypt")
	assert.Equal(t, max(1, runtime.GOMAXPROCS(0)/2), h.MaxConcurrentBcrypt, "max_concurrent_bcrypt")
	for name, got := range map[string]caddy.Duration{"reload_interval": h.ReloadInterval, "collection_name_ttl": h.CollectionNameTTL} {
		want, err := caddy.ParseDuration(doc[name])
		require.NoError(t, err, "README's default of %s: %q", name, doc[name])
		assert.Equal(t, want, time.Duration(got), name)
	}

	// The bcrypt queue's wait: "up to 10 s, then 503" in the table.
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`the rest wait \(up to (\d+) s, then 503\)`).FindStringSubmatch(string(b))
	require.NotNil(t, m, "README's max_concurrent_bcrypt row states the queue's wait")
	assert.Equal(t, m[1]+"s", providers.DefaultBcryptQueueTimeout.String())
	assert.Equal(t, providers.DefaultBcryptQueueTimeout, bcryptQueueTimeout)
}

// TestOffTurnsTheLimiterOff: with failures_per_minute off, a client's
// wrong tokens are answered 401 however many there are, never 429; with
// the default (60), the 61st failure in a minute is 429.
func TestOffTurnsTheLimiterOff(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-good\n")
	for _, tc := range []struct {
		option string
		last   int
	}{
		{"", 429},
		{"failures_per_minute off", 401},
	} {
		h := provisioned(t, handlerFromCaddyfile(t, "chroma_auth {\n\t\ttoken_file "+tokens+"\n\t\t"+tc.option+"\n\t}"))
		for i := 0; i < 60; i++ {
			require.Equal(t, 401, serve(h, "192.0.2.90", "Bearer wrong-"+strconv.Itoa(i)), "%q: failure %d", tc.option, i+1)
		}
		assert.Equal(t, tc.last, serve(h, "192.0.2.90", "Bearer wrong-61"), "%q: the 61st failure", tc.option)
	}
}
