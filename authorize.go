package chromaauth

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// maxOwners bounds how many collection ids the gateway remembers the
// tenant and database of.
const maxOwners = 100000

// authorizeAndServe is the authorization half: it answers the identity
// endpoint, keeps a scoped user inside its tenant and databases, applies
// RBAC when configured, and forwards what passes. A user of every tenant
// and database, without RBAC, needs none of it but the identity answer, so
// the route is not classified for them (it is, lazily, if a placeholder
// asks for the action).
func (h *ChromaAuth) authorizeAndServe(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, pol *policy, vars *requestVars) error {
	id := vars.id
	rbac := pol.rbac
	scoped := !id.AllTenants() || !id.AllDatabases()
	if rbac == nil && !scoped {
		if isIdentityRequest(r) {
			return answerIdentity(w, id)
		}
		countRequest(resultAllowed)
		return next.ServeHTTP(w, r)
	}
	if scoped && !h.NoSingletonOverwrite {
		overwriteSingleton(r, id)
	}
	rt, err := authz.Classify(r)
	if err != nil {
		if errors.Is(err, authz.ErrBodyTooLarge) {
			return writeJSON(w, http.StatusRequestEntityTooLarge, []byte(`{"error":"InvalidArgumentError","message":"Request body too large for the gateway to inspect"}`))
		}
		return writeJSON(w, http.StatusBadRequest, []byte(`{"error":"InvalidArgumentError","message":"Unreadable request body"}`))
	}
	vars.route = &rt
	if rt.Identity {
		return answerIdentity(w, id)
	}
	if err := authz.CheckScope(id, rt); err != nil {
		return h.forbid(w, r, id.User, err.Error())
	}
	if rt.CollectionByID && scoped {
		if err := h.checkOwner(r, next, rt); err != nil {
			if errors.Is(err, errOwnerUnavailable) {
				countRequest(resultBusy)
				w.Header().Set("Retry-After", "2")
				return writeJSON(w, http.StatusServiceUnavailable, bodyOwnerUnavailable)
			}
			return h.forbid(w, r, id.User, err.Error())
		}
	}
	if rbac != nil {
		if err := rbac.Authorize(id, rt); err != nil {
			return h.forbid(w, r, id.User, err.Error())
		}
	}
	countRequest(resultAllowed)
	if scoped && learnsOwners(rt.Action) {
		return h.serveLearning(w, r, next)
	}
	return next.ServeHTTP(w, r)
}

// answerIdentity answers GET /api/v2/auth/identity for the caller.
func answerIdentity(w http.ResponseWriter, id *providers.Identity) error {
	countRequest(resultAllowed)
	return writeJSON(w, http.StatusOK, authz.IdentityBody(id))
}

// isIdentityRequest tells GET /api/v{1,2}/auth/identity, in the one exact
// form. Any other spelling goes to Chroma, whose own answer is the same
// for a user of every tenant and database.
func isIdentityRequest(r *http.Request) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawPath != "" {
		return false
	}
	return r.URL.Path == "/api/v2/auth/identity" || r.URL.Path == "/api/v1/auth/identity"
}

// checkOwner makes sure the collection a by-id route names lives in the
// tenant and database of the path. Chroma 1.x looks such collections up by
// id alone, so without this a user of one tenant who learns another
// tenant's collection id could read and write it through its own path.
// What the gateway does not know yet it learns by listing the path's
// database through the upstream, as the caller's own request would.
func (h *ChromaAuth) checkOwner(r *http.Request, next caddyhttp.Handler, rt authz.Route) error {
	err := h.owners.Check(rt)
	if !errors.Is(err, authz.ErrOwnerUnknown) {
		return err
	}
	// An unknown id costs a listing of the database; a user sending many
	// made-up ids gets at most one listing per database and interval.
	key := rt.Tenant + "\x00" + rt.Database
	allowed, failed := h.listings.allow(key, time.Now())
	if allowed {
		if lerr := h.learnOwners(r, next, rt.Tenant, rt.Database); lerr != nil {
			h.logger.Warn("cannot list collections to check a collection's owner", zap.Error(lerr))
			if errors.Is(lerr, errUpstreamFailed) {
				h.listings.fail(key)
				failed = true
			}
		}
	}
	err = h.owners.Check(rt)
	if errors.Is(err, authz.ErrOwnerUnknown) {
		if failed {
			// Chroma is down or failing: not a 403, which clients take
			// as final, but a 503 to retry (still refused: fail closed).
			return errOwnerUnavailable
		}
		return fmt.Errorf("collection is not in tenant %q, database %q", rt.Tenant, rt.Database)
	}
	return err
}

// errOwnerUnavailable: the owner of a collection id is unknown, and the
// last listing of the database through the upstream failed.
var errOwnerUnavailable = errors.New("collection owner unknown: listing the database failed")

// errUpstreamFailed: the upstream did not answer a listing, or answered 5xx.
var errUpstreamFailed = errors.New("upstream failed")

var bodyOwnerUnavailable = []byte(`{"error":"ServiceUnavailable","message":"The gateway could not check the collection's database; retry shortly"}`)

const ownersPage = 1000

// relistInterval is how soon the same database may be listed again to
// learn the owner of a collection id the gateway does not know.
const relistInterval = 2 * time.Second

// listingLimiter remembers when each database was last listed, and
// whether that listing failed.
type listingLimiter struct {
	mu   sync.Mutex
	last map[string]listing
}

type listing struct {
	at     time.Time
	failed bool
}

// allow reports whether key may be listed now; when it may not, also
// whether its last listing failed.
func (l *listingLimiter) allow(key string, now time.Time) (ok, lastFailed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil || len(l.last) > maxOwners {
		l.last = make(map[string]listing)
	}
	if t, ok := l.last[key]; ok && now.Sub(t.at) < relistInterval {
		return false, t.failed
	}
	l.last[key] = listing{at: now}
	return true, false
}

// fail marks the listing of key that allow let through as failed.
func (l *listingLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok {
		t.failed = true
		l.last[key] = t
	}
}

// learnOwners lists the collections of tenant/database through the rest of
// the handler chain (the reverse proxy) and remembers where each lives.
func (h *ChromaAuth) learnOwners(r *http.Request, next caddyhttp.Handler, tenant, database string) error {
	path := "/api/v2/tenants/" + url.PathEscape(tenant) + "/databases/" + url.PathEscape(database) + "/collections"
	for offset := 0; offset < maxOwners; offset += ownersPage {
		sub := r.Clone(r.Context())
		sub.Method = http.MethodGet
		sub.URL = &url.URL{Path: path, RawQuery: fmt.Sprintf("limit=%d&offset=%d", ownersPage, offset)}
		sub.RequestURI = sub.URL.RequestURI()
		sub.Body = http.NoBody
		sub.GetBody = nil
		sub.ContentLength = 0
		for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Accept-Encoding", "Expect"} {
			sub.Header.Del(k)
		}
		sub.Header.Set("Accept", "application/json")
		rec := &bufferWriter{header: make(http.Header)}
		if err := next.ServeHTTP(rec, sub); err != nil {
			return fmt.Errorf("%w: %w", errUpstreamFailed, err)
		}
		if rec.status >= 500 {
			return fmt.Errorf("%w: listing collections: status %d", errUpstreamFailed, rec.status)
		}
		if rec.status != 0 && rec.status != http.StatusOK {
			return fmt.Errorf("listing collections: status %d", rec.status)
		}
		if n := h.owners.LearnJSON(rec.body.Bytes()); n < ownersPage {
			return nil
		}
	}
	return nil
}

// bufferWriter catches an internal sub-request's response.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

const maxSubResponse = 32 << 20

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(s int) {
	if b.status == 0 {
		b.status = s
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.body.Len()+len(p) > maxSubResponse {
		return 0, errors.New("sub-response too large")
	}
	return b.body.Write(p)
}
