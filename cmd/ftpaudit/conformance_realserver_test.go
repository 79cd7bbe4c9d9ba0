package main

// The conformance table of docs/conformance.md, generated from what the
// real servers (testdata/realservers) show to scans: per server and
// version, how the walk lists it, what it shows of hidden names, MLSD
// facts and symlinks, how it answers for an unreadable directory, whether
// recursive LIST and STAT are used, and which writable directories a
// passive scan finds of those the probe proves. Under
// FTPAUDIT_REQUIRE_REAL=1 (CI) a table out of step with the servers fails;
// -update-docs rewrites it:
//
//	go test ./cmd/ftpaudit -run TestRealServersConformance -update-docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit/internal/docblock"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/realserver"
)

// serverVersions reads the versions setup.sh records (NAME=VERSION).
func serverVersions(t *testing.T) map[string]string {
	t.Helper()
	prefix := os.Getenv("FTPAUDIT_SERVERS_PREFIX")
	if prefix == "" {
		prefix = "/opt/ftpaudit-servers"
	}
	f, err := os.Open(filepath.Join(prefix, "versions"))
	if err != nil {
		t.Fatalf("server versions (written by testdata/realservers/setup.sh): %v", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out
}

// conformanceRow is one server's row.
func conformanceRow(t *testing.T, name, version, url, dir string) string {
	t.Helper()
	// One connection: which form lists which directory does not depend
	// on which session gets there first (the dialect check runs while
	// other sessions use the CWD form, which inetutils answers with 550
	// where its LIST gives an error in the data).
	doc, _, _ := rawScan(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", "1", url+"/")
	h := doc["hosts"].([]any)[0].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	dialect, _ := h["dialect"].(map[string]any)
	form := str(dialect, "list_form")
	if r, _ := dialect["refused"].([]any); len(r) > 0 && form != "LIST -a PATH" {
		form += " (LIST -a PATH refused)"
	}
	hidden := str(dialect, "hidden_names")
	mlsd := "no"
	for _, f := range h["features"].([]any) {
		if strings.HasPrefix(strings.ToUpper(f.(string)), "MLST") {
			mlsd = "yes"
		}
	}
	if facts := str(dialect, "mlst_facts"); facts != "" {
		mlsd = "yes; OPTS MLST " + strings.TrimSuffix(facts, ";")
	}
	types := map[string]string{}
	for _, e := range doc["entries"].([]any) {
		m := e.(map[string]any)
		types[str(m, "path")] = str(m, "type")
	}
	var links string
	switch {
	case types["/pub-link"] == "link" && mlsd != "no":
		links = "links (MLSD follows them; LIST shows them)"
		if !slices.ContainsFunc(anySlice(h["notes"]), func(n any) bool {
			return strings.Contains(str(n.(map[string]any), "error"), "MLSD and LIST -a disagree") && strings.Contains(str(n.(map[string]any), "error"), "link")
		}) {
			links = "links"
		}
	case types["/pub-link"] == "link":
		links = "links"
	case types["/pub-link"] == "dir":
		links = "followed: shown as their targets"
	default:
		links = "not shown"
	}
	unreadable := "-"
	for _, u := range anySlice(h["unreadable"]) {
		m := u.(map[string]any)
		if str(m, "path") != "/noperm" {
			continue
		}
		e := str(m, "error")
		switch {
		case strings.Contains(e, "listing's data is an error message"):
			unreadable = "226, error text in the data"
		case strings.HasPrefix(e, "5"):
			unreadable = e[:3] + " reply"
		case strings.HasPrefix(e, "4"):
			unreadable = e[:3] + " reply"
		default:
			unreadable = "success without a listing"
		}
	}
	tree := "-"
	if r, ok := h["recursive_listing"].(map[string]any); ok {
		tree = str(r, "state")
	}
	stat := "not used"
	if s, ok := h["stat_listing"].(map[string]any); ok && s["used"] == true {
		stat = "used"
	}
	// Writable directories: a passive scan against the probe's proof.
	writable := func(d map[string]any) []string {
		var out []string
		for _, f := range d["findings"].([]any) {
			m := f.(map[string]any)
			if r := str(m, "rule"); r == "writable-dir" || r == "dropbox-dir" {
				out = append(out, str(m, "path"))
			}
		}
		slices.Sort(out)
		return out
	}
	passive := writable(doc)
	before := diskPaths(t, dir)
	probed, _, _ := rawScan(t, "scan", "--probe", "--format", "json", "--quiet", url+"/")
	for p := range diskPaths(t, dir) {
		if !before[p] {
			_ = os.RemoveAll(filepath.Join(dir, p)) // canaries the server would not let the probe remove
		}
	}
	proven := writable(probed)
	found := 0
	for _, p := range proven {
		if slices.Contains(passive, p) {
			found++
		}
	}
	complete := "yes"
	if h["complete"] != true {
		var why []string
		for _, r := range anySlice(h["incomplete"]) {
			why = append(why, r.(string))
		}
		complete = "no: " + strings.Join(why, "; ")
	}
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d of %d | %s |\n",
		name, cell(version), cell(form), hidden, cell(mlsd), links, unreadable, tree, stat, found, len(proven), cell(complete))
}

func anySlice(v any) []any { s, _ := v.([]any); return s }

func TestRealServersConformance(t *testing.T) {
	versions := serverVersions(t)
	var b strings.Builder
	b.WriteString("| server | version | LIST form | hidden names | MLSD | symlinks | unreadable directory | recursive LIST | STAT | writable dirs found passively | complete |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	servers := realserverSorted(t)
	for _, srv := range servers {
		b.WriteString(conformanceRow(t, srv.Name, versions[strings.TrimSuffix(srv.Name, "-nomlsd")], srv.URL, srv.Dir))
	}
	if err := docblock.Sync("../../docs/conformance.md", "conformance", b.String(), *updateDocs); err != nil {
		t.Errorf("%v\nthe servers show:\n%s", err, b.String())
	}
}

// realserverSorted is listServers in a fixed order: the table's rows.
func realserverSorted(t *testing.T) []realserver.Server {
	t.Helper()
	s := listServers(t)
	slices.SortFunc(s, func(a, b realserver.Server) int { return strings.Compare(a.Name, b.Name) })
	return s
}
