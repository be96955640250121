package components

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

const (
	componentsPath = "github.com/virdx/vxplatform-infra/components"
	stacksPath     = "github.com/virdx/vxplatform-infra/stacks"
)

// identityFields are the parts of stacks.Environment that say which kind of
// environment it is, directly or by the stack name it follows from.
var identityFields = map[string]bool{"StackIdentity": true, "Kind": true, "Sensitive": true, "Stack": true, "PRNumber": true}

var comparisons = map[token.Token]bool{token.EQL: true, token.NEQ: true, token.LSS: true, token.LEQ: true, token.GTR: true, token.GEQ: true}

// TestComponentsNeverReadTheEnvironmentKind: every decision that depends on the
// kind of environment is made in package stacks and reaches components as a
// field of stacks.Environment. The check type-checks the package, so that no
// alias, local variable, dot import or method value gets past it.
func TestComponentsNeverReadTheEnvironmentKind(t *testing.T) {
	for _, v := range kindReads(t, componentSources(t)) {
		t.Error(v)
	}
}

// TestKindCheckCatchesEveryWayIn feeds the check one extra file per way of
// reading the kind, so that the check above cannot pass by seeing nothing.
func TestKindCheckCatchesEveryWayIn(t *testing.T) {
	const stacksImport = `import "` + stacksPath + `"` + "\n"
	tests := []struct {
		name string
		src  string
		want int // violations in the extra file; 0 for the control
	}{
		{"kind field", stacksImport + `func f(env stacks.Environment) bool { return env.Kind == "preview" }`, 3},
		{"kind constant", stacksImport + `var k = stacks.KindPreview`, 1},
		{"kind method", stacksImport + `func f(env stacks.Environment) bool { return env.Kind.Persistent() }`, 2},
		{"kind through a local variable", stacksImport + `func f(env stacks.Environment) bool { k := env.Kind; return k.Sensitive() }`, 3},
		{"alias of the kind type", stacksImport + `type kind = stacks.Kind` + "\n" + `func f(k kind) string { return string(k) }`, 3},
		{"embedded identity", stacksImport + `func f(env stacks.Environment) int { id := env.StackIdentity; return id.PRNumber }`, 2},
		{"sensitivity", stacksImport + `func f(env stacks.Environment) bool { return env.Sensitive }`, 1},
		{"stack name", stacksImport + `func f(env stacks.Environment) bool { return env.Stack == "production" }`, 1},
		{"pull request number", stacksImport + `func f(env stacks.Environment) bool { return env.PRNumber > 0 }`, 1},
		{"instance compared", stacksImport + `func f(env stacks.Environment) bool { return env.Instance() != "staging" }`, 1},
		{"instance switched on", stacksImport + `func f(env stacks.Environment) int { switch env.Instance() { case "public": return 1 }; return 0 }`, 1},
		{"instance inspected", stacksImport + `import "strings"` + "\n" + `func f(env stacks.Environment) bool { return strings.HasPrefix(env.Instance(), "pr-") }`, 1},
		{"stack name parsed", stacksImport + `func f(env stacks.Environment) { _, _ = stacks.ParseStackName(env.Instance()) }`, 1},
		{"renamed import", `import s "` + stacksPath + `"` + "\n" + `var k = s.KindPublic`, 1},
		{"control: fields the model decided", stacksImport + `func f(env stacks.Environment) (string, bool) { return env.Namespace + env.Instance(), env.HasWorkloads }`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := componentSources(t)
			const extra = "zz_extra.go"
			files[extra] = "package components\n" + tt.src + "\n"
			var got []string
			for _, v := range kindReads(t, files) {
				if strings.HasPrefix(v, extra+":") {
					got = append(got, v)
				} else {
					t.Errorf("violation outside the extra file: %s", v)
				}
			}
			if len(got) != tt.want {
				t.Errorf("%d violations, want %d:\n%s", len(got), tt.want, strings.Join(got, "\n"))
			}
		})
	}
}

// componentSources are the package's non-test files by name.
func componentSources(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(src)
	}
	if len(files) < 10 {
		t.Fatalf("only %d component files found: %v", len(files), names)
	}
	return files
}

// kindReads type-checks the files as package components and lists every place
// that reads the environment kind, as "file:line: what".
func kindReads(t *testing.T, files map[string]string) []string {
	t.Helper()
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, name := range sortedKeys(files) {
		f, err := parser.ParseFile(fset, name, files[name], 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	imp := exportDataImporter(t, fset)
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	if _, err := (&types.Config{Importer: imp}).Check(componentsPath, fset, parsed, info); err != nil {
		t.Fatalf("type-checking components: %v", err)
	}
	stacksPkg, err := imp.Import(stacksPath)
	if err != nil {
		t.Fatal(err)
	}
	kindType := stacksPkg.Scope().Lookup("Kind").Type()

	var found []string
	report := func(pos token.Pos, format string, args ...any) {
		p := fset.Position(pos)
		found = append(found, fmt.Sprintf("%s:%d: %s", p.Filename, p.Line, fmt.Sprintf(format, args...)))
	}
	for expr, tv := range info.Types {
		if tv.Type != nil && types.Identical(tv.Type, kindType) {
			report(expr.Pos(), "%s is a stacks.Kind", types.ExprString(expr))
		}
	}
	for ident, obj := range info.Uses {
		if obj.Pkg() == nil || obj.Pkg().Path() != stacksPath {
			continue
		}
		switch obj := obj.(type) {
		case *types.Var:
			if obj.IsField() && identityFields[obj.Name()] {
				report(ident.Pos(), "reads %s, which says which kind of environment this is", obj.Name())
			}
		case *types.Func:
			if obj.Name() == "ParseStackName" {
				report(ident.Pos(), "parses a stack name")
			}
		}
	}
	isInstance := func(e ast.Expr) bool {
		call, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok {
			return false
		}
		sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return false
		}
		fn, ok := info.Uses[sel.Sel].(*types.Func)
		return ok && fn.Pkg().Path() == stacksPath && fn.Name() == "Instance"
	}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if comparisons[n.Op] && (isInstance(n.X) || isInstance(n.Y)) {
					report(n.Pos(), "compares the stack name (Instance)")
				}
			case *ast.SwitchStmt:
				if n.Tag != nil && isInstance(n.Tag) {
					report(n.Pos(), "switches on the stack name (Instance)")
				}
			case *ast.CallExpr:
				if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
					if fn, ok := info.Uses[sel.Sel].(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == "strings" {
						for _, arg := range n.Args {
							if isInstance(arg) {
								report(n.Pos(), "inspects the stack name (Instance) with strings.%s", fn.Name())
							}
						}
					}
				}
			}
			return true
		})
	}
	sort.Strings(found)
	return found
}

// exportDataImporter imports the packages components depends on from the
// compiler's export data, which `go list -export` produces (from the build cache
// when the package was built already).
func exportDataImporter(t *testing.T, fset *token.FileSet) types.Importer {
	t.Helper()
	exports, err := exportFiles()
	if err != nil {
		t.Fatal(err)
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
}

// exportFiles maps each dependency's import path to its export data file.
var exportFiles = sync.OnceValues(func() (map[string]string, error) {
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}", ".").Output()
	if err != nil {
		var stderr []byte
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = exit.Stderr
		}
		return nil, fmt.Errorf("go list -export: %v\n%s", err, stderr)
	}
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, _ := strings.Cut(line, "\t")
		exports[path] = file
	}
	return exports, nil
})

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
