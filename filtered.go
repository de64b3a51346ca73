package chromaauth

import (
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// serveFiltered answers a listing (or count) of collections for a caller
// with collection grants from the collections it may read: the gateway
// lists the whole database upstream, keeps what the grants let the caller
// read, and only then applies the caller's limit and offset, so pages stay
// coherent and nothing tells the caller what else exists.
func (h *ChromaAuth) serveFiltered(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, id *providers.Identity, rt authz.Route) error {
	limit, offset, ok := listWindow(r)
	if !ok {
		countRequest(resultDenied)
		return writeJSON(w, http.StatusBadRequest, jsonError("InvalidArgumentError", "limit and offset must be non-negative integers"))
	}
	var visible []authz.Collection
	f := &proxyFetcher{h: h, r: r, next: next}
	err := f.each(r.Context(), rt.Tenant, rt.Database, func(page []authz.Collection) {
		for _, c := range page {
			if id.Collections.Level(c.Name) >= providers.LevelRead {
				visible = append(visible, c)
			}
		}
	})
	if err != nil {
		return h.refuse(w, r, id, err)
	}
	countRequest(resultAllowed)
	h.auditAfterAuth(r, id.User, decisionAllowed, http.StatusOK, "")
	if rt.Action == authz.ActionCountCollections {
		return writeJSON(w, http.StatusOK, []byte(strconv.Itoa(len(visible))))
	}
	return writeJSON(w, http.StatusOK, authz.ListJSON(authz.Page(visible, limit, offset)))
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
