// Package lookup asks Chroma about collections for the gateway with
// sub-requests through the rest of the Caddy handler chain (the reverse
// proxy), as the caller's own request would go: the owner lookups of a
// decision, the pages of a filtered listing, the checks of row-level
// security, and the audit's names, made off the request's path.
package lookup

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

// MaxOwners bounds how many collection ids the gateway remembers the
// tenant, database and name of, and so how far a listing pages.
const MaxOwners = 100000

// Fetcher asks Chroma about collections for one request, with
// sub-requests through the rest of the handler chain (the reverse proxy),
// as the caller's own request would go, and learns what the answers say
// into Owners. It is the authz.Fetcher of the gateway.
type Fetcher struct {
	Owners *authz.Owners
	R      *http.Request
	Next   caddyhttp.Handler
}

// ByID asks GET .../collections/by-id/{id} (Chroma 1.5.7+). A 404 that is
// not Chroma's JSON error, or a 405, means the upstream has no such route.
func (f *Fetcher) ByID(ctx context.Context, tenant, database, id string) (bool, error) {
	rec, err := f.Get(ctx, CollectionsURL(tenant, database, "/by-id/"+url.PathEscape(id), ""))
	if err != nil {
		return true, err
	}
	switch {
	case rec.Status == http.StatusOK:
		f.Owners.LearnJSON(rec.Body.Bytes())
		return true, nil
	case rec.Status == http.StatusMethodNotAllowed, rec.Status == http.StatusNotFound && !IsChromaError(rec.Body.Bytes()):
		return false, nil
	case rec.Status >= 500:
		return true, fmt.Errorf("%w: status %d", authz.ErrUnavailable, rec.Status)
	}
	return true, nil // not found there (or refused): nothing learned
}

// List pages through the collections of tenant/database and learns them.
func (f *Fetcher) List(ctx context.Context, tenant, database string) error {
	return f.Each(ctx, tenant, database, func([]authz.Collection) {})
}

// Each pages through the collections of tenant/database, learning their
// owners and handing each page to fn. A 4xx answer (no such database)
// ends the listing with nothing more; no answer or a 5xx is ErrUnavailable.
func (f *Fetcher) Each(ctx context.Context, tenant, database string, fn func([]authz.Collection)) error {
	for offset := 0; offset < MaxOwners; offset += ownersPage {
		q := "limit=" + strconv.Itoa(ownersPage) + "&offset=" + strconv.Itoa(offset)
		rec, err := f.Get(ctx, CollectionsURL(tenant, database, "", q))
		if err != nil {
			return err
		}
		if rec.Status >= 500 {
			return fmt.Errorf("%w: listing collections: status %d", authz.ErrUnavailable, rec.Status)
		}
		if rec.Status != http.StatusOK {
			return nil
		}
		page, ok := authz.ParseCollections(rec.Body.Bytes())
		if !ok {
			return fmt.Errorf("%w: listing collections: not a list", authz.ErrUnavailable)
		}
		for _, c := range page {
			f.Owners.Learn(c.ID, c.Tenant, c.Database, c.Name)
		}
		fn(page)
		if len(page) < ownersPage {
			return nil
		}
	}
	return nil
}

// CollectionsURL is the URL of .../tenants/{t}/databases/{d}/collections
// plus rest (already escaped), with tenant and database escaped once:
// Path holds the names as they are, RawPath their escaped form.
func CollectionsURL(tenant, database, rest, query string) *url.URL {
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

// Get sends an internal GET through the rest of the chain and catches the
// answer. A handler error (the proxy could not reach Chroma) is
// ErrUnavailable.
func (f *Fetcher) Get(ctx context.Context, u *url.URL) (*Response, error) {
	return f.Send(ctx, http.MethodGet, u, nil)
}

// Send is Get with another method and a JSON body (nil: none).
func (f *Fetcher) Send(ctx context.Context, method string, u *url.URL, body []byte) (*Response, error) {
	sub := f.R.Clone(ctx)
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
	rec := NewResponse()
	if err := f.Next.ServeHTTP(rec, sub); err != nil {
		return nil, fmt.Errorf("%w: %v", authz.ErrUnavailable, err)
	}
	if rec.Status == 0 {
		rec.Status = http.StatusOK
	}
	return rec, nil
}

// IsChromaError tells Chroma's JSON error body from a router's bare 404.
func IsChromaError(body []byte) bool {
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error != ""
}

// Response catches an internal sub-request's answer, up to MaxResponse.
type Response struct {
	header http.Header
	Status int
	Body   bytes.Buffer
}

// NewResponse is an empty Response to write an answer into.
func NewResponse() *Response { return &Response{header: make(http.Header)} }

// MaxResponse bounds the answer to one sub-request.
const MaxResponse = 32 << 20

func (b *Response) Header() http.Header { return b.header }

func (b *Response) WriteHeader(s int) {
	if b.Status == 0 {
		b.Status = s
	}
}

func (b *Response) Write(p []byte) (int, error) {
	if b.Status == 0 {
		b.Status = http.StatusOK
	}
	if b.Body.Len()+len(p) > MaxResponse {
		return 0, errors.New("sub-response too large")
	}
	return b.Body.Write(p)
}
