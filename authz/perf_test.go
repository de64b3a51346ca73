package authz

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// canonicalUUIDOracle is CanonicalUUID as it was before it stopped
// allocating: decode the hex digits, encode them again.
func canonicalUUIDOracle(s string) (string, bool) {
	switch {
	case len(s) == 45 && strings.EqualFold(s[:9], "urn:uuid:"):
		s = s[9:]
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		s = s[1:37]
	}
	var digits string
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		digits = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 32:
		digits = s
	default:
		return "", false
	}
	b, err := hex.DecodeString(digits)
	if err != nil || len(b) != 16 {
		return "", false
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// Every spelling, and every one byte changed anywhere to anything, gets
// the answer the decoding implementation gives.
func TestCanonicalUUIDOracle(t *testing.T) {
	base := []string{
		"5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77",
		"5F2C1A9E-7d41-4B0A-9a53-0C3C2F1E8B77",
		"5f2c1a9e7d414b0a9a530c3c2f1e8b77",
		"{5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77}",
		"urn:uuid:5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77",
		"UrN:uUiD:5F2C1A9E-7D41-4B0A-9A53-0C3C2F1E8B77",
		"{5f2c1a9e7d414b0a9a530c3c2f1e8b77}",
	}
	check := func(s string) {
		got, ok := CanonicalUUID(s)
		want, wok := canonicalUUIDOracle(s)
		if got != want || ok != wok {
			t.Fatalf("CanonicalUUID(%q) = %q, %v; want %q, %v", s, got, ok, want, wok)
		}
	}
	for _, s := range base {
		check(s)
		for i := 0; i < len(s); i++ {
			for c := 0; c < 256; c++ {
				check(s[:i] + string(rune(c))[:1] + s[i+1:])
				check(s[:i] + s[i+1:])
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefABCDEFgG-{}:urnid"
	for range 20000 {
		b := make([]byte, []int{32, 36, 38, 45}[r.IntN(4)])
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
}

// A canonical id, the spelling clients send, costs no allocation.
func TestCanonicalUUIDAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without -race")
	}
	id := "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"
	if n := testing.AllocsPerRun(100, func() { _, _ = CanonicalUUID(id) }); n != 0 {
		t.Fatalf("CanonicalUUID of a canonical id: %v allocations", n)
	}
}

// escapedPath is url.URL.EscapedPath for every path, escaped or not.
func TestEscapedPathOracle(t *testing.T) {
	paths := []string{
		"/api/v2/tenants/default_tenant/databases/default_database/collections/5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77/query",
		"/api/v2/tenants/a%2Fb/databases/x", "/api/v2/tenants/a b/x", "/api/v2/t/%E2%82%AC", "*", "/a*b", "/a;b=c@d:e$f&g+h,i~j",
		"/api/v2/tenants/%2e%2e/databases", "/caf\u00e9", "/api/v2/tenants/../x", "/api/v2/./x", "/api/v2/a\\b", "/api/v2/tenants/", "/api//v2", "/a%5Cb",
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		b := make([]byte, 1+r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(128))
		}
		paths = append(paths, "/"+string(b))
	}
	for _, p := range paths {
		u, err := url.ParseRequestURI(p)
		if err != nil {
			u = &url.URL{Path: p}
		}
		if got, want := escapedPath(u), u.EscapedPath(); got != want {
			t.Fatalf("escapedPath(%q) = %q, want %q", p, got, want)
		}
		// and its segments are what decoding every one gives
		gs, gr, gok := splitPath(escapedPath(u))
		ws, wr, wok := splitPathOracle(u.EscapedPath())
		if gok != wok || strings.Join(gs, "\x00") != strings.Join(ws, "\x00") || strings.Join(gr, "\x00") != strings.Join(wr, "\x00") {
			t.Fatalf("splitPath(%q) = %q %q %v, want %q %q %v", p, gs, gr, gok, ws, wr, wok)
		}
	}
}

// splitPathOracle is splitPath as it was before its unescaped fast path.
func splitPathOracle(escaped string) (segs, raws []string, ok bool) {
	if len(escaped) < 2 || escaped[0] != '/' {
		return nil, nil, false
	}
	if strings.Count(escaped, "/") > maxSegments {
		return nil, nil, false
	}
	raws = strings.Split(escaped[1:], "/")
	segs = make([]string, len(raws))
	for i, raw := range raws {
		if raw == "" {
			if i == len(raws)-1 && i > 0 {
				continue
			}
			return nil, nil, false
		}
		dec, err := url.PathUnescape(raw)
		if err != nil || dec == "" || !plainName(dec) {
			return nil, nil, false
		}
		segs[i] = dec
	}
	return segs, raws, true
}

// Every route of both tables, its parameters filled with every static
// segment of the table (so that more static paths compete) and with a
// plain value, is matched by the index as by a scan of the whole table.
func TestMatchIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, table := range [][]pattern{v1Table, v2Table} {
		ix := indexTable(table)
		values := map[string]bool{"x": true, "": true}
		for _, p := range table {
			for _, s := range p.segs {
				if s != "{}" {
					values[s] = true
				}
			}
		}
		var vals []string
		for v := range values {
			vals = append(vals, v)
		}
		for i := range table {
			for range 200 {
				segs := make([]string, len(table[i].segs))
				for j, s := range table[i].segs {
					segs[j] = s
					if s == "{}" {
						segs[j] = vals[r.IntN(len(vals))]
					}
				}
				got, gotParams := match(ix, segs, segs)
				want, wantParams := matchScan(table, segs)
				if got != want || strings.Join(gotParams, "/") != strings.Join(wantParams, "/") {
					t.Fatalf("%q: index picks %v %q, table %v %q", segs, got, gotParams, want, wantParams)
				}
			}
		}
	}
}

// matchScan is match over the whole table, as it was before the index.
func matchScan(table []pattern, segs []string) (*pattern, []string) {
	var best *pattern
	for k := range table {
		p := &table[k]
		if len(p.segs) != len(segs) {
			continue
		}
		fits := true
		for j, s := range p.segs {
			if s != "{}" && s != segs[j] {
				fits = false
				break
			}
		}
		if fits && (best == nil || moreStatic(p, best)) {
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	var params []string
	for j, s := range best.segs {
		if s == "{}" {
			params = append(params, segs[j])
		}
	}
	return best, params
}

// The by-id route of a query: its classification allocates the split
// segments, the parameters and the route's scope, nothing per segment
// (4 before the segments of a path without escapes were its raw ones).
func TestClassifyPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without -race")
	}
	u, _ := url.ParseRequestURI("/api/v2/tenants/default_tenant/databases/default_database/collections/5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77/query")
	rt := ClassifyPath(http.MethodPost, u)
	if !rt.Known || rt.Collection == "" {
		t.Fatalf("not classified: %+v", rt)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ClassifyPath(http.MethodPost, u) }); n > 3 {
		t.Fatalf("ClassifyPath allocates %v times, want at most 3", n)
	}
}

// overwriteSingletonOracle is OverwriteSingleton as it was before its
// cheap test (singletonNamed): every v2 tenant path split.
func overwriteSingletonOracle(r *http.Request, id *providers.Identity) {
	if rest, ok := singletonRest(r, id); ok {
		rewriteSingleton(r, id, rest)
	}
}

// Random v2 paths and identities: the same rewrite as splitting every
// path; and a path that names no default costs no allocation.
func TestOverwriteSingletonOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	parts := []string{DefaultTenant, DefaultDatabase, "databases", "acme", "prod", "", "x", "café", "collections"}
	ids := []*providers.Identity{
		{Tenant: "acme", Databases: []string{"prod"}}, {Tenant: "acme", Databases: []string{"a", "b"}},
		{Tenant: DefaultTenant, Databases: []string{DefaultDatabase}}, {Tenant: "café", Databases: []string{"prod db"}},
		{Tenant: "*", Databases: []string{"*"}}, {Tenant: "acme", Databases: []string{"*"}},
	}
	for range 20000 {
		p := "/api/v2/tenants/"
		for j, n := 0, r.IntN(5); j < n; j++ {
			if j > 0 {
				p += "/"
			}
			p += parts[r.IntN(len(parts))]
		}
		id := ids[r.IntN(len(ids))]
		got := &http.Request{Method: "GET", URL: &url.URL{Path: p, RawQuery: "limit=1"}}
		want := &http.Request{Method: "GET", URL: &url.URL{Path: p, RawQuery: "limit=1"}}
		OverwriteSingleton(got, id)
		overwriteSingletonOracle(want, id)
		if got.URL.Path != want.URL.Path || got.URL.RawPath != want.URL.RawPath || got.RequestURI != want.RequestURI {
			t.Fatalf("%q for %+v: %q %q %q, want %q %q %q", p, id, got.URL.Path, got.URL.RawPath, got.RequestURI, want.URL.Path, want.URL.RawPath, want.RequestURI)
		}
	}
	if raceEnabled {
		return
	}
	req := httptest.NewRequest("GET", "/api/v2/tenants/acme/databases/prod/collections/x/query", nil)
	if n := testing.AllocsPerRun(100, func() { OverwriteSingleton(req, ids[0]) }); n != 0 {
		t.Fatalf("a path naming no default: %v allocations", n)
	}
}

// AppendIndexed of the indices Visible finds is ListJSON of Page of the
// visible collections, and their count, for every window; a page takes
// one allocation.
func TestAppendIndexedOracle(t *testing.T) {
	var all []Collection
	for i := range 50 {
		name := fmt.Sprintf("team-%02d", i)
		all = append(all, Collection{ID: fmt.Sprint(i), Name: name, Raw: []byte(`{"name":"` + name + `"}`)})
	}
	for _, keep := range []func(string) bool{
		func(string) bool { return true }, func(string) bool { return false },
		func(n string) bool { return n[len(n)-1]%3 == 0 }, func(n string) bool { return n == "team-07" },
	} {
		var vis []Collection
		for _, c := range all {
			if keep(c.Name) {
				vis = append(vis, c)
			}
		}
		lst, _ := NewListingCache(time.Minute).Listing(context.Background(), "t", "d", func(context.Context) ([]Collection, error) { return all, nil })
		idx := lst.Visible(nil, keep)
		for limit := -1; limit <= 52; limit++ {
			for offset := 0; offset <= 52; offset++ {
				got, n := AppendIndexed(nil, all, idx, limit, offset)
				if want := ListJSON(Page(vis, limit, offset)); string(got) != string(want) || n != len(vis) {
					t.Fatalf("limit %d offset %d: %s (%d), want %s (%d)", limit, offset, got, n, want, len(vis))
				}
			}
		}
	}
	if raceEnabled {
		return
	}
	every := make([]int32, len(all))
	for i := range every {
		every[i] = int32(i)
	}
	if a := testing.AllocsPerRun(50, func() { _, _ = AppendIndexed(nil, all, every, -1, 0) }); a != 1 {
		t.Fatalf("a page: %v allocations, want 1", a)
	}
}
