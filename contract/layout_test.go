package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	chromaauth "github.com/caddy-chroma-auth/caddy-chroma-auth"
)

// TestReadmeLayoutNamesFilesThatExist: every file and folder the
// Development section's layout names exists.
func TestReadmeLayoutNamesFilesThatExist(t *testing.T) {
	sec := section(t, readme(t), "## Development")
	i := strings.Index(sec, "Layout:")
	if i < 0 {
		t.Fatal("README's Development section has no Layout: paragraph")
	}
	para, _, _ := strings.Cut(sec[i:], "\n\n")
	n := 0
	for _, s := range spans(para) {
		if !strings.HasSuffix(s, ".go") && !strings.HasSuffix(s, "/") && !strings.Contains(s, "/") {
			continue
		}
		n++
		if _, err := os.Stat(filepath.Join("..", s)); err != nil {
			t.Errorf("README's layout names %s, which does not exist", s)
		}
	}
	if n < 5 {
		t.Fatalf("README's layout names only %d paths: the scan is broken", n)
	}
}

// TestReadmeJSONExampleLoads: the JSON of the handler in "### JSON" has
// only fields the handler knows.
func TestReadmeJSONExampleLoads(t *testing.T) {
	sec := section(t, readme(t), "### JSON")
	blocks := fences(sec, "json")
	if len(blocks) == 0 {
		t.Fatal("README's JSON section has no json block")
	}
	dec := json.NewDecoder(strings.NewReader(blocks[0]))
	dec.DisallowUnknownFields()
	var h struct {
		Handler string `json:"handler"`
		chromaauth.ChromaAuth
	}
	if err := dec.Decode(&h); err != nil {
		t.Fatalf("README's JSON example does not decode into the handler: %v", err)
	}
	if h.Handler != "chroma_auth" || h.HtpasswdFile == "" {
		t.Fatalf("README's JSON example: %+v", h)
	}
}
