package rowsproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// rowsCountPage is how many ids one get of a count asks for.
const rowsCountPage = 10000

// upstreamAnswer is a 4xx answer of Chroma to a sub-request (no such
// collection, say), which the gateway hands to the client as it came.
type upstreamAnswer struct {
	status int
	body   []byte
}

func (u *upstreamAnswer) Error() string { return fmt.Sprintf("upstream answered %d", u.status) }

// rowsGet posts body to the collection's get route through the rest of the
// chain and decodes a 200 answer into out. A 5xx or no answer is
// ErrUnavailable; another status an upstreamAnswer.
func (p *proxy) rowsGet(ctx context.Context, rt authz.Route, body []byte, out any) error {
	u := lookup.CollectionsURL(rt.Tenant, rt.Database, "/"+url.PathEscape(rt.Collection)+"/get", "")
	f := &lookup.Fetcher{Owners: p.owners, R: p.r, Next: p.next}
	rec, err := f.Send(ctx, http.MethodPost, u, body)
	if err != nil {
		return err
	}
	switch {
	case rec.Status >= 500:
		return fmt.Errorf("%w: get: status %d", authz.ErrUnavailable, rec.Status)
	case rec.Status != http.StatusOK:
		return &upstreamAnswer{status: rec.Status, body: rec.Body.Bytes()}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		return fmt.Errorf("%w: get: not Chroma's answer", authz.ErrUnavailable)
	}
	return nil
}

// ownershipCheck is the check of an update's or upsert's ids: every one
// that exists must be the identity's, or the write is refused whole.
func (p *proxy) ownershipCheck(rt authz.Route, f *rows.Filter) rows.IDCheck {
	return func(ids []string) error {
		if len(ids) == 0 {
			return nil
		}
		body, _ := json.Marshal(map[string]any{"ids": ids, "include": []string{"metadatas"}})
		var got struct {
			IDs       []string         `json:"ids"`
			Metadatas []map[string]any `json:"metadatas"`
		}
		if err := p.rowsGet(p.r.Context(), rt, body, &got); err != nil {
			return err
		}
		for i := range got.IDs {
			if i >= len(got.Metadatas) || !f.Owns(got.Metadatas[i]) {
				return fmt.Errorf("%w: a record of another identity", rows.ErrForbidden)
			}
		}
		return nil
	}
}

// serveCount answers a count, which Chroma cannot filter, from
// filtered gets of ids alone, page by page: the number Chroma would give
// if the collection held only the identity's records.
func (p *proxy) serveCount(d *authz.Decision, f *rows.Filter) Result {
	rt := *d.Route
	total := 0
	for offset := 0; ; offset += rowsCountPage {
		body := fmt.Appendf(nil, `{"where":%s,"include":[],"limit":%d,"offset":%d}`, f.Clause(), rowsCountPage, offset)
		var got struct {
			IDs []json.RawMessage `json:"ids"`
		}
		if err := p.rowsGet(p.r.Context(), rt, body, &got); err != nil {
			return rewriteFailed(d, err)
		}
		total += len(got.IDs)
		if len(got.IDs) < rowsCountPage {
			break
		}
	}
	d.Status = http.StatusOK
	return Result{Kind: Answer, D: d, Status: http.StatusOK, Body: []byte(strconv.Itoa(total))}
}
