package chromaauth

import (
	"net/http"
	"testing"
)

// auditAllocs is what the bench's audited request (a token, its line
// written to a file) allocates, counted exactly: the handler's two (the
// placeholders' provider), the status writer (one allocation with its
// wrapper), the line (audit.lineObject: its fields, handed to zap as one
// inline field), and Caddy's five for {http.request.uuid} (its holder,
// the UUID, its text, the text as a value, the access log fields' cleared
// handler map). The decision and the route (remembered:
// authz.ClassifyPath) allocate nothing. Before issue 26's work: 14.
const auditAllocs = 9

// TestAuditAllocs: the audited request allocates auditAllocs times (run
// without -race, as make unit's Alloc pass does).
func TestAuditAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without -race")
	}
	var p hotPath
	for _, hp := range hotPaths {
		if hp.name == "audit-to-a-file" {
			p = hp
		}
	}
	_, serve := p.setup(t)
	for range 3 { // warm: the pools, the remembered route
		if code := serve(); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	got := testing.AllocsPerRun(200, func() {
		if serve() != http.StatusOK {
			panic("refused")
		}
	})
	if got != auditAllocs {
		t.Fatalf("%v allocations per audited request, want %v", got, float64(auditAllocs))
	}
}
