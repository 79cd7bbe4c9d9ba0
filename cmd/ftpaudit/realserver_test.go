package main

// The real-server suite: runs `ftpaudit scan --inventory` against real
// vsftpd, proftpd, pure-ftpd, pyftpdlib, Twisted and GNU inetutils ftpd
// started by testdata/realservers/start.sh (and pyftpdlib without MLSD,
// when it runs) and compares what it reports with the archive on disk,
// byte for byte. FTPAUDIT_REAL_SERVERS names the servers
// (name=url=archive-dir, comma separated; testdata/realservers/env.sh sets
// it). Without it the suite skips, unless FTPAUDIT_REQUIRE_REAL=1 (CI),
// where skipping is a failure.
//
// Where a server legitimately differs, the tests say so by name, below:
// what they expect follows from what the server does with the archive on
// disk (see realserver.FollowsSymlinks, hasSTAT, listsRecursively), never
// from what ftpaudit happens to make of it.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/realserver"
)

// scanDoc is the part of the v1 JSON the tests read.
type scanDoc struct {
	Schema string `json:"schema"`
	Hosts  []struct {
		Target     string `json:"target"`
		Complete   bool   `json:"complete"`
		Incomplete []string
		Stats      map[string]int `json:"stats"`
		Errors     []struct{ Path, Error string }
		Unreadable []struct{ Path, Error string }
		Features   []string `json:"features"`
		Stat       *struct {
			Used      bool   `json:"used"`
			Note      string `json:"note"`
			Listed    int    `json:"listed"`
			Fallbacks int    `json:"fallbacks"`
			Resyncs   int    `json:"resyncs"`
		} `json:"stat_listing"`
		Tree *struct {
			State    string `json:"state"`
			Note     string `json:"note"`
			Covered  int    `json:"covered"`
			Subtrees []struct {
				Path     string `json:"path"`
				Via      string `json:"via"`
				Dirs     int    `json:"dirs"`
				Relisted int    `json:"relisted"`
				Reason   string `json:"reason"`
			} `json:"subtrees"`
		} `json:"recursive_listing"`
	} `json:"hosts"`
	Entries []struct {
		Path    string `json:"path"`
		PathB64 string `json:"path_b64"`
		Type    string `json:"type"`
		Size    *int64 `json:"size"`
		Raw     string `json:"raw"`
	} `json:"entries"`
	Findings []jsonFinding `json:"findings"`
}

// exactPath returns the exact bytes of a JSON path (path_b64 when set).
func exactPath(t *testing.T, p, b64 string) string {
	t.Helper()
	if b64 == "" {
		return p
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("path_b64 %q: %v", b64, err)
	}
	return string(b)
}

func (d *scanDoc) paths(t *testing.T) map[string]int {
	m := map[string]int{}
	for _, e := range d.Entries {
		m[exactPath(t, e.Path, e.PathB64)]++
	}
	return m
}

func runJSON(t *testing.T, args ...string) (*scanDoc, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, nil, &out, &errb)
	var doc scanDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("ftpaudit %v: exit %d, output is not JSON: %v\nstderr: %s", args, code, err, errb.String())
	}
	return &doc, code, errb.String()
}

// expectedView is what an anonymous user of srv sees of its archive:
// realserver.View, or realserver.ViewFollowing for a server that shows
// symlinks as what they point to (Twisted); it fails the test on error.
func expectedView(t *testing.T, srv realserver.Server) (map[string]string, map[string]int64, []string) {
	t.Helper()
	view := realserver.View
	if realserver.FollowsSymlinks(srv.Name) {
		view = realserver.ViewFollowing
	}
	types, sizes, unreadable, err := view(srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return types, sizes, unreadable
}

// listServers is the plain-FTP servers (realserver.Servers) plus, when it
// runs, pyftpdlib without MLSD (realserver.NoMLSD): the same archive in
// pyftpdlib's LIST-only dialect, in every test that loops over servers.
func listServers(t *testing.T) []realserver.Server {
	t.Helper()
	out := realserver.Servers(t)
	if srv, ok := realserver.NoMLSD(t); ok {
		out = append(out, srv)
	}
	return out
}

// hasSTAT reports whether the server lists a directory over the control
// connection in the form ftpaudit asks for, "STAT -a PATH": vsftpd,
// proftpd, pure-ftpd and inetutils do. Twisted answers STAT with 502;
// pyftpdlib reads "-a PATH" as a path, as its LIST does, and answers 550
// (it takes "STAT PATH", which ftpaudit does not send: without -a a
// server may leave hidden names out). Either way STAT is tried once and
// not used.
func hasSTAT(name string) bool {
	return name != "twisted" && !strings.HasPrefix(name, "pyftpdlib")
}

// listsRecursively reports whether the server answers LIST -aR with a
// recursive listing: proftpd, pure-ftpd, inetutils ftpd (its built-in ls)
// and vsftpd-r do; vsftpd without ls_recurse_enable ignores the R, and
// pyftpdlib and Twisted read "-aR" as (part of) a path.
func listsRecursively(name string) bool {
	switch name {
	case "proftpd", "pureftpd", "inetutils", "vsftpd-r":
		return true
	}
	return false
}

func TestRealServersInventoryIsExact(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			wantTypes, wantSizes, wantUnreadable := expectedView(t, srv)
			// The defaults (recursive listing where the server has it,
			// STAT listings) at 1 and 8 connections; every directory over
			// a data connection (--no-stat); every directory on its own
			// (--no-recursive-list).
			for _, conns := range []string{"1", "8", "8 --no-stat", "8 --no-recursive-list"} {
				args := append([]string{"scan", "--inventory", "--format", "json", "--quiet", "--connections"}, strings.Fields(conns)...)
				doc, code, stderr := runJSON(t, append(args, srv.URL+"/")...)
				if code != exitFindings { // the archive has planted problems
					t.Errorf("connections=%s: exit %d, want %d; stderr %s", conns, code, exitFindings, stderr)
				}
				if len(doc.Hosts) != 1 || !doc.Hosts[0].Complete {
					t.Fatalf("connections=%s: host not complete: %+v", conns, doc.Hosts)
				}
				tree := doc.Hosts[0].Tree
				treeUsed := tree != nil && tree.State == "used"
				// STAT listings where the server has them; Twisted has
				// no STAT: tried, and not used.
				switch st := doc.Hosts[0].Stat; {
				case strings.Contains(conns, "no-stat"):
					if st != nil {
						t.Errorf("connections=%s: stat_listing %+v: want none with --no-stat", conns, st)
					}
				case !hasSTAT(srv.Name):
					if st == nil || st.Used || st.Listed != 0 {
						t.Errorf("connections=%s: stat_listing %+v: %s has no STAT: want it tried and not used", conns, st, srv.Name)
					}
				case st == nil || !st.Used || st.Listed == 0 && !treeUsed:
					t.Errorf("connections=%s: stat_listing %+v: want STAT used by default and absent with --no-stat", conns, st)
				}
				// proftpd, pure-ftpd and inetutils list recursively;
				// vsftpd (without ls_recurse_enable) ignores the R, and
				// pyftpdlib and Twisted refuse it (a path "-aR ..."):
				// either must be seen.
				switch {
				case strings.Contains(conns, "no-recursive-list"):
					if tree != nil {
						t.Errorf("connections=%s: recursive_listing %+v, want none", conns, tree)
					}
				case !listsRecursively(srv.Name):
					if tree == nil || tree.State != "unsupported" {
						t.Errorf("connections=%s: recursive_listing %+v, want unsupported", conns, tree)
					}
				default:
					if !treeUsed || tree.Covered == 0 {
						t.Errorf("connections=%s: recursive_listing %+v, want used", conns, tree)
					}
				}
				// proftpd's LIST hides symlinks to the directory itself or
				// an ancestor, which only its MLSD shows: a directory listed
				// recursively (LIST only) lacks them. Nothing else may be
				// missing.
				hidden := map[string]bool{}
				if treeUsed && srv.Name == "proftpd" {
					hidden = map[string]bool{"/links/loop": true, "/links/escape-up": true}
				}
				got := doc.paths(t)
				for p, n := range got {
					if n != 1 {
						t.Errorf("%q reported %d times", p, n)
					}
					if _, ok := wantTypes[p]; !ok {
						t.Errorf("reported %q, which the archive does not have", p)
					}
				}
				for p := range wantTypes {
					if got[p] == 0 && !hidden[p] {
						t.Errorf("missed %q", p)
					}
				}
				for _, e := range doc.Entries {
					p := exactPath(t, e.Path, e.PathB64)
					if wt := wantTypes[p]; wt != "" && wt != e.Type {
						t.Errorf("%q: type %s, want %s (raw %q)", p, e.Type, wt, e.Raw)
					}
					if ws, ok := wantSizes[p]; ok && (e.Size == nil || *e.Size != ws) {
						t.Errorf("%q: size %v, want %d (raw %q)", p, e.Size, ws, e.Raw)
					}
				}
				var gotUnreadable []string
				for _, u := range doc.Hosts[0].Unreadable {
					gotUnreadable = append(gotUnreadable, u.Path)
				}
				slices.Sort(gotUnreadable)
				if !slices.Equal(gotUnreadable, wantUnreadable) {
					t.Errorf("unreadable %q, want %q (%+v)", gotUnreadable, wantUnreadable, doc.Hosts[0].Unreadable)
				}
				if len(doc.Hosts[0].Errors) != 0 {
					t.Errorf("errors: %+v", doc.Hosts[0].Errors)
				}
			}
		})
	}
}

type jsonFinding struct {
	Path     string   `json:"path"`
	PathB64  string   `json:"path_b64"`
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Evidence []string `json:"evidence"`
}

// diskPaths lists every path below root (relative, "/"-prefixed).
func diskPaths(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			out[strings.TrimPrefix(p, root)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRealServersProbe checks the active probe against what the servers
// really allow. The test finds out on its own, with its own STOR and MKD
// over jlaffaye/ftp (absolute paths, no CWD: not the probe's method),
// which directories accept anonymous uploads; then `scan --probe` must
// report exactly those as writable (writable-dir or dropbox-dir), and the
// archive must hold nothing new afterwards except the canaries it
// reports as probe-residue.
func TestRealServersProbe(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			// Every directory an anonymous user can name: the visible ones,
			// including those it may not list (a drop box can be written).
			types, _, _ := expectedView(t, srv)
			dirs := []string{"/"}
			for p, ty := range types {
				if ty == "dir" {
					dirs = append(dirs, p)
				}
			}
			slices.Sort(dirs)
			want := independentWritable(t, srv, dirs)
			if len(want) == 0 {
				t.Fatal("no directory accepts uploads: the archive's upload areas are missing")
			}
			// Without the probe, passive evidence alone must not miss any.
			pdoc, _, _ := runJSON(t, "scan", "--format", "json", "--quiet", srv.URL+"/")
			for _, d := range want {
				if !slices.ContainsFunc(pdoc.Findings, func(f jsonFinding) bool {
					return f.Path == d && (f.Rule == "writable-dir" || f.Rule == "dropbox-dir")
				}) {
					t.Errorf("without --probe, writable %q is not reported", d)
				}
			}
			before := diskPaths(t, srv.Dir)
			doc, code, stderr := runJSON(t, "scan", "--probe", "--format", "json", "--quiet", srv.URL+"/")
			if code != exitFindings {
				t.Errorf("exit %d, want %d; stderr %s", code, exitFindings, stderr)
			}
			var got []string
			residue := map[string]bool{}
			for _, f := range doc.Findings {
				p := exactPath(t, f.Path, f.PathB64)
				switch f.Rule {
				case "writable-dir", "dropbox-dir":
					got = append(got, p)
					if !slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.HasPrefix(e, "probe: ") }) {
						t.Errorf("%s %q: evidence does not mention the probe: %q", f.Rule, p, f.Evidence)
					}
				case "probe-residue":
					residue[p] = true
				}
			}
			slices.Sort(got)
			t.Logf("writable (test's own STOR/MKD): %q; probe-residue reported: %d", want, len(residue))
			if !slices.Equal(got, want) {
				t.Errorf("writable with --probe:\n got %q\nwant %q (found by the test's own STOR/MKD)", got, want)
			}
			// Every server serves an anonymous upload back to anonymous
			// users (NOTES.md, "Anonymous uploads"): the drop box leaks.
			if !slices.ContainsFunc(doc.Findings, func(f jsonFinding) bool { return f.Path == "/incoming" && f.Rule == "readable-upload" }) {
				t.Error("/incoming serves its uploads back, but no readable-upload finding")
			}
			// A directory whose mode lets anyone write but which refused
			// both canaries is a latent risk (proftpd's and pyftpdlib's
			// /latent).
			for p, ty := range types {
				fi, err := os.Stat(filepath.Join(srv.Dir, p))
				if ty != "dir" || err != nil || fi.Mode().Perm()&0o002 == 0 || slices.Contains(want, p) {
					continue
				}
				if !slices.ContainsFunc(doc.Findings, func(f jsonFinding) bool { return f.Path == p && f.Rule == "latent-writable" }) {
					t.Errorf("%q looks writable but refused the probe: want latent-writable", p)
				} else {
					t.Logf("latent-writable: %q", p)
				}
			}
			after := diskPaths(t, srv.Dir)
			for p := range after {
				if before[p] {
					continue
				}
				if !residue[p] {
					t.Errorf("the probe left %q behind without reporting it as probe-residue", p)
				}
				_ = os.RemoveAll(filepath.Join(srv.Dir, p))
			}
			for p := range residue {
				if !after[p] && !before[p] {
					t.Errorf("probe-residue %q is not in the archive", p)
				}
			}
		})
	}
}

// independentWritable tries STOR and MKD in every directory and returns
// those that accepted either, removing what it created from disk.
func independentWritable(t *testing.T, srv realserver.Server, dirs []string) []string {
	t.Helper()
	host := strings.TrimPrefix(srv.URL, "ftp://")
	c, err := ftp.Dial(host, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("anonymous", "test@"); err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, d := range dirs {
		base := d
		if base == "/" {
			base = ""
		}
		file := fmt.Sprintf("%s/indep-check-%d.txt", base, i)
		sub := fmt.Sprintf("%s/indep-check-%d.dir", base, i)
		ok := false
		if strings.ContainsAny(d, "\r\n") {
			continue
		}
		if c.Stor(file, strings.NewReader("")) == nil {
			ok = true
			_ = os.Remove(filepath.Join(srv.Dir, file))
		}
		if c.MakeDir(sub) == nil {
			ok = true
			_ = os.Remove(filepath.Join(srv.Dir, sub))
		}
		if ok {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// TestRealServersPlanted checks that every problem mkarchive.sh plants is
// flagged with the right rule, on each server, from a passive scan with a
// policy that names the anonymous account's uid and intends /incoming as
// a drop box.
func TestRealServersPlanted(t *testing.T) {
	u, err := user.Lookup("ftp")
	if err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	err = os.WriteFile(pol, []byte(fmt.Sprintf("version: 1\nanonymous:\n  names: [ftp]\n  uids: [%s]\n  gids: [%s]\ndrop_boxes: [\"/incoming\"]\n", u.Uid, u.Gid)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ path, rule string }
	common := []want{
		{"/", "anonymous-login"},
		{"/writable", "writable-dir"},
		{"/latent", "writable-dir"}, // passive: its mode says so (the probe test checks what proftpd really does)
		{"/incoming", "dropbox-dir"},
		{"/bin", "unreadable-dir"},
		{"/etc", "unreadable-dir"},
		{"/noperm", "unreadable-dir"},
		{"/pub/world-writable.txt", "world-writable-file"},
		{"/pub/.rhosts", "suspicious-name"},
		{"/writable/warez/file_id.diz", "suspicious-name"},
		{"/writable/warez/release.nfo", "suspicious-name"},
		{"/writable/warez/keygen.exe", "suspicious-name"},
		{"/writable/warez/keygen.exe", "in-writable-area"},
		{"/writable/existing.txt", "in-writable-area"},
		{"/pub/mirror/etc/passwd", "passwd-hashes"},
		{"/pub/ftp-owned.txt", "upload-owner"},
		{"/pub/CON.txt", "hidden-name"},
		{"/...", "hidden-name"},
		{"/  ", "hidden-name"},
		{"/. ", "hidden-name"},
		{"/ lead", "hidden-name"},
		{"/trail ", "hidden-name"},
		{"/\xff\xfe.bin", "hidden-name"},
		{"/links/escape-abs", "symlink-escape"},
	}
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			wants := slices.Clone(common)
			if srv.Name != "proftpd" { // proftpd shows escape-up in no listing with its target
				wants = append(wants, want{"/links/escape-up", "symlink-escape"})
			}
			if realserver.FollowsSymlinks(srv.Name) {
				// Twisted shows no symlink as one, and a directory with a
				// dangling link in it (/links) not at all: what is planted
				// there it never shows. Such a directory is an unreadable
				// directory instead.
				types, _, unreadable := expectedView(t, srv)
				_, _, plain, err := realserver.View(srv.Dir)
				if err != nil {
					t.Fatal(err)
				}
				wants = slices.DeleteFunc(wants, func(w want) bool {
					_, shown := types[w.path]
					return w.path != "/" && !shown
				})
				for _, u := range unreadable {
					if !slices.Contains(plain, u) {
						wants = append(wants, want{u, "unreadable-dir"})
					}
				}
			}
			doc, code, stderr := runJSON(t, "scan", "--policy", pol, "--format", "json", "--quiet", srv.URL+"/")
			if code != exitFindings {
				t.Errorf("exit %d, want %d; stderr %s", code, exitFindings, stderr)
			}
			have := map[want]jsonFinding{}
			for _, f := range doc.Findings {
				p := exactPath(t, f.Path, f.PathB64)
				have[want{p, f.Rule}] = f
				if len(f.Evidence) == 0 {
					t.Errorf("%s %q has no evidence", f.Rule, p)
				}
			}
			for _, w := range wants {
				if _, ok := have[w]; !ok {
					t.Errorf("planted %q not flagged %s", w.path, w.rule)
				}
			}
			// Ordinary archive content is not flagged as a problem.
			for _, p := range []string{"/pub/README", "/pub/docs/guide.txt", "/pub/software/v1.0/tool-1.0.tar.gz", "/README.txt"} {
				for k, f := range have {
					if k.path == p && f.Severity != "info" && f.Severity != "low" {
						t.Errorf("ordinary file %q flagged %s (%s): %q", p, f.Rule, f.Severity, f.Evidence)
					}
				}
			}
		})
	}
}

// TestRealServersStatListingHostileNames plants names that fake the end
// of a STAT reply (vsftpd, proftpd, pyftpdlib and inetutils send names
// unescaped on the control connection) and names holding bare CR or LF,
// and checks that a scan with STAT listings reports exactly what a scan
// over data connections (--no-stat) reports, and that it noticed the
// faked end where the planted lines fake it: in a directory listed by
// path ("STAT -a DIR") and in one whose path holds a space (entered with
// CWD, listed with "STAT -a .").
func TestRealServersStatListingHostileNames(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			top := filepath.Join(srv.Dir, fmt.Sprintf("zz-stat-%d", time.Now().UnixNano()))
			t.Cleanup(func() { _ = os.RemoveAll(top) })
			for _, d := range []string{"ok", "hostile-lf", "hostile-end", "after", "sp ace/hostile-end", "sp ace/after",
				"batch/a-fake-end", "batch/b-ok-00000", "batch/c-ok-00000", "batch/d-ok-00000", "batch/e-ok-00000", "batch/f-ok-00000",
				"batch/g-ok-00000", "batch/h-ok-00000", "batch/i-ok-00000", "batch/j-ok-00000", "batch/k-ok-00000", "batch/l-ok-00000",
				"batch/m-ok-00000", "batch/n-ok-00000", "batch/o-ok-00000", "batch/p-ok-00000"} {
				if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{
				"ok/plain.txt",
				"hostile-lf/a\nb",
				"hostile-lf/cr\rx",
				"hostile-end/inj\r\n213 End of status\r\n212 End of status\r\n213 End.\r\n-rw-r--r-- 1 0 0 9 Mar 04 2021 fake",
				"hostile-end/zzz-after-the-fake-end",
				"after/plain2.txt",
				"sp ace/hostile-end/inj\r\n213 End of status\r\n212 End of status\r\n213 End.\r\n-rw-r--r-- 1 0 0 9 Mar 04 2021 fake",
				"sp ace/hostile-end/zzz-spaced-after-the-fake-end",
				"sp ace/after/plain3.txt",
				"batch/a-fake-end/inj\r\n213 End of status\r\n212 End of status\r\n213 End.\r\n-rw-r--r-- 1 0 0 9 Mar 04 2021 fake",
				"batch/a-fake-end/zzz-batched-after-the-fake-end",
				"batch/b-ok-00000/b.txt", "batch/c-ok-00000/c.txt", "batch/d-ok-00000/d.txt",
			} {
				if err := os.WriteFile(filepath.Join(top, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(top, 0o755); err != nil {
				t.Fatal(err)
			}
			url := srv.URL + "/" + filepath.Base(top)
			withStat, code1, _ := rawScan(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", "1", "--no-recursive-list", url)
			noStat, code2, _ := rawScan(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", "1", "--no-stat", "--no-recursive-list", url)
			if code1 != code2 {
				t.Errorf("exit %d with STAT, %d without", code1, code2)
			}
			st, _ := withStat["hosts"].([]any)[0].(map[string]any)["stat_listing"].(map[string]any)
			switch {
			case !hasSTAT(srv.Name):
				// Twisted has no STAT: both scans list over data
				// connections, and must still agree below.
				if st == nil || st["used"] != false {
					t.Errorf("%s has no STAT, but stat_listing is %v", srv.Name, st)
				}
			case st == nil || st["used"] != true || st["listed"].(float64) < 2:
				t.Fatalf("STAT listings not used: %v", st)
			}
			// vsftpd, proftpd and pyftpdlib show the hostile names and end
			// their STAT replies with a 213 line that the planted name
			// fakes; pure-ftpd hides names with control characters from
			// every listing, and inetutils ends its STAT replies with
			// "211 End of Status", which no planted line fakes.
			fakesEnd := hasSTAT(srv.Name) && srv.Name != "pureftpd" && srv.Name != "inetutils"
			if fakesEnd && st["resyncs"].(float64) < 2 {
				t.Errorf("a faked end of reply went unnoticed (one in hostile-end, one in sp ace/hostile-end): %v", st)
			}
			// Every directory but the first (listed both ways, to decide)
			// is listed with STAT, those under "sp ace" too, or refused by
			// it and counted as a fallback.
			if hasSTAT(srv.Name) {
				if n := st["listed"].(float64) + st["fallbacks"].(float64); n < 7 {
					t.Errorf("%v directories listed or refused with STAT, want 7 of 8: %v", n, st)
				}
			}
			a, b := normalise(t, withStat), normalise(t, noStat)
			if a != b {
				t.Errorf("STAT and --no-stat scans differ:\n--- STAT\n%s\n--- no STAT\n%s", a, b)
			}
			if !strings.Contains(a, "zzz-after-the-fake-end") || !strings.Contains(a, "plain2.txt") ||
				!strings.Contains(a, "zzz-spaced-after-the-fake-end") || !strings.Contains(a, "plain3.txt") {
				t.Errorf("entries after the faked end are missing:\n%s", a)
			}
			// Directories listed in batches (several STATs behind one
			// nonce), on the servers whose sessions batch (no MLSD): of
			// the sixteen directories under batch/, taken eight at a time
			// from the end, the first eight go in a batch (the last eight
			// do not: the path form is still being checked on one of
			// them, and their STATs, answered on their own, prove the
			// length of the lines a batch may carry: all the names are
			// as long), the first of them faking the end of its reply
			// where the server's end line can be faked. That batch is refused whole and each directory
			// listed again on its own; either way the result is the
			// --no-stat scan's.
			bWith, _, _ := rawScan(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", "1", "--no-recursive-list", url+"/batch")
			bNo, _, _ := rawScan(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", "1", "--no-stat", "--no-recursive-list", url+"/batch")
			bst, _ := bWith["hosts"].([]any)[0].(map[string]any)["stat_listing"].(map[string]any)
			if batches := hasSTAT(srv.Name) && (srv.Name == "vsftpd" || srv.Name == "inetutils"); batches {
				switch {
				case bst == nil:
					t.Errorf("no stat_listing")
				case fakesEnd && (bst["batches_refused"].(float64) < 1 || bst["resyncs"].(float64) < 1):
					t.Errorf("the batch with a faked end was not refused, or its directory not listed again: %v", bst)
				case !fakesEnd && bst["batched"].(float64) < 7:
					t.Errorf("the batch was not used: %v", bst)
				}
			}
			if a, b := normalise(t, bWith), normalise(t, bNo); a != b || !strings.Contains(a, "zzz-batched-after-the-fake-end") || !strings.Contains(a, "d.txt") {
				t.Errorf("batched and --no-stat scans differ, or entries are missing:\n--- STAT\n%s\n--- no STAT\n%s", a, b)
			}
			// Recursive listing (the default) of the same tree: lines
			// broken by the hostile names make their sections
			// untrustworthy, and those directories are listed on their
			// own; the result is the same.
			withTree, code3, _ := rawScan(t, "scan", "--inventory", "--format", "json", "--quiet", "--connections", "1", "--no-stat", url)
			if code3 != code2 {
				t.Errorf("exit %d with recursive listing, %d without", code3, code2)
			}
			// On MLSD servers a directory listed on its own carries MLSD
			// facts, one listed recursively LIST attributes: compare what
			// both must agree on.
			if c, d := inventoryView(withTree), inventoryView(noStat); c != d {
				t.Errorf("recursive and per-directory scans differ:\n--- recursive\n%s\n--- per directory\n%s", c, d)
			}
		})
	}
}

// inventoryView is what any two scans of one tree must agree on however
// each directory was listed: every entry's exact path, type and size, and
// the host's completeness, errors and unreadable directories.
func inventoryView(doc map[string]any) string {
	var lines []string
	for _, e := range doc["entries"].([]any) {
		m := e.(map[string]any)
		p := m["path"]
		if b, ok := m["path_b64"]; ok {
			p = b
		}
		lines = append(lines, fmt.Sprintf("entry %v %v %v", p, m["type"], m["size"]))
	}
	h := doc["hosts"].([]any)[0].(map[string]any)
	lines = append(lines, fmt.Sprintf("complete %v", h["complete"]))
	for _, k := range []string{"errors", "unreadable"} {
		list, _ := h[k].([]any)
		for _, e := range list {
			lines = append(lines, fmt.Sprintf("%s %v", k, e.(map[string]any)["path"]))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// rawScan runs ftpaudit and decodes its JSON generically.
func rawScan(t *testing.T, args ...string) (map[string]any, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, nil, &out, &errb)
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("ftpaudit %v: exit %d, output is not JSON: %v\nstderr: %s", args, code, err, errb.String())
	}
	return doc, code, errb.String()
}

// normalise drops what differs between two scans of the same tree (times,
// banners with clocks in them, how listings were fetched) and returns the
// rest as indented JSON.
func normalise(t *testing.T, doc map[string]any) string {
	t.Helper()
	delete(doc, "started")
	delete(doc, "finished")
	for _, h := range doc["hosts"].([]any) {
		hm := h.(map[string]any)
		for _, k := range []string{"started", "finished", "banner", "stat_listing"} {
			delete(hm, k)
		}
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRealServersBaseline is issue 4's acceptance test: scan and save,
// plant new files, replace one, make one directory world-writable; the
// next scan with --baseline last reports exactly those changes.
func TestRealServersBaseline(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "history.db")
			args := []string{"--format", "json", "--quiet", "--db", db, srv.URL + "/"}
			first, code, stderr := rawScan(t, append([]string{"scan", "--save"}, args...)...)
			if code != exitFindings || first["scan_id"] == nil {
				t.Fatalf("first scan: exit %d, scan_id %v; stderr %s", code, first["scan_id"], stderr)
			}
			// Plant, replace, chmod; undo it all afterwards.
			planted := []string{"pub/new-upload.zip", "pub/mirror/0day.rar"}
			replaced := filepath.Join(srv.Dir, "pub/README")
			opened := filepath.Join(srv.Dir, "pub/images")
			orig, err := os.ReadFile(replaced)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(replaced)
			if err != nil {
				t.Fatal(err)
			}
			di, err := os.Stat(opened)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				for _, p := range planted {
					_ = os.Remove(filepath.Join(srv.Dir, p))
				}
				_ = os.WriteFile(replaced, orig, fi.Mode().Perm())
				_ = os.Chtimes(replaced, fi.ModTime(), fi.ModTime())
				_ = os.Chmod(opened, di.Mode().Perm())
			})
			for _, p := range planted {
				if err := os.WriteFile(filepath.Join(srv.Dir, p), []byte("planted"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(replaced, append(orig, "trojaned\n"...), fi.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(opened, 0o777); err != nil {
				t.Fatal(err)
			}
			second, _, stderr := rawScan(t, append([]string{"scan", "--save", "--baseline", "last"}, args...)...)
			var got []string
			for _, f := range second["findings"].([]any) {
				fm := f.(map[string]any)
				switch fm["rule"] {
				case "new-since-baseline", "changed-since-baseline", "removed-since-baseline", "permission-changed":
					got = append(got, fmt.Sprintf("%s %s %s", fm["severity"], fm["rule"], fm["path"]))
				}
			}
			slices.Sort(got)
			// Each change is reported wherever the server shows /pub: on
			// Twisted also below /pub-link, a symlink it shows as a
			// directory (pubAliases); elsewhere at /pub only.
			var want []string
			aliases := pubAliases(t, srv)
			for _, a := range aliases {
				want = append(want,
					"critical permission-changed "+a+"/images",
					"high changed-since-baseline "+a+"/README",
					"high new-since-baseline "+a+"/mirror/0day.rar",
					"high new-since-baseline "+a+"/new-upload.zip",
				)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("baseline findings\n got %q\nwant %q\nstderr %s", got, want, stderr)
			}
			n := float64(2 * len(aliases))
			base, _ := second["hosts"].([]any)[0].(map[string]any)["baseline"].(map[string]any)
			if base == nil || base["scan_id"] != first["scan_id"] || base["added"] != n || base["removed"] != 0.0 || base["changed"] != n || base["not_compared"] != 0.0 {
				t.Errorf("baseline report %v (first scan %v)", base, first["scan_id"])
			}
		})
	}
}

// pubAliases returns the paths at which srv shows the archive's /pub
// directory: "/pub", and on a server that follows symlinks (Twisted) every
// symlink it shows as a directory that leads there ("/pub-link"; the one
// in /links is not shown, see realserver.ViewFollowing).
func pubAliases(t *testing.T, srv realserver.Server) []string {
	t.Helper()
	pub, err := filepath.EvalSymlinks(filepath.Join(srv.Dir, "pub"))
	if err != nil {
		t.Fatal(err)
	}
	types, _, _ := expectedView(t, srv)
	var out []string
	for p, ty := range types {
		if ty != "dir" {
			continue
		}
		if real, err := filepath.EvalSymlinks(filepath.Join(srv.Dir, p)); err == nil && real == pub {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	if !slices.Contains(out, "/pub") {
		t.Fatalf("/pub is not among the directories %s shows: %q", srv.Name, out)
	}
	return out
}

// TestRealServersVerify: verify exits 1 while a finding of the earlier
// scan remains and 0 once every one is gone.
func TestRealServersVerify(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			top := filepath.Join(srv.Dir, fmt.Sprintf("zz-verify-%d", time.Now().UnixNano()))
			t.Cleanup(func() { _ = os.RemoveAll(top) })
			if err := os.MkdirAll(top, 0o755); err != nil {
				t.Fatal(err)
			}
			bad := []string{"world-writable.iso", "crack-keygen.exe"}
			for _, n := range bad {
				if err := os.WriteFile(filepath.Join(top, n), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(filepath.Join(top, bad[0]), 0o666); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "history.db")
			url := srv.URL + "/" + filepath.Base(top)
			doc, code, stderr := rawScan(t, "scan", "--save", "--format", "json", "--quiet", "--db", db, url)
			if code != exitFindings {
				t.Fatalf("scan: exit %d; stderr %s", code, stderr)
			}
			id := fmt.Sprint(doc["scan_id"])
			count := func(v map[string]any) (gone, still, new float64) {
				return v["gone"].(float64), v["still_there"].(float64), v["new"].(float64)
			}
			v, code, stderr := rawScan(t, "verify", "--format", "json", "--quiet", "--db", db, id)
			if g, s, n := count(v); code != exitFindings || g != 0 || s < 2 || n != 0 {
				t.Errorf("before cleanup: exit %d, gone %v still %v new %v; stderr %s", code, g, s, n, stderr)
			}
			if err := os.Remove(filepath.Join(top, bad[1])); err != nil { // half the cleanup
				t.Fatal(err)
			}
			v, code, _ = rawScan(t, "verify", "--format", "json", "--quiet", "--db", db, id)
			if g, s, _ := count(v); code != exitFindings || g < 1 || s < 1 {
				t.Errorf("half cleaned: exit %d, gone %v still %v", code, g, s)
			}
			if err := os.Remove(filepath.Join(top, bad[0])); err != nil {
				t.Fatal(err)
			}
			v, code, stderr = rawScan(t, "verify", "--format", "json", "--quiet", "--db", db, id)
			if g, _, n := count(v); code != exitClean || g < 2 || n != 0 {
				t.Errorf("after cleanup: exit %d, gone %v new %v: %v; stderr %s", code, g, n, v["items"], stderr)
			}
		})
	}
}

// TestRealServersManifest: with --manifest auto, an upload the archive's
// own index does not list is not-in-manifest, an indexed file that is gone
// is missing-from-archive, and nothing else is reported by either rule.
func TestRealServersManifest(t *testing.T) {
	for _, srv := range listServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			top := filepath.Join(srv.Dir, fmt.Sprintf("zz-manifest-%d", time.Now().UnixNano()))
			t.Cleanup(func() { _ = os.RemoveAll(top) })
			for _, d := range []string{"releases", "docs"} {
				if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"releases/tool-1.0.tar.gz", "releases/tool-1.1.tar.gz", "docs/manual.txt", "releases/tool-0.9.tar.gz"} {
				if err := os.WriteFile(filepath.Join(top, f), []byte(f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sums := "" +
				"0000000000000000000000000000000000000000000000000000000000000001  tool-1.0.tar.gz\n" +
				"0000000000000000000000000000000000000000000000000000000000000002  tool-1.1.tar.gz\n" +
				"0000000000000000000000000000000000000000000000000000000000000003  tool-0.9.tar.gz\n" +
				"0000000000000000000000000000000000000000000000000000000000000004  tool-0.8.tar.gz\n"
			if err := os.WriteFile(filepath.Join(top, "releases/SHA256SUMS"), []byte(sums), 0o644); err != nil {
				t.Fatal(err)
			}
			// The upload the index does not know, and an indexed file that
			// was never there (tool-0.8.tar.gz).
			if err := os.WriteFile(filepath.Join(top, "releases/tool-1.1-patched.exe"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			doc, _, stderr := rawScan(t, "scan", "--manifest", "auto", "--format", "json", "--quiet", srv.URL+"/"+filepath.Base(top))
			var got []string
			for _, f := range doc["findings"].([]any) {
				fm := f.(map[string]any)
				if r := fm["rule"]; r == "not-in-manifest" || r == "missing-from-archive" {
					got = append(got, fmt.Sprintf("%s %s", r, strings.TrimPrefix(fm["path"].(string), "/"+filepath.Base(top))))
				}
			}
			slices.Sort(got)
			want := []string{"missing-from-archive /releases/tool-0.8.tar.gz", "not-in-manifest /releases/tool-1.1-patched.exe"}
			if !slices.Equal(got, want) {
				t.Errorf("manifest findings\n got %q\nwant %q\nstderr %s\nhost %v", got, want, stderr, doc["hosts"])
			}
			ms, _ := doc["hosts"].([]any)[0].(map[string]any)["manifests"].([]any)
			if len(ms) != 1 || ms[0].(map[string]any)["entries"] != 4.0 {
				t.Errorf("manifests %v", ms)
			}
		})
	}
}

// TestRealServersFleet is issue 5's acceptance test: one hosts file with
// vsftpd requiring FTPS (its self-signed CA given in the file), proftpd
// over plain FTP, and a host that refuses connections. Two hosts come out
// complete, the third failed with its reason, and the exit code says
// incomplete.
func TestRealServersFleet(t *testing.T) {
	servers := realserver.Servers(t)
	ftps := realserver.FTPS(t)
	tlsURL, ca := ftps.URL, ftps.CA
	var plain string
	for _, s := range servers {
		if s.Name == "proftpd" {
			plain = s.URL
		}
	}
	if plain == "" {
		t.Skip("no proftpd among the real servers")
	}
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.yaml")
	doc := fmt.Sprintf(`version: 1
max_connections: 12
hosts:
  - url: %s/
    ca_file: %s
    connections: 4
  - url: %s/pub
  - url: ftp://127.0.0.1:1/
`, tlsURL, ca, plain)
	if err := os.WriteFile(hosts, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code, stderr := rawScan(t, "scan", "--hosts", hosts, "--format", "json", "--quiet", "--connect-timeout", "5s")
	if code != exitIncomplete {
		t.Errorf("exit %d, want %d (incomplete); stderr %s", code, exitIncomplete, stderr)
	}
	hs := out["hosts"].([]any)
	if len(hs) != 3 {
		t.Fatalf("%d hosts", len(hs))
	}
	for i, h := range hs {
		hm := h.(map[string]any)
		switch i {
		case 0, 1:
			if hm["complete"] != true || hm["stats"].(map[string]any)["files"].(float64) == 0 {
				t.Errorf("host %v: want complete with files: %v", hm["target"], hm["incomplete"])
			}
		case 2:
			le, _ := hm["login_error"].(string)
			if hm["complete"] != false || !strings.Contains(le, "refused") {
				t.Errorf("refusing host: complete %v login_error %q", hm["complete"], le)
			}
		}
	}
	if tl := hs[0].(map[string]any)["tls"]; tl != "verified" {
		t.Errorf("FTPS host: tls %v, want verified", tl)
	}
	// The summary names the failed host and its reason.
	_, _, _ = rawScanText(t, hosts)
}

func rawScanText(t *testing.T, hosts string) (string, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"scan", "--hosts", hosts, "--format", "summary", "--quiet", "--connect-timeout", "5s"}, nil, &out, &errb)
	if !strings.Contains(out.String(), "127.0.0.1:1") || !strings.Contains(strings.ToLower(out.String()), "refused") {
		t.Errorf("summary does not show the failed host and why:\n%s", out.String())
	}
	return out.String(), code, errb.String()
}
