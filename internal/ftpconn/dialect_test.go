package ftpconn

// The listing dialect (dialect.go) on the scripted fault server: servers
// that read "LIST -a PATH" as one path (Twisted, pyftpdlib), a server that
// ignores the path and lists where it is, a server that refuses -a
// altogether, and error messages inside listing data (inetutils, netkit).

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
	"github.com/ftpaudit/ftpaudit/scanner"
)

// dialectTree is a small archive with a hidden file, a subdirectory and a
// directory the server will refuse to list.
var dialectTree = faultftp.Map(map[string][]faultftp.Entry{
	"/":          {faultftp.Dir("pub"), faultftp.Dir("secret"), faultftp.File(".hidden", 3), faultftp.File("README", 10)},
	"/pub":       {faultftp.File("a.txt", 1), faultftp.Dir("sub")},
	"/pub/sub":   {faultftp.File("b.txt", 2)},
	"/secret":    {faultftp.File("s.txt", 4)},
	"/pub/sub/x": nil,
})

// lastArgs remembers each session's last LIST argument, for Transfer
// hooks that act on it.
type lastArgs struct {
	mu  sync.Mutex
	arg map[int]string
}

func (a *lastArgs) set(x *faultftp.Exchange) {
	if x.Verb != "LIST" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.arg == nil {
		a.arg = map[int]string{}
	}
	a.arg[x.Session] = x.Arg
}

func (a *lastArgs) get(session int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.arg[session]
}

func dialectWalk(t *testing.T, opt faultftp.Options) (*ftpaudit.HostResult, *ftpaudit.DialectReport) {
	t.Helper()
	_, tg := startFault(t, opt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := NewDialer(tg, DialOptions{IdleTimeout: 10 * time.Second, NoStat: true})
	h := scanner.Walk(ctx, tg, d.Connect, scanner.WalkOptions{Connections: 2, NoTree: true, Backoff: time.Millisecond})
	return h, d.Dialect()
}

func wantPaths(t *testing.T, h *ftpaudit.HostResult, want ...string) {
	t.Helper()
	got := entryPaths(h)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
}

var allDialectPaths = []string{"/pub", "/secret", "/.hidden", "/README", "/pub/a.txt", "/pub/sub", "/pub/sub/b.txt", "/secret/s.txt"}

// A server that reads "LIST -a /pub" as the path "-a /pub" (Twisted,
// pyftpdlib) and answers 550: the host moves to CWD + LIST -a, which it
// understands, and the report says what was refused.
func TestDialectDashAPathRefused(t *testing.T) {
	h, d := dialectWalk(t, faultftp.Options{Tree: dialectTree, Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			if x.Verb == "LIST" && strings.HasPrefix(x.Arg, "-a ") {
				x.Reply = "550 ['" + x.Arg + "']: No such file or directory.\r\n"
			}
		},
	}})
	wantPaths(t, h, allDialectPaths...)
	if !h.Complete || len(h.Unreadable) != 0 {
		t.Errorf("complete %v %q, unreadable %+v", h.Complete, h.Incomplete, h.Unreadable)
	}
	if d.ListForm != formCWDDashA.String() || len(d.Refused) == 0 || !strings.Contains(d.Refused[0], "LIST -a PATH for /: 550") || d.HiddenNames != "listed" {
		t.Errorf("dialect %+v", d)
	}
}

// A server that refuses -a in every form: LIST PATH is used, and since no
// listing shows a hidden name, the host is incomplete and says why.
func TestDialectNoDashAIsALimit(t *testing.T) {
	tree := faultftp.Map(map[string][]faultftp.Entry{
		"/":    {faultftp.Dir("pub"), faultftp.File("README", 10)},
		"/pub": {faultftp.File("a.txt", 1)},
	})
	h, d := dialectWalk(t, faultftp.Options{Tree: tree, Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			if x.Verb == "LIST" && strings.HasPrefix(x.Arg, "-a") {
				x.Reply = "550 No such file or directory.\r\n"
			}
		},
	}})
	wantPaths(t, h, "/pub", "/README", "/pub/a.txt")
	if d.ListForm != formPath.String() || d.HiddenNames != "unknown" || d.Limit == "" {
		t.Errorf("dialect %+v", d)
	}
	// The limit costs completeness where the scanner applies it (scan.go);
	// here, the report must carry it.
}

// A server that ignores LIST's path and lists the current directory: the
// root passes (the current directory is the root), the check below the
// root catches it, and every directory is listed with CWD after all.
func TestDialectPathIgnored(t *testing.T) {
	var args lastArgs
	var srv *faultftp.Server
	opt := faultftp.Options{Tree: dialectTree, Script: faultftp.Script{
		Reply: args.set,
		Transfer: func(tr *faultftp.Transfer) {
			if tr.Verb != "LIST" || !strings.HasPrefix(args.get(tr.Session), "-a /") {
				return
			}
			// Lists the session's current directory: the root, as
			// the walk never CWDs before the check.
			lines, _ := dialectTree("/", false)
			tr.Data = []byte(strings.Join(lines, "\r\n") + "\r\n")
		},
	}}
	_ = srv
	h, d := dialectWalk(t, opt)
	wantPaths(t, h, allDialectPaths...)
	if d.ListForm != formCWDDashA.String() || d.Note == "" {
		t.Errorf("dialect %+v", d)
	}
}

// A server that answers 226 with an ls error in the data (inetutils,
// netkit): the directory is unreadable in the server's words, never an
// entry, never listable and empty.
func TestDialectErrorInData(t *testing.T) {
	h, d := dialectWalk(t, faultftp.Options{Tree: dialectTree, Script: faultftp.Script{
		Transfer: func(tr *faultftp.Transfer) {
			if tr.Dir == "/secret" {
				tr.Data = []byte("secret: Permission denied\r\n")
			}
		},
	}})
	wantPaths(t, h, "/pub", "/secret", "/.hidden", "/README", "/pub/a.txt", "/pub/sub", "/pub/sub/b.txt")
	if len(h.Unreadable) != 1 || h.Unreadable[0].Path != "/secret" || !strings.Contains(h.Unreadable[0].Error, "secret: Permission denied") {
		t.Errorf("unreadable %+v", h.Unreadable)
	}
	if len(h.Errors) != 0 || !h.Complete {
		t.Errorf("errors %+v, complete %v %q", h.Errors, h.Complete, h.Incomplete)
	}
	if d.DataErrors != 1 || d.ListForm != formDashAPath.String() {
		t.Errorf("dialect %+v", d)
	}
}

// On a server that understands LIST -a PATH the dialect costs one extra
// listing (the check) and no refusal is recorded.
func TestDialectPlainServerCost(t *testing.T) {
	srv, tg := startFault(t, faultftp.Options{Tree: dialectTree})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := NewDialer(tg, DialOptions{IdleTimeout: 10 * time.Second, NoStat: true})
	h := scanner.Walk(ctx, tg, d.Connect, scanner.WalkOptions{Connections: 1, NoTree: true, Backoff: time.Millisecond})
	wantPaths(t, h, allDialectPaths...)
	r := d.Dialect()
	if r.ListForm != formDashAPath.String() || len(r.Refused) != 0 || r.Note != "" {
		t.Errorf("dialect %+v", r)
	}
	// 4 directories, plus the check's second listing; one CWD.
	if n := srv.Count("LIST"); n != 5 {
		t.Errorf("%d LIST commands, want 5 (4 directories and one check)", n)
	}
	if n := srv.Count("CWD"); n != 1 {
		t.Errorf("%d CWD commands, want 1 (the check)", n)
	}
}

// An ftps:// target whose server refuses AUTH TLS (vsftpd without TLS
// answers "530 Please login with USER and PASS."): said as "does not
// offer TLS", not as a refused login.
func TestNoTLSOffered(t *testing.T) {
	srv, _ := startFault(t, faultftp.Options{Tree: dialectTree, Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			if x.Verb == "AUTH" {
				x.Reply = "530 Please login with USER and PASS.\r\n"
			}
		},
	}})
	tg, err := ftpaudit.ParseTarget(strings.Replace(srv.URL("/"), "ftp://", "ftps://", 1))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = DialFTP(context.Background(), tg, DialOptions{IdleTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "does not offer TLS") || !strings.Contains(err.Error(), "530 Please login") || ftpaudit.IsLoginRefused(err) {
		t.Fatalf("err %v (login refused: %v), want: the server does not offer TLS", err, ftpaudit.IsLoginRefused(err))
	}
}

// The check never holds two listings of a huge directory: one above
// checkMaxEntries is listed again in the CWD form instead (the first
// listing dropped first), and the check waits for a smaller directory.
func TestDialectCheckSkipsHugeListing(t *testing.T) {
	tree := faultftp.Map(map[string][]faultftp.Entry{
		"/":      {faultftp.Dir("big"), faultftp.Dir("small")},
		"/big":   faultftp.Many("f", checkMaxEntries+1),
		"/small": {faultftp.File("s.txt", 1)},
	})
	srv, tg := startFault(t, faultftp.Options{Tree: tree})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := NewDialer(tg, DialOptions{IdleTimeout: 10 * time.Second, NoStat: true})
	s, _, err := d.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, dir := range []string{"/", "/big", "/small"} {
		l, err := s.List(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if dir == "/big" && len(l.Entries) != checkMaxEntries+1 {
			t.Errorf("/big: %d entries", len(l.Entries))
		}
	}
	// /big: the path form, then the CWD form; /small: both, the check.
	if n, c := srv.Count("LIST"), srv.Count("CWD"); n != 5 || c != 2 {
		t.Errorf("%d LIST and %d CWD commands, want 5 and 2", n, c)
	}
	if s.(*ftpSession).dialect.check != checkDone {
		t.Errorf("the check was not done on /small")
	}
}

// A huge directory the CWD form cannot enter (pure-ftpd refuses CWD into
// a hidden directory; an uploader can fill one) is listed in the path
// form, as a smaller one would be, not reported as a failure.
func TestDialectHugeListingCWDRefused(t *testing.T) {
	tree := faultftp.Map(map[string][]faultftp.Entry{
		"/":      {faultftp.Dir(".big"), faultftp.Dir("small")},
		"/.big":  faultftp.Many("f", checkMaxEntries+1),
		"/small": {faultftp.File("s.txt", 1)},
	})
	srv, tg := startFault(t, faultftp.Options{Tree: tree, Script: faultftp.Script{Reply: func(x *faultftp.Exchange) {
		if x.Verb == "CWD" && x.Dir == "/.big" {
			x.Reply = "550 Can't change directory to .big: No such file or directory\r\n"
		}
	}}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := NewDialer(tg, DialOptions{IdleTimeout: 10 * time.Second, NoStat: true})
	s, _, err := d.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, dir := range []string{"/", "/.big", "/small"} {
		l, err := s.List(ctx, dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if dir == "/.big" && len(l.Entries) != checkMaxEntries+1 {
			t.Errorf("/.big: %d entries", len(l.Entries))
		}
	}
	if n := srv.Count("CWD"); n < 2 {
		t.Errorf("%d CWD commands: the CWD form was not tried on /.big", n)
	}
	if s.(*ftpSession).dialect.check != checkDone {
		t.Errorf("the check was not done on /small")
	}
}
