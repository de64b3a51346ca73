package chromaauth

import (
	"bytes"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
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
	statusWriter
	body bytes.Buffer
	over bool
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
	return l.statusWriter.Write(p)
}

// serveLearning forwards r and learns collection owners from the answer.
func (h *ChromaAuth) serveLearning(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// These answers are small JSON: ask for them uncompressed, so that they
	// can be read (the client may still get them compressed by Caddy's own
	// encode handler, which runs outside this one).
	r.Header.Del("Accept-Encoding")
	lw := &learningWriter{statusWriter: statusWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}}
	err := next.ServeHTTP(lw, r)
	if succeeded(lw.status) && !lw.over && lw.body.Len() > 0 {
		h.owners.LearnJSON(lw.body.Bytes())
	}
	return err
}

// serveRename forwards a collection update and, when it succeeds, records
// the collection's new name (newName "": the name is looked up again), so
// grants judge it by its new name from the next request on. (Renames made
// past this gateway are seen within collection_name_ttl.)
func (h *ChromaAuth) serveRename(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, collectionID, newName string) error {
	sw := &statusWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
	err := next.ServeHTTP(sw, r)
	if succeeded(sw.status) {
		h.owners.Rename(collectionID, newName)
	}
	return err
}

// succeeded tells a 2xx answer (0: nothing written, which Go answers 200).
func succeeded(status int) bool { return status == 0 || (status >= 200 && status < 300) }
