package chromaauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// ownersPage is how many collections one listing sub-request asks for.
const ownersPage = 1000

// proxyFetcher asks Chroma about collections for one request, with
// sub-requests through the rest of the handler chain (the reverse proxy),
// as the caller's own request would go. It is the authz.Fetcher of the
// gateway.
type proxyFetcher struct {
	h    *ChromaAuth
	r    *http.Request
	next caddyhttp.Handler
}

// ByID asks GET .../collections/by-id/{id} (Chroma 1.5.7+). A 404 that is
// not Chroma's JSON error, or a 405, means the upstream has no such route.
func (f *proxyFetcher) ByID(ctx context.Context, tenant, database, id string) (bool, error) {
	rec, err := f.get(ctx, collectionsURL(tenant, database, "/by-id/"+url.PathEscape(id), ""))
	if err != nil {
		return true, err
	}
	switch {
	case rec.status == http.StatusOK:
		f.h.owners.LearnJSON(rec.body.Bytes())
		return true, nil
	case rec.status == http.StatusMethodNotAllowed, rec.status == http.StatusNotFound && !isChromaError(rec.body.Bytes()):
		return false, nil
	case rec.status >= 500:
		return true, fmt.Errorf("%w: status %d", authz.ErrUnavailable, rec.status)
	}
	return true, nil // not found there (or refused): nothing learned
}

// List pages through the collections of tenant/database and learns them.
func (f *proxyFetcher) List(ctx context.Context, tenant, database string) error {
	return f.each(ctx, tenant, database, func([]authz.Collection) {})
}

// each pages through the collections of tenant/database, learning their
// owners and handing each page to fn. A 4xx answer (no such database)
// ends the listing with nothing more; no answer or a 5xx is ErrUnavailable.
func (f *proxyFetcher) each(ctx context.Context, tenant, database string, fn func([]authz.Collection)) error {
	for offset := 0; offset < maxOwners; offset += ownersPage {
		q := "limit=" + strconv.Itoa(ownersPage) + "&offset=" + strconv.Itoa(offset)
		rec, err := f.get(ctx, collectionsURL(tenant, database, "", q))
		if err != nil {
			return err
		}
		if rec.status >= 500 {
			return fmt.Errorf("%w: listing collections: status %d", authz.ErrUnavailable, rec.status)
		}
		if rec.status != http.StatusOK {
			return nil
		}
		page, ok := authz.ParseCollections(rec.body.Bytes())
		if !ok {
			return fmt.Errorf("%w: listing collections: not a list", authz.ErrUnavailable)
		}
		for _, c := range page {
			f.h.owners.Learn(c.ID, c.Tenant, c.Database, c.Name)
		}
		fn(page)
		if len(page) < ownersPage {
			return nil
		}
	}
	return nil
}

// collectionsURL is the URL of .../tenants/{t}/databases/{d}/collections
// plus rest (already escaped), with tenant and database escaped once:
// Path holds the names as they are, RawPath their escaped form.
func collectionsURL(tenant, database, rest, query string) *url.URL {
	u := &url.URL{
		Path:     "/api/v2/tenants/" + tenant + "/databases/" + database + "/collections",
		RawPath:  "/api/v2/tenants/" + url.PathEscape(tenant) + "/databases/" + url.PathEscape(database) + "/collections" + rest,
		RawQuery: query,
	}
	if rest != "" {
		p, err := url.PathUnescape(rest)
		if err != nil {
			p = rest
		}
		u.Path += p
	}
	return u
}

// get sends an internal GET through the rest of the chain and catches the
// answer. A handler error (the proxy could not reach Chroma) is
// ErrUnavailable.
func (f *proxyFetcher) get(ctx context.Context, u *url.URL) (*bufferWriter, error) {
	return f.send(ctx, http.MethodGet, u, nil)
}

// send is get with another method and a JSON body (nil: none).
func (f *proxyFetcher) send(ctx context.Context, method string, u *url.URL, body []byte) (*bufferWriter, error) {
	sub := f.r.Clone(ctx)
	sub.Method = method
	sub.URL = u
	sub.RequestURI = u.RequestURI()
	sub.Body = http.NoBody
	sub.GetBody = nil
	sub.ContentLength = 0
	sub.TransferEncoding = nil
	for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Accept-Encoding", "Expect", "If-None-Match", "If-Modified-Since", "Range"} {
		sub.Header.Del(k)
	}
	sub.Header.Set("Accept", "application/json")
	if body != nil {
		sub.Body = io.NopCloser(bytes.NewReader(body))
		sub.ContentLength = int64(len(body))
		sub.Header.Set("Content-Type", "application/json")
	}
	rec := &bufferWriter{header: make(http.Header)}
	if err := f.next.ServeHTTP(rec, sub); err != nil {
		return nil, fmt.Errorf("%w: %v", authz.ErrUnavailable, err)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec, nil
}

// isChromaError tells Chroma's JSON error body from a router's bare 404.
func isChromaError(body []byte) bool {
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error != ""
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
