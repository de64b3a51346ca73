package contract

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rootImport is the import path of the root package, the Caddy adapter.
const rootImport = "github.com/caddy-chroma-auth/caddy-chroma-auth"

// mayImportRoot are the directories whose non-test code may import the
// root package: the binary, and the end-to-end and benchmark modules and
// tools that build it as users do. Everything else the root uses, it
// imports: a package that imported the root would call back into the
// adapter (and could not be used by cli/ without it).
var mayImportRoot = map[string]bool{"cmd/caddy": true}

// TestNoPackageImportsTheRoot: no package of the module but cmd/caddy
// imports the root package (tests aside; e2e/ and bench/ build the binary).
func TestNoPackageImportsTheRoot(t *testing.T) {
	fset := token.NewFileSet()
	scanned := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case rel == "e2e", rel == "bench", strings.HasPrefix(rel, "."), strings.HasSuffix(rel, "node_modules"), rel == "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		scanned++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == rootImport && !mayImportRoot[filepath.ToSlash(filepath.Dir(rel))] {
				t.Errorf("%s imports the root package %s: only cmd/caddy may; move what it needs out of the root (see config/)", rel, rootImport)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d Go files: the walk is broken", scanned)
	}
}

// TestNoPackageImportsTheRootCatches: the check above sees an import of
// the root where there is one (cmd/caddy's).
func TestNoPackageImportsTheRootCatches(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "cmd", "caddy", "main.go"), nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == rootImport {
			return
		}
	}
	t.Fatal("cmd/caddy/main.go does not import the root package: the check's import path is wrong")
}

// maxRootFiles bounds the root package: the Caddy adapter (config,
// Provision, ServeHTTP and the steps it reads in, glue), no more. What
// is not Caddy glue lives in a package with one job.
const maxRootFiles = 10

// TestRootHasAtMostTenSourceFiles: the root package has at most
// maxRootFiles non-test Go files.
func TestRootHasAtMostTenSourceFiles(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("..", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var src []string
	for _, n := range names {
		if !strings.HasSuffix(n, "_test.go") {
			src = append(src, filepath.Base(n))
		}
	}
	if len(src) == 0 {
		t.Fatal("no Go files in the root: the glob is broken")
	}
	if len(src) > maxRootFiles {
		t.Errorf("the root package has %d source files, more than %d: %s; move what is not Caddy glue into a package of its own", len(src), maxRootFiles, strings.Join(src, ", "))
	}
}
