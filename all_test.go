package ftpaudit_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ftpaudit/ftpaudit"

// allowedImports is the layering of the module, for non-test code: the
// packages of the module each one may import (by path relative to the
// module; "" is the root package, "internal/ftptest/*" any test server),
// and below, which packages alone may import each third-party module.
// Dependencies point one way: the root vocabulary imports nothing, the
// walker never imports the judges, the reports, the history or the FTP
// client, and only the command line wires them together.
var allowedImports = map[string][]string{
	"":                    {},
	"internal/ascii":      {},
	"internal/ftppath":    {},
	"internal/docblock":   {},
	"internal/glob":       {"internal/ascii", "internal/ftppath"},
	"internal/listing":    {"", "internal/ascii", "internal/ftppath"},
	"internal/manifest":   {"", "internal/ftppath", "internal/listing"},
	"internal/ftpconn":    {"", "internal/ascii", "internal/ftppath", "internal/listing"},
	"internal/ftprelay":   {},
	"internal/readahead":  {},
	"internal/entrystore": {"", "internal/ftppath"},
	"internal/ftptest/*":  {""},
	"scanner":             {"", "internal/entrystore", "internal/ftppath", "internal/glob", "internal/listing", "internal/manifest"},
	"rules":               {"", "internal/ascii", "internal/ftppath", "internal/glob", "internal/manifest", "internal/readahead"},
	"report":              {""},
	"history":             {"", "internal/readahead"},
	"cmd/ftprelay":        {"internal/ftprelay"},
	"cmd/ftpaudit": {"", "internal/ftpconn", "internal/ftptest/memftp", "internal/glob", "report", "rules",
		"scanner", "history"},
}

// onlyImporters names, for third-party modules, the only packages that
// may import them.
var onlyImporters = map[string][]string{
	"github.com/jlaffaye/ftp":               {"internal/ftpconn"},
	"github.com/schollz/progressbar/v3":     {"cmd/ftpaudit"},
	"github.com/olekukonko/tablewriter":     {"report"},
	"modernc.org/sqlite":                    {"history"},
	"github.com/jackc/pgx/v5":               {"history"},
	"goftp.io/server/v2":                    {"internal/ftptest/memftp"},
	"go.yaml.in/yaml/v3":                    {"rules", "cmd/ftpaudit"},
	"github.com/ftpaudit/ftpaudit/internal": nil, // checked by allowedImports
}

func rel(p string) string {
	if p == module {
		return ""
	}
	return strings.TrimPrefix(p, module+"/")
}

func allowed(table map[string][]string, pkg string) ([]string, bool) {
	if a, ok := table[pkg]; ok {
		return a, true
	}
	for k, a := range table {
		if strings.HasSuffix(k, "/*") && strings.HasPrefix(pkg, strings.TrimSuffix(k, "*")) {
			return a, true
		}
	}
	return nil, false
}

func matches(list []string, p string) bool {
	for _, a := range list {
		if a == p || strings.HasSuffix(a, "/*") && strings.HasPrefix(p, strings.TrimSuffix(a, "*")) {
			return true
		}
	}
	return false
}

// TestDependencyDirection checks every package's non-test imports against
// allowedImports and onlyImporters. A new package must be added to the
// table, with its place in the layering.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		pkg := rel(f[0])
		n++
		allow, ok := allowed(allowedImports, pkg)
		if !ok {
			t.Errorf("package %q is not in the layering table (all_test.go)", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				if r := rel(imp); !matches(allow, r) {
					t.Errorf("%s imports %s: not allowed by the layering", path.Join("ftpaudit", pkg), path.Join("ftpaudit", r))
				}
				continue
			}
			for mod, only := range onlyImporters {
				if only == nil || imp != mod && !strings.HasPrefix(imp, mod+"/") {
					continue
				}
				if !slices.Contains(only, pkg) {
					t.Errorf("%s imports %s: only %v may", path.Join("ftpaudit", pkg), imp, only)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("go list gave %d packages", n)
	}
}
