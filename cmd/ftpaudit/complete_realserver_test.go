package main

// "Complete" is a proof (issue 13, items 1-4 and 8): a host is complete
// only if every directory the server shows was listed, shown by the
// server itself to be unlistable, or is provably the same directory as
// one listed; anything else is named in not_listed and costs completeness
// unless the policy accepts it.
//
// The anonymous uploader's layouts run on the real servers (started by
// testdata/realservers/start.sh, named by FTPAUDIT_REAL_SERVERS, plus
// pyftpdlib without MLSD when it runs; skipped without them unless
// FTPAUDIT_REQUIRE_REAL=1): the directories and files
// are made with anonymous MKD and STOR in the archive's writable upload
// area (/writable), or planted on disk; then, as root, the test gives the
// directories the same time, so that their listings collide for certain,
// and removes everything afterwards. The rest runs on the scripted fault
// server.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/realserver"
)

// completeDoc is the part of the v1 JSON these tests read.
type completeDoc struct {
	Hosts []struct {
		Complete   bool               `json:"complete"`
		Incomplete []string           `json:"incomplete"`
		Errors     []faultPathError   `json:"errors"`
		Unreadable []faultPathError   `json:"unreadable"`
		Notes      []faultPathError   `json:"notes"`
		NotListed  []completeUnlisted `json:"not_listed"`
	} `json:"hosts"`
	Entries []struct {
		Path    string `json:"path"`
		PathB64 string `json:"path_b64"`
		Type    string `json:"type"`
		Mode    string `json:"mode"`
	} `json:"entries"`
	Findings []jsonFinding `json:"findings"`
}

type completeUnlisted struct {
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	Reason   string `json:"reason"`
	Accepted *struct {
		Glob   string `json:"glob"`
		Reason string `json:"reason"`
		Kind   string `json:"kind"`
	} `json:"accepted"`
}

// scanComplete runs ftpaudit with args and decodes its JSON (one host).
func scanComplete(t *testing.T, args ...string) (*completeDoc, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, nil, &out, &errb)
	var doc completeDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Hosts) != 1 {
		t.Fatalf("ftpaudit %q: exit %d, %d hosts, %v\nstderr: %s", args, code, len(doc.Hosts), err, errb.String())
	}
	return &doc, code
}

// entryTypes maps every inventory path to its type.
func (d *completeDoc) entryTypes(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, e := range d.Entries {
		m[exactPath(t, e.Path, e.PathB64)] = e.Type
	}
	return m
}

// notListed returns the host's not_listed entry for path, or nil.
func (d *completeDoc) notListed(path string) *completeUnlisted {
	for i, u := range d.Hosts[0].NotListed {
		if u.Path == path {
			return &d.Hosts[0].NotListed[i]
		}
	}
	return nil
}

// anonUpload makes dirs (in order) and files (one byte each) on srv as an
// anonymous user, with MKD and STOR, and removes the first directory from
// the disk when the test ends.
func anonUpload(t *testing.T, srv realserver.Server, dirs, files []string) {
	t.Helper()
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(srv.Dir, dirs[0])) })
	c, err := ftp.Dial(strings.TrimPrefix(srv.URL, "ftp://"), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("anonymous", "test@"); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := c.MakeDir(d); err != nil {
			t.Fatalf("%s: anonymous MKD %s: %v", srv.Name, d, err)
		}
	}
	for _, f := range files {
		if err := c.Stor(f, strings.NewReader("x")); err != nil {
			t.Fatalf("%s: anonymous STOR %s: %v", srv.Name, f, err)
		}
	}
}

// sameTime gives the archive paths (on disk, below srv.Dir) one
// modification time, so that their listings show the same minute.
func sameTime(t *testing.T, srv realserver.Server, paths ...string) {
	t.Helper()
	when := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	for _, p := range paths {
		if err := os.Chtimes(filepath.Join(srv.Dir, p), when, when); err != nil {
			t.Fatal(err)
		}
	}
}

// completeModes are the listing modes every layout is scanned in: the
// defaults (STAT where it is proven, LIST -aR where the server has it),
// LIST over data connections (where vsftpd shows an unreadable directory
// as itself), and every directory on its own (MLSD with LIST -a).
var completeModes = [][]string{nil, {"--no-stat"}, {"--no-recursive-list"}, {"--no-stat", "--no-recursive-list"}}

// scanLayout scans start on srv in every mode and checks that the
// inventory holds want, that the host is complete and that not_listed
// names nothing at or below under.
func scanLayout(t *testing.T, srv realserver.Server, start, under string, want ...string) {
	t.Helper()
	for _, mode := range completeModes {
		args := append([]string{"scan", "--inventory", "--format", "json", "--quiet"}, mode...)
		doc, code := scanComplete(t, append(args, srv.URL+start)...)
		h := doc.Hosts[0]
		types := doc.entryTypes(t)
		for _, p := range want {
			if _, ok := types[p]; !ok {
				t.Errorf("%s %q: inventory lacks %s", srv.Name, mode, p)
			}
		}
		if !h.Complete || code == exitIncomplete {
			t.Errorf("%s %q: exit %d, complete=%v %q\nnot_listed %+v", srv.Name, mode, code, h.Complete, h.Incomplete, h.NotListed)
		}
		for _, u := range h.NotListed {
			if u.Path == under || strings.HasPrefix(u.Path, under+"/") {
				t.Errorf("%s %q: not_listed names %+v", srv.Name, mode, u)
			}
		}
	}
}

// Item 1, the anonymous uploader's version: two anonymous MKDs and an
// upload make /writable/u/u, whose parent lists only itself (vsftpd's
// answer for an unreadable directory, by its shape). Its content must be
// listed, and the host complete.
func TestRealServersListsOnlyItself(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			n := fmt.Sprintf("u%d", time.Now().UnixNano()%1e9)
			u, uu := "/writable/"+n, "/writable/"+n+"/"+n
			anonUpload(t, srv, []string{u, uu}, []string{uu + "/keygen.exe", uu + "/release.nfo"})
			sameTime(t, srv, u, uu)
			// The layout lists as the issue says: /writable/u holds only
			// u, with its own attributes.
			lines := rawList(t, srv, u)
			if len(lines) != 1 || !strings.HasSuffix(lines[0], " "+n) {
				t.Fatalf("LIST -a %s: %q, want one line: the directory itself", u, lines)
			}
			scanLayout(t, srv, "/writable", u, uu, uu+"/keygen.exe", uu+"/release.nfo")
			// The listable upload directory is judged as such.
			doc, _ := scanComplete(t, "scan", "--format", "json", "--quiet", "--no-stat", srv.URL+"/writable")
			if !slices.ContainsFunc(doc.Findings, func(f jsonFinding) bool { return f.Path == uu+"/keygen.exe" && f.Rule == "suspicious-name" }) {
				t.Errorf("%s/keygen.exe not flagged: %+v", uu, doc.Findings)
			}
		})
	}
}

// Item 1 as the issue found it: `mkdir -p pub/gnu/gnu` on disk, a
// tarball and a planted keygen.exe inside, scanned from the start
// directory /pub/gnu (its listing: one entry, itself).
func TestRealServersPlantedMkdirP(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			n := fmt.Sprintf("gnu%d", time.Now().UnixNano()%1e9)
			top := filepath.Join(srv.Dir, "pub", n)
			t.Cleanup(func() { _ = os.RemoveAll(top) })
			if err := os.MkdirAll(filepath.Join(top, n), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"tool-1.0.tar.gz", "keygen.exe"} {
				if err := os.WriteFile(filepath.Join(top, n, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			g, gg := "/pub/"+n, "/pub/"+n+"/"+n
			sameTime(t, srv, g, gg)
			scanLayout(t, srv, g, g, gg, gg+"/tool-1.0.tar.gz", gg+"/keygen.exe")
			scanLayout(t, srv, "/pub", g, gg+"/keygen.exe")
		})
	}
}

// The server's own unreadable directories stay unreadable (and cost
// nothing) now that a listing of only itself is proven first: vsftpd's
// /bin (d--x--x--x) lists as itself, then /bin/bin fails.
func TestRealServersUnreadableStaysUnreadable(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			doc, code := scanComplete(t, "scan", "--inventory", "--format", "json", "--quiet", "--no-stat", "--no-recursive-list", srv.URL+"/")
			h := doc.Hosts[0]
			if !h.Complete || code != exitFindings {
				t.Fatalf("exit %d complete=%v %q %+v", code, h.Complete, h.Incomplete, h.NotListed)
			}
			types := doc.entryTypes(t)
			for _, d := range []string{"/bin", "/etc", "/noperm", "/private"} {
				if u := doc.notListed(d); u == nil || u.Kind != "unreadable-by-server" {
					t.Errorf("%s: not_listed %+v, want unreadable-by-server", d, u)
				}
				if _, ok := types[d+d]; ok {
					t.Errorf("the phantom %s%s is in the inventory", d, d)
				}
			}
			if srv.Name == "vsftpd" {
				if u := doc.notListed("/bin"); u == nil || !strings.Contains(u.Reason, "lists only itself, and listing /bin/bin failed: 226 Transfer done (but failed to open directory)") {
					t.Errorf("/bin: %+v", u)
				}
			}
		})
	}
}

// Item 2, the anonymous uploader's version: three MKDs and two one-byte
// files make /writable/v and /writable/v/v list alike (a one-byte a and
// a directory v, the same minute). A listing like an ancestor's proves no
// loop: /writable/v/v/v/x.nfo must be listed, in every listing mode.
func TestRealServersCollidingListings(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			n := fmt.Sprintf("v%d", time.Now().UnixNano()%1e9)
			v := "/writable/" + n
			vv, vvv := v+"/"+n, v+"/"+n+"/"+n
			anonUpload(t, srv, []string{v, vv, vvv}, []string{v + "/a", vv + "/a", vvv + "/x.nfo"})
			sameTime(t, srv, v, vv, vvv, v+"/a", vv+"/a")
			a, b := rawList(t, srv, v), rawList(t, srv, vv)
			if !slices.Equal(a, b) || len(a) != 2 {
				t.Fatalf("the listings do not collide:\n%s: %q\n%s: %q", v, a, vv, b)
			}
			// From the root, so that the recursive listings (proftpd,
			// pure-ftpd, inetutils) cover both colliding directories as
			// well.
			scanLayout(t, srv, "/", v, vvv, vvv+"/x.nfo")
		})
	}
}

// rawList is the LIST -a lines of dir on srv, without "." and "..".
func rawList(t *testing.T, srv realserver.Server, dir string) []string {
	t.Helper()
	c, err := ftp.Dial(strings.TrimPrefix(srv.URL, "ftp://"), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("anonymous", "test@"); err != nil {
		t.Fatal(err)
	}
	es, err := c.List(dir)
	if err != nil {
		t.Fatalf("LIST %s: %v", dir, err)
	}
	var out []string
	for _, e := range es {
		if e.Name == "." || e.Name == ".." {
			continue
		}
		out = append(out, fmt.Sprintf("%v %d %s %s", e.Type, e.Size, e.Time.Format(time.RFC3339), e.Name))
	}
	return out
}

// Item 8 on the real servers: a start directory that does not exist (an
// empty success on vsftpd and pure-ftpd), a file given as the start, and
// a start the server refuses to list are never complete.
func TestRealServersStartNotListed(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			for _, c := range []struct{ start, why string }{
				{"/pub/no-such-directory", ""},
				{"/README.txt", ""},
				{"/pub/docs/guide.txt", ""},
				{"/bin", ""},
				{"/noperm", ""},
			} {
				doc, code := scanComplete(t, "scan", "--inventory", "--format", "json", "--quiet", "--retries", "1", srv.URL+c.start)
				h := doc.Hosts[0]
				if h.Complete || code != exitIncomplete {
					t.Errorf("start %s: exit %d, complete=%v: no root listing, no complete", c.start, code, h.Complete)
				}
				if doc.notListed(c.start) == nil || !slices.ContainsFunc(h.Incomplete, func(s string) bool { return strings.HasPrefix(s, "start directory "+c.start) }) {
					t.Errorf("start %s: incomplete %q, not_listed %+v", c.start, h.Incomplete, h.NotListed)
				}
			}
			// A real start directory, empty or not, is complete.
			for _, start := range []string{"/pub", "/pub/empty", "/empty"} {
				doc, code := scanComplete(t, "scan", "--inventory", "--format", "json", "--quiet", srv.URL+start)
				if !doc.Hosts[0].Complete || code == exitIncomplete {
					t.Errorf("start %s: exit %d, %q", start, code, doc.Hosts[0].Incomplete)
				}
			}
		})
	}
}

// faultComplete starts a fault server with opt, scans it from start with
// the fault suite's arguments and extra ones, and decodes the JSON.
func faultComplete(t *testing.T, opt faultftp.Options, start string, extra ...string) (*completeDoc, int) {
	t.Helper()
	srv, err := faultftp.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	args := append(append(slices.Clone(faultArgs), extra...), srv.URL(start))
	return scanComplete(t, args...)
}

// vsftpdTree is a tree served the way vsftpd serves it: an unreadable
// directory lists as itself, and listing below it fails with 226.
func vsftpdTree(m map[string][]faultftp.Entry, unreadable ...string) faultftp.Options {
	return faultftp.Options{Tree: faultftp.Map(m), Script: faultftp.Script{Transfer: func(tr *faultftp.Transfer) {
		for _, u := range unreadable {
			if tr.Dir == u+"/"+filepath.Base(u) {
				tr.Data, tr.Final = nil, "226 Transfer done (but failed to open directory).\r\n"
			}
		}
	}}}
}

// Item 1 on the scripted server, over the wire.
func TestFaultListsOnlyItself(t *testing.T) {
	bin := faultftp.Entry{Name: "bin", Dir: true, Perm: 0o111}
	u := faultftp.Entry{Name: "u", Dir: true, Owner: "ftp", Group: "ftp"}
	up := faultftp.Entry{Name: "upload", Dir: true, Perm: 0o777}
	m := map[string][]faultftp.Entry{
		"/":              {bin, up},
		"/bin":           {bin},
		"/bin/bin":       {},
		"/upload":        {u},
		"/upload/u":      {u},
		"/upload/u/u":    {faultftp.File("keygen.exe", 9)},
		"/upload/u/u/no": {},
	}
	doc, code := faultComplete(t, vsftpdTree(m, "/bin"), "/")
	h := doc.Hosts[0]
	types := doc.entryTypes(t)
	if types["/upload/u/u/keygen.exe"] != "file" || types["/upload/u/u"] != "dir" {
		t.Errorf("inventory %v", types)
	}
	if _, ok := types["/bin/bin"]; ok {
		t.Error("the phantom /bin/bin is in the inventory")
	}
	if u := doc.notListed("/bin"); u == nil || u.Kind != "unreadable-by-server" || !strings.Contains(u.Reason, "failed to open") {
		t.Errorf("/bin: %+v", u)
	}
	if !h.Complete || code != exitFindings {
		t.Errorf("exit %d, complete=%v %q %+v", code, h.Complete, h.Incomplete, h.NotListed)
	}
	if !slices.ContainsFunc(doc.Findings, func(f jsonFinding) bool { return f.Path == "/upload/u/u/keygen.exe" && f.Rule == "suspicious-name" }) {
		t.Errorf("keygen.exe below the upload area not flagged: %+v", doc.Findings)
	}

	// Below a directory that lists only itself, a listing of nothing may
	// be a path the server does not have: undecided, incomplete, named.
	m["/upload/u/u"] = nil
	doc, code = faultComplete(t, faultftp.Options{Tree: faultftp.Map(m)}, "/")
	if u := doc.notListed("/upload/u"); u == nil || u.Kind != "undecided" || doc.Hosts[0].Complete || code != exitIncomplete {
		t.Errorf("exit %d, complete=%v, /upload/u: %+v", code, doc.Hosts[0].Complete, u)
	}
}

// Item 2 on the scripted server: a bottomless tree whose levels list
// alike is walked to --max-depth, and the bound is named.
func TestFaultAlikeLevelsReachTheBound(t *testing.T) {
	doc, code := faultComplete(t, faultftp.Options{Tree: faultftp.Deep("d", false)}, "/", "--max-depth", "6")
	h := doc.Hosts[0]
	if h.Complete || code != exitIncomplete || !slices.Contains(h.Incomplete, "depth bound reached") {
		t.Errorf("exit %d, complete=%v %q", code, h.Complete, h.Incomplete)
	}
	if u := doc.notListed("/d/d/d/d/d/d/d"); u == nil || u.Kind != "bound" || !strings.Contains(u.Reason, "--max-depth 6") {
		t.Errorf("not_listed %+v", h.NotListed)
	}
	if _, ok := doc.entryTypes(t)["/d/d/d/d/d/d/level"]; !ok {
		t.Error("the levels that list alike were not walked")
	}
}

// Item 3 on the scripted server: an MLSD server giving every directory
// one unique fact skips nothing.
func TestFaultMLSDUniqueUntrusted(t *testing.T) {
	tree := func(dir string, mlsd bool) ([]string, bool) {
		es := map[string][]faultftp.Entry{
			"/":    {faultftp.Dir("a"), faultftp.Dir("b")},
			"/a":   {faultftp.File("a.txt", 1)},
			"/b":   {faultftp.Dir("c")},
			"/b/c": {faultftp.File("hidden.nfo", 1)},
		}[dir]
		if es == nil && dir != "/a" {
			return nil, false
		}
		lines := make([]string, len(es))
		for i, e := range es {
			if mlsd {
				lines[i] = strings.Replace(e.MLSDLine(), "; ", ";unique=1; ", 1)
			} else {
				lines[i] = e.ListLine()
			}
		}
		return lines, true
	}
	doc, code := faultComplete(t, faultftp.Options{Tree: tree, MLSD: true}, "/")
	h := doc.Hosts[0]
	if _, ok := doc.entryTypes(t)["/b/c/hidden.nfo"]; !ok || !h.Complete || code == exitIncomplete {
		t.Errorf("exit %d, complete=%v, inventory %v", code, h.Complete, doc.entryTypes(t))
	}
	if !slices.ContainsFunc(h.Notes, func(n faultPathError) bool { return strings.Contains(n.Error, "not trusted") }) {
		t.Errorf("notes %+v", h.Notes)
	}
}

// Item 4 on the scripted server: incoming listed as a file, then as a
// world-writable directory: walked, judged writable, and reported.
func TestFaultDuplicateNameStrongerReading(t *testing.T) {
	for _, order := range []string{"file first", "dir first"} {
		file := faultftp.File("incoming", 5)
		dir := faultftp.Entry{Name: "incoming", Dir: true, Perm: 0o777}
		root := []faultftp.Entry{file, dir}
		if order == "dir first" {
			root = []faultftp.Entry{dir, file}
		}
		doc, code := faultComplete(t, faultftp.Options{Tree: faultftp.Map(map[string][]faultftp.Entry{
			"/": root, "/incoming": {faultftp.File("0day.rar", 1)},
		})}, "/")
		h := doc.Hosts[0]
		if doc.entryTypes(t)["/incoming"] != "dir" || doc.entryTypes(t)["/incoming/0day.rar"] != "file" {
			t.Errorf("%s: inventory %v", order, doc.entryTypes(t))
		}
		if !slices.ContainsFunc(doc.Findings, func(f jsonFinding) bool { return f.Path == "/incoming" && f.Rule == "writable-dir" }) {
			t.Errorf("%s: /incoming not judged writable: %+v", order, doc.Findings)
		}
		if !slices.ContainsFunc(h.Errors, func(e faultPathError) bool {
			return e.Path == "/incoming" && strings.Contains(e.Error, "-rw-r--r--") && strings.Contains(e.Error, "drwxrwxrwx")
		}) {
			t.Errorf("%s: the anomaly does not name both readings: %+v", order, h.Errors)
		}
		if code != exitFindings {
			t.Errorf("%s: exit %d", order, code)
		}
	}
}

// Item 8 on the scripted server: the root listing refused, a start that
// is not there, a start that is a file.
func TestFaultStartNotListed(t *testing.T) {
	m := map[string][]faultftp.Entry{"/": {faultftp.Dir("pub"), faultftp.File("README", 3)}, "/pub": {faultftp.File("a", 1)}, "/README": {faultftp.File("README", 3)}}
	refuseRoot := faultftp.Options{Tree: faultftp.Map(m), Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
		if (x.Verb == "LIST" || x.Verb == "STAT") && x.Dir == "/" {
			x.Reply = "550 Permission denied.\r\n"
		}
	}}}
	for _, c := range []struct {
		name  string
		opt   faultftp.Options
		start string
	}{
		{"root refused", refuseRoot, "/"},
		{"no such start", faultftp.Options{Tree: faultftp.Map(m)}, "/nope"},
		{"start is a file", faultftp.Options{Tree: faultftp.Map(m)}, "/README"},
	} {
		doc, code := faultComplete(t, c.opt, c.start)
		h := doc.Hosts[0]
		if h.Complete || code != exitIncomplete || doc.notListed(c.start) == nil {
			t.Errorf("%s: exit %d, complete=%v %q %+v", c.name, code, h.Complete, h.Incomplete, h.NotListed)
		}
	}
}

// The policy's accept_unlisted: a skip it accepts is shown as accepted
// and does not cost completeness; one it does not accept still does.
func TestAcceptUnlistedPolicy(t *testing.T) {
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\naccept_unlisted:\n  - path: \"/d/d/d/d\"\n    reason: bottomless test tree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := faultftp.Options{Tree: faultftp.Deep("d", true)}
	doc, code := faultComplete(t, opt, "/", "--max-depth", "3", "--policy", pol)
	h := doc.Hosts[0]
	u := doc.notListed("/d/d/d/d")
	if u == nil || u.Kind != "accepted" || u.Accepted == nil || u.Accepted.Kind != "bound" || u.Accepted.Glob != "/d/d/d/d" || u.Accepted.Reason != "bottomless test tree" {
		t.Fatalf("not_listed %+v (accepted %+v): accept_unlisted is not applied (cmd must call rules.AcceptUnlisted before judging)", h.NotListed, u)
	}
	if !h.Complete || code == exitIncomplete || len(h.Errors) != 0 {
		t.Errorf("exit %d, complete=%v %q errors %+v", code, h.Complete, h.Incomplete, h.Errors)
	}
	doc, code = faultComplete(t, opt, "/", "--max-depth", "2", "--policy", pol)
	if doc.Hosts[0].Complete || code != exitIncomplete {
		t.Errorf("a skip the policy does not accept: exit %d, complete=%v", code, doc.Hosts[0].Complete)
	}
}
