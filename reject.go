package chromaauth

import (
	"net/http"
	"strconv"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2"
)

// The bodies Chroma 1.x answers errors with. The Python client turns
// "AuthorizationError" into chromadb.errors.AuthorizationError; the JS
// client throws ChromaUnauthorizedError on 401 and ChromaForbiddenError on
// 403.
var (
	bodyUnauthorized = []byte(`{"error":"AuthorizationError","message":"Unauthorized"}`)
	bodyBusy         = []byte(`{"error":"ServiceUnavailable","message":"Too many authentication checks in flight; retry shortly"}`)
)

// reject answers a request that did not authenticate. The reason goes to
// the log (at debug level, so an operator can turn it on) and the
// `{http.auth.chroma_auth.reason}` placeholder, never to the client.
func (h *ChromaAuth) reject(w http.ResponseWriter, r *http.Request, reason string) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.auth.chroma_auth.reason", reason)
	if c := h.logger.Check(zapcore.DebugLevel, "request denied"); c != nil {
		c.Write(zap.String("reason", reason), zap.String("remote_ip", r.RemoteAddr),
			zap.String("method", r.Method), zap.String("uri", r.RequestURI))
	}
	if reason == reasonBusy {
		w.Header().Set("Retry-After", "1")
		return writeJSON(w, http.StatusServiceUnavailable, bodyBusy)
	}
	creds := h.auth.Credentials()
	if creds.Basic() {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.realm()+`", charset="UTF-8"`)
	} else if h.tokenHeader == headerAuthorization {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+h.realm()+`"`)
	}
	return writeJSON(w, http.StatusUnauthorized, bodyUnauthorized)
}

func (h *ChromaAuth) realm() string {
	if h.Realm == "" {
		return "Chroma"
	}
	return h.Realm
}

func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
