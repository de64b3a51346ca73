package chromaauth

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewLoggerRoutes: the audit's lines go to the logs that take the
// logger http.handlers.chroma_auth.audit by Caddy's include and exclude
// rules, and only to them (the README's setup: the default log excludes
// it, a log of its own includes it; beside them a log of everything, a log
// of a parent namespace, of a child namespace, and of the handler's other
// logs); the handler's own logs are routed as before. The audit's logger
// holds the cores of the logs that may take its lines, no other: the
// default log that excludes it is not asked about each line
// (audit.NewLogger).
func TestNewLoggerRoutes(t *testing.T) {
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name+".log") }
	global := fmt.Sprintf(`	log {
		output file %s
		format json
		exclude http.handlers.chroma_auth.audit
	}
	log chroma_audit {
		output file %s
		format json
		include http.handlers.chroma_auth.audit
	}
	log everything {
		output file %s
		format json
	}
	log handlers {
		output file %s
		format json
		include http.handlers
	}
	log child {
		output file %s
		format json
		include http.handlers.chroma_auth.audit.sub
	}
	log others {
		output file %s
		format json
		include http.handlers.chroma_auth
		exclude http.handlers.chroma_auth.audit
	}`, file("default"), file("audit"), file("everything"), file("handlers"), file("child"), file("others"))
	port := freePort(t)
	cfg := fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
%s
}

http://127.0.0.1:%d {
	chroma_auth {
		token tok-plain-0123456789abcdef
		audit
	}
	respond 200
}
`, global, port)
	g := serveConfig(t, port, cfg)

	// The audit's logger, as provisioned.
	app, err := caddy.ActiveContext().App("http")
	require.NoError(t, err)
	var h *ChromaAuth
	for _, srv := range app.(*caddyhttp.App).Servers {
		for _, rt := range srv.Routes {
			for _, mh := range rt.Handlers {
				if sub, ok := mh.(*caddyhttp.Subroute); ok {
					for _, srt := range sub.Routes {
						for _, smh := range srt.Handlers {
							if c, ok := smh.(*ChromaAuth); ok {
								h = c
							}
						}
					}
				}
			}
		}
	}
	require.NotNil(t, h, "the handler")
	// Only the logs that may take one of its lines: the audit's own,
	// everything, handlers and child (five before audit.NewLogger: others,
	// which excludes it, was asked about each line and took none).
	assert.Equal(t, 4, reflect.ValueOf(h.auditLog.Core()).Len(), "the cores of the audit's logger (%T)", h.auditLog.Core())

	resp, _ := g.do(t, "GET", hotCount, map[string]string{"Authorization": "Bearer tok-plain-0123456789abcdef"})
	require.Equal(t, 200, resp.StatusCode)
	resp, _ = g.do(t, "GET", hotCount, map[string]string{"Authorization": "Bearer wrong"})
	require.Equal(t, 401, resp.StatusCode)
	require.NoError(t, caddy.Stop())

	read := func(name string) (audit, handler int) {
		b, err := os.ReadFile(file(name))
		if os.IsNotExist(err) {
			return 0, 0
		}
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.Contains(line, `"logger":"http.handlers.chroma_auth.audit"`):
				audit++
			case strings.Contains(line, `"logger":"http.handlers.chroma_auth"`):
				handler++
			}
		}
		return audit, handler
	}
	_, own := read("everything") // the handler's own lines (credentials loaded, the refusal...)
	require.NotZero(t, own)
	for _, c := range []struct {
		log            string
		audit, handler int
	}{
		{"default", 0, -1}, {"audit", 2, 0}, {"everything", 2, own}, {"handlers", 2, own}, {"child", 0, 0}, {"others", 0, own},
	} {
		a, hl := read(c.log)
		assert.Equal(t, c.audit, a, "%s: audit lines", c.log)
		if c.handler >= 0 { // the default log's own lines are Caddy's business
			assert.Equal(t, c.handler, hl, "%s: the handler's own lines", c.log)
		}
	}
}
