package chromaauth

import (
	"bytes"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// learnsOwners reports whether the answer to a route names collections
// with their tenant and database: creating, getting, forking or listing
// them. The gateway learns from those answers where a collection lives, so
// a scoped user's next request by the new collection's id needs no listing.
func learnsOwners(action string) bool {
	switch action {
	case authz.ActionCreateCollection, authz.ActionGetOrCreateCollection,
		authz.ActionGetCollection, authz.ActionForkCollection, authz.ActionListCollections,
		authz.ActionUpdateCollection:
		return true
	}
	return false
}

// maxLearnBody bounds what is kept of an answer to learn from.
const maxLearnBody = 1 << 20

// learningWriter passes a response through to the client unchanged and
// keeps a copy of a successful JSON body, up to maxLearnBody.
type learningWriter struct {
	*caddyhttp.ResponseWriterWrapper
	status int
	body   bytes.Buffer
	over   bool
}

func (l *learningWriter) WriteHeader(status int) {
	if l.status == 0 {
		l.status = status
	}
	l.ResponseWriterWrapper.WriteHeader(status)
}

func (l *learningWriter) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	if !l.over && l.status < 300 {
		if l.body.Len()+len(p) > maxLearnBody {
			l.over = true
			l.body.Reset()
		} else {
			l.body.Write(p)
		}
	}
	return l.ResponseWriterWrapper.Write(p)
}

// serveLearning forwards r and learns collection owners from the answer;
// a rename that succeeded changes the name the gateway knows, so grants
// judge the collection by its new name from the next request on.
func (h *ChromaAuth) serveLearning(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, rt authz.Route) error {
	// These answers are small JSON: ask for them uncompressed, so that they
	// can be read (the client may still get them compressed by Caddy's own
	// encode handler, which runs outside this one).
	r.Header.Del("Accept-Encoding")
	lw := &learningWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
	err := next.ServeHTTP(lw, r)
	ok := lw.status == 0 || (lw.status >= 200 && lw.status < 300)
	if ok && rt.Action == authz.ActionUpdateCollection && rt.NewName != "" {
		h.owners.Rename(rt.Collection, rt.NewName)
	} else if ok && !lw.over && lw.body.Len() > 0 {
		h.owners.LearnJSON(lw.body.Bytes())
	}
	return err
}

// serveRename forwards a PUT of a caller whose requests are otherwise not
// classified (every tenant, database and collection, no RBAC) and, when it
// is a rename that succeeds, records the collection's new name: collection
// grants judge other callers' requests by id by the name the gateway
// knows, so a rename it missed would leave a collection renamed out of a
// grant reachable by its id under the old name. (Renames made past this
// gateway still go unseen.)
func (h *ChromaAuth) serveRename(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rt, err := authz.Classify(r)
	if err != nil || rt.Action != authz.ActionUpdateCollection || rt.NewName == "" {
		return next.ServeHTTP(w, r)
	}
	return h.serveLearning(w, r, next, rt)
}
