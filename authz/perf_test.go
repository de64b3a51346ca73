package authz

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
	for range 200000 {
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

// Every route of both tables, classified by the index, is the pattern the
// whole table picks.
func TestMatchIndex(t *testing.T) {
	for _, table := range [][]pattern{v1Table, v2Table} {
		ix := indexTable(table)
		for i := range table {
			segs := make([]string, len(table[i].segs))
			for j, s := range table[i].segs {
				segs[j] = s
				if s == "{}" {
					segs[j] = "x" + strings.Repeat("y", j)
				}
			}
			got, _ := match(ix, segs, segs)
			var want *pattern
			for k := range table {
				p := &table[k]
				if len(p.segs) != len(segs) {
					continue
				}
				fits := true
				for j, s := range p.segs {
					if s != "{}" && s != segs[j] {
						fits = false
					}
				}
				if fits && (want == nil || moreStatic(p, want)) {
					want = p
				}
			}
			if got != want {
				t.Fatalf("%v: index picks %v, table %v", table[i].segs, got.segs, want.segs)
			}
		}
	}
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
