package contract

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// source is the parsed non-test Go files of one directory of the
// repository.
type source struct {
	fset  *token.FileSet
	files map[string]*ast.File // by base name
}

func parseDir(t *testing.T, dir string) *source {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	s := &source{fset: token.NewFileSet(), files: map[string]*ast.File{}}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(s.fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		s.files[filepath.Base(n)] = f
	}
	if len(s.files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return s
}

// parseDirs is the parsed non-test Go files of several directories as
// one source (a package's code split into packages of their own).
func parseDirs(t *testing.T, dirs ...string) *source {
	t.Helper()
	out := &source{fset: token.NewFileSet(), files: map[string]*ast.File{}}
	for _, dir := range dirs {
		names, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(out.fset, n, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			out.files[filepath.ToSlash(filepath.Join(dir, filepath.Base(n)))] = f
		}
	}
	return out
}

// handlerDirs are the packages of the handler's request path: the root
// (the Caddy adapter) and the packages it answers, counts and logs
// through.
var handlerDirs = []string{".", "audit", "metrics", "admission", "rowsproxy"}

// stringConsts are the string constants of the package (also those
// declared inside functions) whose name starts with prefix, by value.
// A constant that is another package's constant (authz.ReasonMissing) is
// resolved through other.
func (s *source) stringConsts(prefix string, other map[string]*source) map[string]bool {
	out := map[string]bool{}
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, prefix) || i >= len(vs.Values) {
					continue
				}
				if v, ok := constValue(vs.Values[i], other); ok {
					out[v] = true
				}
			}
			return true
		})
	}
	return out
}

// constValue is the value of a string literal, or of pkg.Name where other
// has pkg's source.
func constValue(e ast.Expr, other map[string]*source) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind == token.STRING {
			s, err := strconv.Unquote(v.Value)
			return s, err == nil
		}
	case *ast.SelectorExpr:
		pkg, ok := v.X.(*ast.Ident)
		if !ok || other[pkg.Name] == nil {
			return "", false
		}
		for _, f := range other[pkg.Name].files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, sp := range gd.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if n.Name == v.Sel.Name && i < len(vs.Values) {
							return constValue(vs.Values[i], nil)
						}
					}
				}
			}
		}
	}
	return "", false
}

// calls visits every call in the package.
func (s *source) calls(visit func(file string, call *ast.CallExpr)) {
	for name, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				visit(name, c)
			}
			return true
		})
	}
}

// callName is the name a call is made by: "f" for f(...), "Sel" for
// x.Sel(...).
func callName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// literal is the value of a string literal expression.
func literal(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

// caseLabels are the string labels of every switch case in the package.
func (s *source) caseLabels() map[string]bool {
	out := map[string]bool{}
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if v, ok := literal(e); ok {
						out[v] = true
					}
				}
			}
			return true
		})
	}
	return out
}
