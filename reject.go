package chromaauth

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// The bodies Chroma 1.x answers errors with. The Python client turns
// "AuthorizationError" into chromadb.errors.AuthorizationError; the JS
// client throws ChromaUnauthorizedError on 401 and ChromaForbiddenError on
// 403.
var (
	bodyUnauthorized = []byte(`{"error":"AuthorizationError","message":"Unauthorized"}`)
	bodyKeyExpired   = []byte(`{"error":"AuthorizationError","message":"Unauthorized: API key expired"}`)
	bodyBusy         = []byte(`{"error":"ServiceUnavailable","message":"Too many authentication checks in flight; retry shortly"}`)
	bodyRateLimited  = []byte(`{"error":"RateLimitError","message":"Too many failed authentication attempts; retry later"}`)
)

// reject answers a request that did not authenticate. The reason goes to
// the log (at debug level, so an operator can turn it on) and the
// `{http.auth.chroma_auth.reason}` placeholder, never to the client.
func (h *ChromaAuth) reject(w http.ResponseWriter, r *http.Request, pol *config.Policy, reason string, retry time.Duration) error {
	d := unauthenticated(reason)
	h.record(r, &d)
	switch reason {
	case reasonBusy:
		w.Header().Set("Retry-After", "1")
		return writeJSON(w, http.StatusServiceUnavailable, bodyBusy)
	case reasonJWTUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(retry.Seconds(), 1)))))
		return writeJSON(w, http.StatusServiceUnavailable, bodyJWTUnavailable)
	case reasonRateLimited:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(retry.Seconds(), 1)))))
		return writeJSON(w, http.StatusTooManyRequests, bodyRateLimited)
	}
	if pol.Creds.Basic() {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.realm()+`", charset="UTF-8"`)
	} else if h.tokenHeader == headerAuthorization {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+h.realm()+`"`)
	}
	if reason == reasonKeyExpired {
		return writeJSON(w, http.StatusUnauthorized, bodyKeyExpired)
	}
	return writeJSON(w, http.StatusUnauthorized, bodyUnauthorized)
}

// unauthenticated is the decision on a credential that did not pass.
func unauthenticated(reason string) authz.Decision {
	d := authz.Decision{Verdict: authz.VerdictUnauthenticated, Status: http.StatusUnauthorized, Reason: reason}
	switch reason {
	case reasonBusy, reasonJWTUnavailable:
		d.Verdict, d.Status = authz.VerdictUnavailable, http.StatusServiceUnavailable
	case reasonRateLimited:
		d.Verdict, d.Status = authz.VerdictLimited, http.StatusTooManyRequests
	}
	return d
}

// reasonKeyExpired: a valid API key past its expiry; the client is told.
const reasonKeyExpired = "key_expired"

// logDenied records a denial at debug level: who (the authenticated
// identity id of a 403, else what the request tried: a Basic user name, a
// name being no secret, and the kind of credential), why, and from where.
// Never a password or token. The identity, not the request's headers,
// names who was refused once authentication passed: by then the
// credential headers are gone. Nothing is worked out unless the line is
// written.
func (h *ChromaAuth) logDenied(r *http.Request, reason string, id *providers.Identity, detail string) {
	c := h.logger.Check(zapcore.DebugLevel, "request denied")
	if c == nil {
		return
	}
	var user, provider string
	if id != nil {
		user, provider = id.User, id.Provider
	} else {
		t := h.attempted(r)
		user, provider = t.User, t.Provider
	}
	fields := []zap.Field{
		zap.String("reason", reason),
		zap.String("remote_ip", clientIP(r)),
		zap.String("method", r.Method),
		zap.String("uri", r.RequestURI),
	}
	if user != "" {
		fields = append(fields, zap.String("user", user))
	}
	if provider != "" {
		fields = append(fields, zap.String("provider", provider))
	}
	if detail != "" {
		fields = append(fields, zap.String("detail", detail))
	}
	c.Write(fields...)
}

// attemptedProvider names the kind of credential the request tried, for
// the log: "basic", "token", "cert" or "" (none).
func (h *ChromaAuth) attemptedProvider(r *http.Request) string {
	if v := r.Header.Get(headerAuthorization); v != "" {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		switch {
		case strings.EqualFold(scheme, "Basic"):
			return "basic"
		case strings.EqualFold(scheme, "Bearer"):
			return "token"
		}
	}
	if r.Header.Get(headerChromaToken) != "" {
		return "token"
	}
	if h.ClientCert != nil && verifiedLeaf(r) != nil {
		return providers.ProviderCert
	}
	return ""
}

// attemptedUser is the user name of a Basic credential, for the log.
func attemptedUser(r *http.Request) string {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(r.Header.Get(headerAuthorization)), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return ""
	}
	if user, _, ok := parseBasic(rest); ok && validLogName(user) {
		return user
	}
	return ""
}

func validLogName(s string) bool {
	if len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
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

// jsonError is a body in Chroma's error shape, for a message that is not
// a constant.
func jsonError(name, message string) []byte {
	b, _ := json.Marshal(map[string]string{"error": name, "message": message})
	return b
}
