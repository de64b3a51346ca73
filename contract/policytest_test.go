package contract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

// TestReadmePolicyCasesLoad: the cases file the README shows is one
// `caddy chroma-auth test` reads.
func TestReadmePolicyCasesLoad(t *testing.T) {
	sec := section(t, readme(t), "## Explaining and testing the policy: `explain` and `test`")
	n := 0
	for _, y := range fences(sec, "yaml") {
		if !strings.HasPrefix(y, "cases:") {
			continue
		}
		n++
		path := filepath.Join(t.TempDir(), "cases.yaml")
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("BOB_TOKEN", "bob-token")
		cases, err := cli.LoadCases(path)
		if err != nil {
			t.Errorf("the README's cases file does not load: %v", err)
		} else if len(cases) < 2 {
			t.Errorf("the README's cases file has %d case(s)", len(cases))
		}
	}
	if n != 1 {
		t.Fatalf("found %d cases files in the README section", n)
	}
}
