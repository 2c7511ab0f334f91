package routes

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestNoShoalImports: routes sees only the backend interfaces it declares, never another shoal
// package (DESIGN.md: dependencies point one way, server wires the world), but for leaf packages
// of Docker's API semantics that the backends share with it.
var leafPackages = []string{"github.com/shoal-project/shoal/internal/prunefilter"}

func TestNoShoalImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/shoal-project/shoal/") && !slices.Contains(leafPackages, path) {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
