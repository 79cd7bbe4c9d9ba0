package ftpconn

// Listings that must not be believed on a guess (issue 13, items 5 to 7),
// on the scripted fault server: MLSD and LIST -a that disagree, a STAT
// reply cut short, a CWD that does not move. Each is checked on the
// session and through a whole walk (scanner) and judgement (rules).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
	"github.com/ftpaudit/ftpaudit/rules"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// startFault starts a fault server and returns it with its target.
func startFault(t *testing.T, opt faultftp.Options) (*faultftp.Server, ftpaudit.Target) {
	t.Helper()
	srv, err := faultftp.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tg, err := ftpaudit.ParseTarget(srv.URL("/"))
	if err != nil {
		t.Fatal(err)
	}
	return srv, tg
}

// walkFault walks a fault server's whole tree on one connection, every
// directory on its own, and judges it with the default policy.
func walkFault(t *testing.T, tg ftpaudit.Target, opt DialOptions) (*ftpaudit.HostResult, []ftpaudit.Finding) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opt.IdleTimeout = 10 * time.Second
	d := NewDialer(tg, opt)
	h := scanner.Walk(ctx, tg, d.Connect, scanner.WalkOptions{Connections: 1, NoTree: true, Backoff: time.Millisecond})
	h.Stat = d.StatReport()
	return h, rules.Judge(h, rules.DefaultPolicy())
}

func entryPaths(h *ftpaudit.HostResult) []string {
	var p []string
	for _, e := range h.EntryList() {
		p = append(p, e.Path)
	}
	return p
}

func hasFinding(fs []ftpaudit.Finding, path, rule string) bool {
	return slices.ContainsFunc(fs, func(f ftpaudit.Finding) bool { return f.Path == path && f.Rule == rule })
}

func hasNote(ps []ftpaudit.PathError, path string, words ...string) bool {
	return slices.ContainsFunc(ps, func(p ftpaudit.PathError) bool {
		if p.Path != path {
			return false
		}
		for _, w := range words {
			if !strings.Contains(p.Error, w) {
				return false
			}
		}
		return true
	})
}

// disagreeTree serves "/" differently to MLSD and LIST: MLSD calls
// incoming a file and upload a 0755 directory with perm=el; LIST shows
// both as drwxrwxrwx. Both hold a file.
func disagreeTree(dir string, mlsd bool) ([]string, bool) {
	switch dir {
	case "/":
		if mlsd {
			return []string{
				"type=file;size=4096;modify=20240102030405;UNIX.mode=0755;UNIX.owner=0;UNIX.group=0; incoming",
				"type=dir;size=4096;modify=20240102030405;perm=el;UNIX.mode=0755;UNIX.owner=0;UNIX.group=0; upload",
				faultftp.File("README", 10).MLSDLine(),
			}, true
		}
		return []string{
			"drwxrwxrwx    2 0        0            4096 Jan 02  2024 incoming",
			"drwxrwxrwx    2 0        0            4096 Jan 02  2024 upload",
			faultftp.File("README", 10).ListLine(),
		}, true
	case "/incoming":
		return faultftp.Entries(func(string) ([]faultftp.Entry, bool) {
			return []faultftp.Entry{faultftp.File("keygen.exe", 1)}, true
		})(dir, mlsd)
	case "/upload":
		return faultftp.Entries(func(string) ([]faultftp.Entry, bool) {
			return []faultftp.Entry{faultftp.File("x.nfo", 1)}, true
		})(dir, mlsd)
	}
	return nil, false
}

// Item 5: MLSD type=file against a LIST "d" line, and MLSD 0755 perm=el
// against LIST drwxrwxrwx. Both are walked and judged writable, and the
// disagreement is noted with both readings.
func TestMLSDAndLISTDisagree(t *testing.T) {
	_, tg := startFault(t, faultftp.Options{Tree: disagreeTree, MLSD: true})
	h, fs := walkFault(t, tg, DialOptions{})
	if !h.Complete {
		t.Errorf("incomplete: %q %+v", h.Incomplete, h.Errors)
	}
	paths := entryPaths(h)
	for _, p := range []string{"/incoming/keygen.exe", "/upload/x.nfo"} {
		if !slices.Contains(paths, p) {
			t.Errorf("%s not walked: %q", p, paths)
		}
	}
	for _, p := range []string{"/incoming", "/upload"} {
		if !hasFinding(fs, p, "writable-dir") {
			t.Errorf("no writable-dir finding for %s", p)
		}
	}
	if !hasNote(h.Notes, "/", `"incoming"`, "MLSD says file -rwxr-xr-x", "LIST -a says dir drwxrwxrwx", "taken as dir drwxrwxrwx") ||
		!hasNote(h.Notes, "/", `"upload"`, "MLSD says dir drwxr-xr-x", "taken as dir drwxrwxrwx") {
		t.Errorf("disagreements not noted: %+v", h.Notes)
	}
	for _, e := range h.EntryList() {
		if e.Path == "/upload" && (e.Raw == "" || e.ListRaw() == "" || e.Perm() != "el") {
			t.Errorf("a reading lost: %+v %+v", e, e.Extra)
		}
	}
}

// Item 5, the pairing: MLSD refused (550) where LIST -a lists the
// directory is a disagreement too; the LIST -a listing is used and the
// refusal noted. An empty LIST -a against a refusal stays a refusal.
func TestMLSDRefusedWhereLISTLists(t *testing.T) {
	tree := faultftp.Map(map[string][]faultftp.Entry{
		"/":       {{Name: "hidden", Dir: true, Perm: 0o777}, faultftp.Dir("empty")},
		"/hidden": {faultftp.File("warez.rar", 1)},
		"/empty":  nil,
	})
	_, tg := startFault(t, faultftp.Options{Tree: tree, MLSD: true, Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			if x.Verb == "MLSD" && x.Dir != "/" {
				x.Reply = "550 Permission denied.\r\n"
			}
		},
	}})
	h, _ := walkFault(t, tg, DialOptions{})
	if !slices.Contains(entryPaths(h), "/hidden/warez.rar") {
		t.Errorf("/hidden not listed: %q", entryPaths(h))
	}
	if !hasNote(h.Notes, "/hidden", "MLSD refused where LIST -a listed", "550") {
		t.Errorf("refusal not noted: %+v", h.Notes)
	}
	if !slices.ContainsFunc(h.Unreadable, func(p ftpaudit.PathError) bool { return p.Path == "/empty" && strings.Contains(p.Error, "550") }) {
		t.Errorf("/empty: unreadable %+v", h.Unreadable)
	}
}

// cutStat makes STAT replies show at most n listing lines (the reply's
// own first and last lines kept), as a server with a reply cap would.
func cutStat(n int) func(*faultftp.Exchange) {
	return func(x *faultftp.Exchange) {
		if x.Verb != "STAT" || !strings.HasPrefix(x.Reply, "213-") {
			return
		}
		lines := strings.SplitAfter(x.Reply, "\r\n")
		lines = lines[:len(lines)-1] // the empty string after the last CRLF
		if body := lines[1 : len(lines)-1]; len(body) > n {
			x.Reply = lines[0] + strings.Join(body[:n], "") + lines[len(lines)-1]
		}
	}
}

// statCutTree is a root holding big, a directory of cap+21 entries (with
// "." and "..": the STAT reply of its first cap lines hides 21 of them,
// among them a world-writable directory), and exact, a directory whose
// STAT listing is exactly cap lines, served whole.
func statCutTree(cap int) faultftp.Tree {
	big := faultftp.Many("f", cap+21-3)
	big = append(big, faultftp.Entry{Name: "zz-upload", Dir: true, Perm: 0o777})
	return faultftp.Map(map[string][]faultftp.Entry{
		"/":              {faultftp.Dir("big"), faultftp.Dir("exact")},
		"/big":           big,
		"/big/zz-upload": {faultftp.File("x.nfo", 1)},
		"/exact":         faultftp.Many("e", cap-2),
	})
}

// Item 6: a server that cuts STAT replies after 20 lines. No entry is
// lost, on the session or in a walk, and STAT is turned off for the host
// with a note, wherever the cut directory comes in the walk: even after a
// directory of exactly 20 lines was served whole.
func TestStatCutAfterNLines(t *testing.T) {
	const cap = 20
	t.Run("session", func(t *testing.T) {
		srv, tg := startFault(t, faultftp.Options{Tree: statCutTree(cap), Stat: true, Script: faultftp.Script{Reply: cutStat(cap)}})
		d := NewDialer(tg, DialOptions{IdleTimeout: 10 * time.Second})
		s, _, err := d.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, dir := range []string{"/", "/exact", "/exact", "/big"} {
			l, err := s.List(context.Background(), dir)
			if err != nil {
				t.Fatalf("%s: %v", dir, err)
			}
			want := map[string]int{"/": 2, "/exact": cap - 2, "/big": cap + 21 - 2}[dir]
			if len(l.Entries) != want {
				t.Errorf("%s: %d entries, want %d (via %s)", dir, len(l.Entries), want, l.Via)
			}
		}
		r := d.StatReport()
		if r.Used || !strings.Contains(r.Note, "/big") {
			t.Errorf("STAT report %+v: want STAT off with a note on /big", r)
		}
		if n := srv.CountDir("STAT", "/big"); n != 1 {
			t.Errorf("STAT /big sent %d times", n)
		}
	})
	t.Run("walk", func(t *testing.T) {
		_, tg := startFault(t, faultftp.Options{Tree: statCutTree(cap), Stat: true, Script: faultftp.Script{Reply: cutStat(cap)}})
		h, fs := walkFault(t, tg, DialOptions{})
		paths := entryPaths(h)
		if n := len(paths); n != 2+(cap-2)+(cap+21-2)+1 {
			t.Errorf("%d entries: %q", n, paths)
		}
		if !slices.Contains(paths, "/big/zz-upload/x.nfo") || !hasFinding(fs, "/big/zz-upload", "writable-dir") {
			t.Errorf("the writable directory past the cut was lost: %q", paths)
		}
		if h.Stat == nil || h.Stat.Used || !strings.Contains(h.Stat.Note, "STAT and LIST -a differ on /big") {
			t.Errorf("STAT report %+v: want STAT off with a note", h.Stat)
		}
		if !hasNote(h.Notes, "/big", "STAT turned off") {
			t.Errorf("no note on /big: %+v", h.Notes)
		}
	})
}

// A server whose STAT is faithful keeps STAT on, and checks no listing
// smaller than one it already checked: only those larger go over a data
// connection too.
func TestStatProvenBoundGrows(t *testing.T) {
	m := map[string][]faultftp.Entry{"/": nil}
	sizes := []int{5, 3, 8, 8, 2, 30, 7, 29}
	for i, n := range sizes {
		name := fmt.Sprintf("d%d", i)
		m["/"] = append(m["/"], faultftp.Dir(name))
		m["/"+name] = faultftp.Many("f", n)
	}
	srv, tg := startFault(t, faultftp.Options{Tree: faultftp.Map(m), Stat: true})
	d := NewDialer(tg, DialOptions{IdleTimeout: 10 * time.Second})
	s, _, err := d.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var checked []string
	for _, dir := range []string{"/", "/d0", "/d1", "/d2", "/d3", "/d4", "/d5", "/d6", "/d7"} {
		before := srv.Count("LIST")
		l, err := s.List(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if srv.Count("LIST") > before {
			checked = append(checked, dir)
		}
		_ = l
	}
	// The root (10 lines with . and ..) is the first check. d0 (7
	// lines) and d1 are smaller; d2 (10 lines, as many as the root) and
	// d3 (as large as d2) are checked; d4 is smaller; d5 grows the
	// bound to 32 lines; d6 and d7 are smaller. d0, the first directory
	// below the root, is also listed with CWD + LIST -a: the check of the
	// host's LIST form (dialect.go).
	if want := []string{"/", "/d0", "/d2", "/d3", "/d5"}; !slices.Equal(checked, want) {
		t.Errorf("listed over a data connection: %q, want %q", checked, want)
	}
	r := d.StatReport()
	if !r.Used || r.Listed != 8 || d.st.checked.Load() != 3 {
		t.Errorf("STAT report %+v, %d checked after the first", r, d.st.checked.Load())
	}
}

// stuckCWDTree holds a directory, "odd dir", that a CWD cannot enter
// (the server answers 250 and stays put, see stuckCWD) beside pub.
var stuckCWDTree = faultftp.Entries(func(dir string) ([]faultftp.Entry, bool) {
	switch dir {
	case "/":
		return []faultftp.Entry{faultftp.Dir("pub"), {Name: "odd dir", Dir: true, Perm: 0o777}}, true
	case "/pub":
		return []faultftp.Entry{faultftp.File("README", 1), faultftp.Dir("sub")}, true
	case "/pub/sub":
		return nil, true
	}
	return nil, false
})

// stuckCWD answers 250 to every CWD, whether or not the server moved:
// for "/odd dir", which its tree does not let it enter, it stays where it
// was.
func stuckCWD(x *faultftp.Exchange) {
	if x.Verb == "CWD" {
		x.Reply = "250 Directory successfully changed.\r\n"
	}
}

// Item 7: CWD answered 250 without moving. Listing "/odd dir" (not a
// plain path: entered with CWD) is an error for that directory, not the
// entries of wherever the session was; entering it to probe is refused;
// and a 250 to CWD is no proof that a directory exists.
func TestCWDThatDoesNotMove(t *testing.T) {
	_, tg := startFault(t, faultftp.Options{Tree: stuckCWDTree, Script: faultftp.Script{Reply: stuckCWD}})
	ctx := context.Background()
	s, _, err := DialFTP(ctx, tg, DialOptions{IdleTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.(ftpaudit.Prober)
	if _, err := p.ChangeDir(ctx, "/pub"); err != nil {
		t.Fatalf("CWD /pub: %v", err)
	}
	l, err := s.List(ctx, "/odd dir")
	var pe *placeError
	var re *ftpaudit.ReplyError
	if !errors.As(err, &pe) || errors.As(err, &re) || errors.Is(err, ftpaudit.ErrConnLost) || pe.PWD != "/pub" {
		t.Fatalf("List(/odd dir) = %+v, %v; want a place error naming /pub", l, err)
	}
	if _, err := p.ChangeDir(ctx, "/odd dir"); !errors.As(err, &pe) {
		t.Errorf("ChangeDir(/odd dir): %v", err)
	}
	if ok, err := p.Exists(ctx, "/pub", "no such dir", true); ok || err == nil {
		t.Errorf("Exists(/pub/no such dir) = %v, %v; want an error", ok, err)
	}
	if ok, err := p.Exists(ctx, "/", "pub", true); !ok || err != nil {
		t.Errorf("Exists(/pub) = %v, %v", ok, err)
	}

	h, fs := walkFault(t, tg, DialOptions{})
	if h.Complete || !hasNote(h.Errors, "/odd dir", "PWD shows") {
		t.Errorf("complete %v, errors %+v", h.Complete, h.Errors)
	}
	for _, e := range h.EntryList() {
		if strings.HasPrefix(e.Path, "/odd dir/") {
			t.Errorf("entry that does not exist: %s", e.Path)
		}
	}
	if !hasFinding(fs, "/odd dir", "writable-dir") {
		t.Errorf("the writable directory's own entry was not judged: %+v", fs)
	}
}

// Every listing form still reports a cut: a transfer closed in the middle
// of a line, and a final reply that says it was truncated.
func TestEveryListingFormDetectsCuts(t *testing.T) {
	tree := faultftp.Map(map[string][]faultftp.Entry{
		"/":        {faultftp.Dir("pub"), faultftp.Dir("odd dir")},
		"/pub":     faultftp.Many("p", 30),
		"/odd dir": faultftp.Many("o", 30),
	})
	forms := []struct {
		name string
		opt  faultftp.Options
		dir  string
		dial DialOptions
	}{
		{"LIST", faultftp.Options{}, "/pub", DialOptions{}},
		{"LIST after CWD", faultftp.Options{}, "/odd dir", DialOptions{}},
		{"MLSD and LIST", faultftp.Options{MLSD: true}, "/pub", DialOptions{}},
		{"MLSD only", faultftp.Options{MLSD: true}, "/pub", DialOptions{MLSDOnly: true}},
		// STAT is proven on "/" (the first listing) and /pub is larger,
		// so it is listed over a data connection too.
		{"STAT, checked", faultftp.Options{Stat: true}, "/pub", DialOptions{}},
	}
	cuts := []struct {
		name string
		cut  func(*faultftp.Transfer)
	}{
		{"mid-line", func(x *faultftp.Transfer) { x.Data = x.Data[:len(x.Data)-7] }},
		{"226 truncated", func(x *faultftp.Transfer) { x.Final = "226 Output truncated to 20 matches\r\n" }},
	}
	for _, f := range forms {
		for _, c := range cuts {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				var on atomic.Bool
				opt := f.opt
				opt.Tree = tree
				opt.Script.Transfer = func(x *faultftp.Transfer) {
					if on.Load() && x.Dir == f.dir {
						c.cut(x)
					}
				}
				_, tg := startFault(t, opt)
				d := NewDialer(tg, f.dial)
				s, _, err := d.Connect(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.List(context.Background(), "/"); err != nil {
					t.Fatal(err)
				}
				on.Store(true)
				l, err := s.List(context.Background(), f.dir)
				if err != nil {
					t.Fatal(err)
				}
				if !l.Truncated && !ftpaudit.ReplySaysTruncated(l.Reply) {
					t.Errorf("cut not reported: %d entries, reply %q, via %s", len(l.Entries), l.Reply, l.Via)
				}
			})
		}
	}
}
