package chromaauth

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// forward sends r on, keeping what the answer teaches the gateway
// (authz.Teach): any caller's rename (collection grants judge requests by
// id by the name the gateway knows, so a rename it missed would leave a
// collection renamed out of a grant reachable by id under its old name),
// and, for a scoped caller, where the collections an answer names live
// (its next request by such an id then needs no lookup).
func (h *ChromaAuth) forward(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, d *authz.Decision) error {
	return h.recordAfter(w, r, d, func(w http.ResponseWriter) error {
		switch {
		case d.Teach.RenameID != "":
			return h.serveRename(w, r, next, d.Teach.RenameID, d.Teach.RenameTo)
		case d.Teach.Owners:
			return h.serveLearning(w, r, next)
		}
		return next.ServeHTTP(w, r)
	})
}

// maxLearnBody bounds what is kept of an answer to learn from.
const maxLearnBody = 1 << 20

// learningWriter passes a response through to the client unchanged and
// keeps a copy of a successful JSON body, up to maxLearnBody.
type learningWriter struct {
	lookup.StatusWriter
	body bytes.Buffer
	over bool
}

func (l *learningWriter) Write(p []byte) (int, error) {
	if l.Status == 0 {
		l.Status = http.StatusOK
	}
	if !l.over && l.Status < 300 {
		if l.body.Len()+len(p) > maxLearnBody {
			l.over = true
			l.body.Reset()
		} else {
			l.body.Write(p)
		}
	}
	return l.StatusWriter.Write(p)
}

// serveLearning forwards r and learns collection owners from the answer.
func (h *ChromaAuth) serveLearning(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// These answers are small JSON: ask for them uncompressed, so that they
	// can be read (the client may still get them compressed by Caddy's own
	// encode handler, which runs outside this one).
	r.Header.Del("Accept-Encoding")
	lw := &learningWriter{StatusWriter: lookup.StatusWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}}
	err := next.ServeHTTP(lw, r)
	if succeeded(lw.Status) && !lw.over && lw.body.Len() > 0 {
		h.owners.LearnJSON(lw.body.Bytes())
	}
	return err
}

// serveRename forwards a collection update and, when it succeeds, records
// the collection's new name (newName "": the name is looked up again), so
// grants judge it by its new name from the next request on. (Renames made
// past this gateway are seen within collection_name_ttl.)
func (h *ChromaAuth) serveRename(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, collectionID, newName string) error {
	sw := lookup.NewStatusWriter(w)
	err := next.ServeHTTP(sw, r)
	if succeeded(sw.Status) {
		h.owners.Rename(collectionID, newName)
	}
	return err
}

// succeeded tells a 2xx answer (0: nothing written, which Go answers 200).
func succeeded(status int) bool { return status == 0 || (status >= 200 && status < 300) }

// listingTTL bounds how old a shared listing may be (listings): a
// collection created, renamed or deleted past the gateway shows in filtered
// listings at most this late (never later than collection_name_ttl).
// Writes through the gateway drop the listing at once.
const listingTTL = time.Second

// listingTTL is listingTTL, or collection_name_ttl when that is shorter.
func (h *ChromaAuth) listingTTL() time.Duration {
	if ttl := time.Duration(h.CollectionNameTTL); ttl > 0 && ttl < listingTTL {
		return ttl
	}
	return listingTTL
}

// serveFiltered answers a listing (or count) of collections for a caller
// with collection grants from the collections it may read: the gateway
// lists the whole database upstream, keeps what the grants let the caller
// read, and only then applies the caller's limit and offset, so pages stay
// coherent and nothing tells the caller what else exists.
func (h *ChromaAuth) serveFiltered(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, d *authz.Decision) error {
	id, rt := d.Identity, d.Route
	limit, offset, ok := listWindow(r)
	if !ok {
		bad := *d
		bad.Verdict, bad.Status, bad.Reason = authz.VerdictBadBody, http.StatusBadRequest, reasonBadQuery
		bad.Detail = "limit and offset must be non-negative integers"
		return h.refuse(w, r, &bad)
	}
	lst, err := h.listings.Listing(r.Context(), rt.Tenant, rt.Database, func(ctx context.Context) ([]authz.Collection, error) {
		var all []authz.Collection
		f := &lookup.Fetcher{Owners: h.owners, R: r, Next: next}
		err := f.Each(ctx, rt.Tenant, rt.Database, func(page []authz.Collection) { all = append(all, page...) })
		return all, err
	})
	if err != nil {
		failed := *d
		failed.Verdict, failed.Status, failed.Reason, failed.Err = authz.VerdictUnavailable, http.StatusServiceUnavailable, reasonLookupUnavailable, err
		return h.refuse(w, r, &failed)
	}
	// Who sees what is a function of the grants alone (immutable, one
	// value per user and policy, per key, per JWT): worked out once per
	// listing for each (Listing.Visible).
	grants := id.Collections
	idx := lst.Visible(grants, func(name string) bool { return grants.Level(name) >= providers.LevelRead })
	var dst []byte // nil: AppendIndexed sizes it for the page
	if rt.Action == authz.ActionCountCollections {
		limit, dst = 0, make([]byte, 0, 2) // counted, not listed
	}
	body, n := authz.AppendIndexed(dst, lst.Collections(), idx, limit, offset)
	h.record(r, d)
	if rt.Action == authz.ActionCountCollections {
		return writeJSON(w, http.StatusOK, []byte(strconv.Itoa(n)))
	}
	return writeJSON(w, http.StatusOK, body)
}

// listWindow reads a listing's limit (absent: no limit) and offset
// (absent: 0), as Chroma takes them. ok is false when either is not a
// non-negative integer, or given twice.
func listWindow(r *http.Request) (limit, offset int, ok bool) {
	q := r.URL.Query()
	limit, offset = -1, 0
	for key, dst := range map[string]*int{"limit": &limit, "offset": &offset} {
		vals := q[key]
		if len(vals) == 0 {
			continue
		}
		n, err := strconv.Atoi(vals[0])
		if len(vals) > 1 || err != nil || n < 0 {
			return 0, 0, false
		}
		*dst = n
	}
	return limit, offset, true
}

// listingWrite tells a request that changes which collections a database
// lists (create, fork, rename or delete a collection, delete the database),
// and which database, from the path alone: it runs for every caller,
// before anything reads the body.
func listingWrite(r *http.Request) (tenant, database string, ok bool) {
	rest, found := strings.CutPrefix(r.URL.Path, "/api/v2/tenants/")
	if !found || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[1] != "databases" {
		return "", "", false
	}
	switch {
	case len(parts) == 3: // DELETE the database
	case len(parts) == 4 && parts[3] == "collections": // POST: create
	case len(parts) == 5 && parts[3] == "collections": // PUT, DELETE
	case len(parts) == 6 && parts[3] == "collections" && parts[5] == "fork":
	default:
		return "", "", false
	}
	return parts[0], parts[2], true
}
