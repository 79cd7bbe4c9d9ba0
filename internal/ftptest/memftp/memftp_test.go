package memftp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/textproto"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// testSpec is the archive most tests serve. Every awkward directory holds
// a file "f" so that reaching it can be checked.
const testSpec = `
# test archive
drwxr-xr-x root root 4096 2020-01-01 "/"
drwxr-xr-x root root 4096 2020-01-02 "/pub"
-rw-r--r-- root root 10 2020-01-03T04:05:06 "/pub/file"
-rw-rw-rw- root root 5 "/pub/ww"
-rw-r--r-- ftp ftp 7 "/pub/ftpowned"
-rw-r--r-- root root 3 "/pub/.hidden"
lrwxrwxrwx root root 4 "/pub/link" -> "file"
lrwxrwxrwx root root 5 "/pub/up" -> "../.."
lrwxrwxrwx root root 4 "/pub/loop" -> "loop"
lrwxrwxrwx root root 4 "/pub/etc" -> "/etc"
lrwxrwxrwx root root 4 "/pub/spaces" -> "/  "
drwxr-xr-x root root 4096 "/  "
-rw-r--r-- root root 1 "/  /f"
drwxr-xr-x root root 4096 "/. "
-rw-r--r-- root root 1 "/. /f"
drwxr-xr-x root root 4096 "/..."
-rw-r--r-- root root 1 "/.../f"
drwxr-xr-x root root 4096 "/ lead"
-rw-r--r-- root root 1 "/ lead/f"
drwxr-xr-x root root 4096 "/trail "
-rw-r--r-- root root 1 "/trail /f"
drwxr-xr-x root root 4096 "/\x1b[31mred"
-rw-r--r-- root root 1 "/\x1b[31mred/f"
drwxr-xr-x root root 4096 "/bad\xff\xfe"
-rw-r--r-- root root 1 "/bad\xff\xfe/f"
drwxr-xr-x root root 4096 "/ "
drwxr-xr-x root root 4096 "/ /  "
drwxr-xr-x root root 4096 "/ /  / "
-rw-r--r-- root root 1 "/ /  / /f"
drwxr-xr-x root root 4096 "/-a"
-rw-r--r-- root root 1 "/-a/f"
drwxr-xr-x root root 4096 "/a\"q"
-rw-r--r-- root root 1 "/a\"q/f"
drwxr-xr-x root root 4096 "/tab\there"
-rw-r--r-- root root 1 "/tab\there/f"
d--x--x--x root root 4096 "/etc"
-r--r--r-- root root 100 "/etc/passwd"
drwxrwxrwx root root 4096 "/incoming"
drwx-wx-wt root ftp 4096 "/dropbox"
-rw------- root root 1 "/dropbox/theirs"
drwxr-xr-x ftp ftp 4096 "/ftpdir"
drw-r--r-- root root 4096 "/nox"
-rw-r--r-- root root 1 "/nox/f"
`

// awkward are the directories whose names servers and clients tend to
// mangle; each holds a file "f".
var awkward = []string{
	"/  ", "/. ", "/...", "/ lead", "/trail ", "/\x1b[31mred", "/bad\xff\xfe",
	"/ /  / ", "/-a", "/a\"q", "/tab\there",
}

func mustParse(t *testing.T, spec string) *Node {
	t.Helper()
	root, err := ParseSpec(strings.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func startTest(t *testing.T, opt Options) *Server {
	t.Helper()
	if opt.Logf == nil {
		opt.Logf = t.Logf
	}
	srv, err := Start(context.Background(), mustParse(t, testSpec), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func login(t *testing.T, srv *Server) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(srv.Addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("anonymous", "scanner@example.org"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

// raw is a minimal FTP client that shows the server's bytes as they are.
type raw struct {
	t  *testing.T
	nc net.Conn
	tp *textproto.Conn
}

func dialRaw(t *testing.T, srv *Server) *raw {
	t.Helper()
	nc, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := &raw{t: t, nc: nc, tp: textproto.NewConn(nc)}
	t.Cleanup(func() { r.tp.Close() })
	if code, msg := r.read(); code != 220 {
		t.Fatalf("greeting: %d %s", code, msg)
	}
	r.expect(331, "USER anonymous")
	r.expect(230, "PASS guest@")
	return r
}

func (r *raw) read() (int, string) {
	r.t.Helper()
	code, msg, err := r.tp.ReadResponse(0)
	if err != nil {
		r.t.Fatalf("reading reply: %v", err)
	}
	return code, msg
}

func (r *raw) cmd(line string) (int, string) {
	r.t.Helper()
	if err := r.tp.PrintfLine("%s", line); err != nil {
		r.t.Fatal(err)
	}
	return r.read()
}

func (r *raw) expect(code int, line string) string {
	r.t.Helper()
	got, msg := r.cmd(line)
	if got != code {
		r.t.Fatalf("%q: got %d %q, want %d", line, got, msg, code)
	}
	return msg
}

// data runs a data command over EPSV. It returns the preliminary reply,
// the data and the final reply (0 when there was no 150).
func (r *raw) data(line string) (code int, msg string, data []byte, final int, finalMsg string) {
	r.t.Helper()
	m := r.expect(229, "EPSV")
	i, j := strings.Index(m, "|||"), strings.LastIndex(m, "|")
	port, err := strconv.Atoi(m[i+3 : j])
	if err != nil {
		r.t.Fatalf("EPSV reply %q", m)
	}
	dc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		r.t.Fatal(err)
	}
	defer dc.Close()
	code, msg = r.cmd(line)
	if code != 150 {
		return code, msg, nil, 0, ""
	}
	if strings.HasPrefix(line, "STOR ") || strings.HasPrefix(line, "APPE ") {
		dc.Close() // an empty upload
	} else {
		_ = dc.SetDeadline(time.Now().Add(10 * time.Second))
		if data, err = io.ReadAll(dc); err != nil {
			r.t.Fatal(err)
		}
	}
	final, finalMsg = r.read()
	return code, msg, data, final, finalMsg
}

// lines runs a listing command that must succeed and returns its lines.
func (r *raw) lines(line string) []string {
	r.t.Helper()
	code, msg, data, final, fmsg := r.data(line)
	if code != 150 || final != 226 {
		r.t.Fatalf("%q: %d %q / %d %q", line, code, msg, final, fmsg)
	}
	s := string(data)
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\r\n") {
		r.t.Fatalf("%q: listing not CRLF-terminated: %q", line, s)
	}
	return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
}

// lsName is the name part of one of our LIST lines (fixed columns: mode,
// links, owner, group, size, 12-character date, then one space).
func lsName(t *testing.T, line string) string {
	t.Helper()
	const off = 10 + 1 + 4 + 1 + 8 + 1 + 8 + 1 + 12 + 1 + 12 + 1
	if len(line) < off {
		t.Fatalf("short LIST line %q", line)
	}
	return line[off:]
}

func lsNames(t *testing.T, lines []string) []string {
	var names []string
	for _, l := range lines {
		names = append(names, lsName(t, l))
	}
	return names
}

// mlsdNames maps name -> facts part of MLSD lines.
func mlsdFacts(t *testing.T, lines []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range lines {
		i := strings.Index(l, "; ")
		if i < 0 {
			t.Fatalf("bad MLSD line %q", l)
		}
		m[l[i+2:]] = l[:i+1]
	}
	return m
}

func TestParseSpec(t *testing.T) {
	root := mustParse(t, testSpec)
	if root.Name != "/" || !root.Mode.IsDir() || root.ModTime != time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("root = %+v", root)
	}
	pub := root.Children[0]
	if pub.Name != "pub" || len(pub.Children) != 9 {
		t.Fatalf("pub = %+v", pub)
	}
	f := pub.Children[0]
	if f.Name != "file" || f.Size != 10 || f.Mode != 0o644 || f.Owner != "root" ||
		f.ModTime != time.Date(2020, 1, 3, 4, 5, 6, 0, time.UTC) {
		t.Fatalf("file = %+v", f)
	}
	if l := pub.Children[4]; l.Name != "link" || l.Mode != os.ModeSymlink|0o777 || l.Target != "file" {
		t.Fatalf("link = %+v", l)
	}
	var names []string
	for _, c := range root.Children {
		names = append(names, c.Name)
	}
	for _, a := range awkward {
		first := strings.SplitN(a[1:], "/", 2)[0]
		if !slices.Contains(names, first) {
			t.Errorf("root lacks %q: %q", first, names)
		}
	}
	drop := root.Children[slices.Index(names, "dropbox")]
	if drop.Mode != os.ModeDir|os.ModeSticky|0o733 || LsMode(drop.Mode) != "drwx-wx-wt" || unixMode(drop.Mode) != "1733" {
		t.Fatalf("dropbox mode %v", drop.Mode)
	}

	for _, m := range []string{"drwxr-xr-x", "-rw-rw-rw-", "lrwxrwxrwx", "drwx-wx-wt", "drwxrwxrwT", "-rwsr-sr-x", "-rwSr-Sr--", "prw-r--r--", "srwxrwxrwx", "crw-rw----", "brw-rw----", "d--x--x--x"} {
		got, err := ParseMode(m)
		if err != nil || LsMode(got) != m {
			t.Errorf("ParseMode(%q) = %v, %v; LsMode back = %q", m, got, err, LsMode(got))
		}
	}

	bad := []struct{ spec, want string }{
		{"drwxr-xr-x root root 4096 \"/a\"\n-rw-r--r-- root root 1 \"/b/c\"", "line 2: parent directory \"/b\""},
		{"# c\n\ndrwxr-xr-x root root 4096 \"/a\"\ndrwxr-xr-x root root 4096 \"/a\"", "line 4: \"/a\" declared twice"},
		{"drwxr-xr-q root root 4096 \"/a\"", "line 1: bad mode"},
		{"drwxr-xr-x root root 4096 \"/a", "line 1: path: unterminated"},
		{"drwxr-xr-x root root 4096 /a", "line 1: missing quoted path"},
		{"drwxr-xr-x root root x \"/a\"", "line 1: bad size"},
		{"drwxr-xr-x root root 1 2020-13-01 \"/a\"", "line 1: bad date"},
		{"lrwxrwxrwx root root 1 \"/a\"", "line 1: symlink needs"},
		{"-rw-r--r-- root root 1 \"/a\" -> \"b\"", "line 1: only symlinks"},
		{"-rw-r--r-- root root 1 \"/a/../b\"", "line 1: path \"/a/../b\""},
		{"-rw-r--r-- root root 1 \"/a//b\"", "empty component"},
		{"-rw-r--r-- root root 1 \"a\"", "not absolute"},
		{"-rw-r--r-- root root 1 \"/f\"\n-rw-r--r-- root root 1 \"/f/g\"", "line 2: parent \"/f\" of \"/f/g\" is not a directory"},
		{"-rw-r--r-- root root 1 \"/\"", "root \"/\" must be a directory"},
	}
	for _, b := range bad {
		_, err := ParseSpec(strings.NewReader(b.spec))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("ParseSpec(%q) = %v, want error containing %q", b.spec, err, b.want)
		}
	}
}

func TestDemoArchive(t *testing.T) {
	b, err := os.ReadFile("../../../cmd/ftpaudit/demo/archive.txt")
	if err != nil {
		t.Fatal(err)
	}
	root, err := ParseSpec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	paths := map[string]*Node{}
	var walk func(dir string, n *Node)
	walk = func(dir string, n *Node) {
		for _, c := range n.Children {
			count++
			p := joinPath(dir, c.Name)
			paths[p] = c
			walk(p, c)
		}
	}
	walk("/", root)
	if count < 30 || count > 60 {
		t.Errorf("demo archive has %d entries, want 30..60", count)
	}
	for _, p := range []string{"/README", "/ls-lR", "/SHA256SUMS", "/etc/passwd", "/incoming/0day/file_id.diz",
		"/incoming/0day/keygen.exe", "/incoming/.../  ", "/dropbox", "/pub/NOTICE.txt", "/pub/welcome.msg"} {
		if paths[p] == nil {
			t.Errorf("demo archive lacks %q", p)
		}
	}
	srv, err := Start(context.Background(), root, Options{MLSD: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r := dialRaw(t, srv)
	facts := mlsdFacts(t, r.lines("MLSD /incoming"))
	if !strings.Contains(facts["..."], "perm=flcdmpe;") {
		t.Errorf("/incoming/... facts %q", facts["..."])
	}
	iso := r.lines("LIST -a /incoming/.../  /.")
	if len(iso) != 1 || !strings.HasSuffix(iso[0], " 4700372992 Jan 30  2025 Win10.Pro.x64.Activated.iso") {
		t.Errorf("iso listing %q", iso)
	}
	if code, msg := r.cmd("CWD /pub/linux/distributions/current"); code != 550 || !strings.Contains(msg, "symbolic links") {
		t.Errorf("CWD into the loop: %d %s", code, msg)
	}
	r.expect(250, "CWD /pub/linux/rootfs/etc")
	if code, _, _, _, _ := r.data("LIST -a /pub/linux/etc/"); code != 550 {
		t.Errorf("LIST of /etc through the escaping link: %d", code)
	}
	for _, d := range []string{"/bin", "/etc", "/dropbox"} {
		if code, msg, _, _, _ := r.data("LIST -a " + d); code != 550 {
			t.Errorf("LIST %s: %d %s", d, code, msg)
		}
	}
}

func TestLogin(t *testing.T) {
	srv := startTest(t, Options{})
	for _, up := range [][2]string{{"anonymous", "x@y"}, {"ftp", ""}, {"Anonymous", "guest"}} {
		c, err := ftp.Dial(srv.Addr, ftp.DialWithTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(up[0], up[1]); err != nil {
			t.Errorf("Login(%q, %q): %v", up[0], up[1], err)
		}
		c.Quit()
	}
	c, err := ftp.Dial(srv.Addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("root", "toor"); err == nil {
		t.Error("root logged in")
	}
	if _, err := c.List("/"); err == nil {
		t.Error("List without login succeeded")
	}
}

func TestClientList(t *testing.T) {
	for _, mlsd := range []bool{false, true} {
		t.Run("mlsd="+strconv.FormatBool(mlsd), func(t *testing.T) {
			srv := startTest(t, Options{MLSD: mlsd})
			c := login(t, srv)
			entries, err := c.List("/pub")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*ftp.Entry{}
			for _, e := range entries {
				got[e.Name] = e
			}
			want := []string{"file", "ww", "ftpowned", "link", "up", "loop", "etc"}
			if mlsd {
				// MLSD shows dot files. jlaffaye/ftp garbles the name
				// of "spaces": its type fact (slink:/  ) holds blanks.
				want = append(want, ".hidden", " ;unique=fd01Uc;UNIX.mode=0777;UNIX.owner=root;UNIX.group=root; spaces")
			} else {
				want = append(want, "spaces")
			}
			for _, n := range want {
				if got[n] == nil {
					t.Errorf("List(/pub) lacks %q: %v", n, entries)
				}
			}
			if !mlsd && got[".hidden"] != nil {
				t.Error("LIST without -a shows .hidden")
			}
			if len(got) != len(want) {
				t.Errorf("List(/pub) = %d entries, want %d", len(got), len(want))
			}
			if e := got["file"]; e == nil || e.Type != ftp.EntryTypeFile || e.Size != 10 {
				t.Errorf("file entry %+v", e)
			}
			if !mlsd {
				if e := got["link"]; e == nil || e.Type != ftp.EntryTypeLink || e.Target != "file" {
					t.Errorf("link entry %+v", e)
				}
			}
			if err := c.ChangeDir("/ /  / "); err != nil {
				t.Fatal(err)
			}
			if dir, err := c.CurrentDir(); err != nil || dir != "/ /  / " {
				t.Errorf("CurrentDir = %q, %v", dir, err)
			}
			names, err := c.NameList("")
			if err != nil || !slices.Equal(names, []string{"f"}) {
				t.Errorf("NameList = %q, %v", names, err)
			}
			r, err := c.Retr("/pub/file")
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(b, make([]byte, 10)) {
				t.Errorf("Retr = %q, %v", b, err)
			}
			if n, err := c.FileSize("/pub/link"); err != nil || n != 10 {
				t.Errorf("FileSize(link) = %d, %v", n, err)
			}
		})
	}
}

func TestRawList(t *testing.T) {
	srv := startTest(t, Options{})
	r := dialRaw(t, srv)
	root := lsNames(t, r.lines("LIST -a /"))
	want := []string{"pub", "  ", ". ", "...", " lead", "trail ", "\x1b[31mred", "bad\xff\xfe", " ", "-a", "a\"q", "tab\there", "etc", "incoming", "dropbox", "ftpdir", "nox"}
	if !slices.Equal(root, want) {
		t.Errorf("LIST -a / names\n got %q\nwant %q", root, want)
	}
	if got := lsNames(t, r.lines("LIST /")); slices.Contains(got, "...") || slices.Contains(got, ". ") || !slices.Contains(got, "  ") {
		t.Errorf("LIST / (no -a) names %q", got)
	}
	pub := r.lines("LIST -a /pub")
	if len(pub) != 9 {
		t.Fatalf("LIST -a /pub: %q", pub)
	}
	if pub[0] != "-rw-r--r--    1 root     root               10 Jan  3  2020 file" {
		t.Errorf("file line %q", pub[0])
	}
	for _, want := range []string{"link -> file", "up -> ../..", "loop -> loop", "etc -> /etc", "spaces -> /  "} {
		found := false
		for _, l := range pub {
			if strings.HasPrefix(l, "lrwxrwxrwx") && lsName(t, l) == want {
				found = true
			}
		}
		if !found {
			t.Errorf("LIST -a /pub lacks %q: %q", want, pub)
		}
	}
	// Option words, relative paths, a file, the cwd.
	if got := lsNames(t, r.lines("LIST -la /pub")); len(got) != 9 {
		t.Errorf("LIST -la: %q", got)
	}
	if got := lsNames(t, r.lines("LIST -a -l /pub/file")); !slices.Equal(got, []string{"file"}) {
		t.Errorf("LIST of a file: %q", got)
	}
	r.expect(250, "CWD /pub")
	if got := lsNames(t, r.lines("LIST -a")); len(got) != 9 {
		t.Errorf("LIST -a in cwd: %q", got)
	}
	if got := lsNames(t, r.lines("LIST -a spaces")); !slices.Equal(got, []string{"f"}) {
		t.Errorf("LIST through a symlink to a dir: %q", got)
	}
	if got := lsNames(t, r.lines("LIST -a up/pub/../...")); !slices.Equal(got, []string{"f"}) {
		t.Errorf("LIST up/pub/../...: %q", got)
	}
	if code, msg, _, _, _ := r.data("LIST -a /nonexistent"); code != 550 {
		t.Errorf("LIST of a missing path: %d %s", code, msg)
	}
	if code, msg := r.cmd("LIST -a /pub"); code != 425 {
		t.Errorf("LIST without EPSV: %d %s", code, msg)
	}
	if got := r.lines("NLST -a /pub"); len(got) != 9 || got[0] != "file" {
		t.Errorf("NLST -a /pub: %q", got)
	}
	if code, msg := r.cmd("STAT /pub/file"); code != 213 || !strings.Contains(msg, " file") {
		t.Errorf("STAT: %d %q", code, msg)
	}
}

func TestAwkwardNamesReachable(t *testing.T) {
	srv := startTest(t, Options{MLSD: true})
	r := dialRaw(t, srv)
	for _, d := range awkward {
		// The scanner appends "/." to names ending in a blank; this server
		// needs no such help.
		forms := []string{d + "/.", d + "/", d}
		for _, p := range forms {
			if got := lsNames(t, r.lines("LIST -a "+p)); !slices.Equal(got, []string{"f"}) {
				t.Errorf("LIST -a %q = %q", p, got)
			}
			if got := lsNames(t, r.lines("LIST "+p)); !slices.Equal(got, []string{"f"}) {
				t.Errorf("LIST %q = %q", p, got)
			}
			if got := mlsdFacts(t, r.lines("MLSD "+p)); len(got) != 1 || got["f"] == "" {
				t.Errorf("MLSD %q = %q", p, got)
			}
		}
		r.expect(250, "CWD "+d)
		want := `"` + strings.ReplaceAll(d, `"`, `""`) + `" is the current directory`
		if msg := r.expect(257, "PWD"); msg != want {
			t.Errorf("PWD after CWD %q = %q", d, msg)
		}
		if got := r.lines("NLST"); !slices.Equal(got, []string{"f"}) {
			t.Errorf("NLST in %q = %q", d, got)
		}
		r.expect(250, "CWD /")
		// Relative forms from the root.
		if got := lsNames(t, r.lines("LIST -a "+d[1:]+"/.")); !slices.Equal(got, []string{"f"}) {
			t.Errorf("LIST -a relative %q = %q", d[1:], got)
		}
		if code, msg := r.cmd("SIZE " + d + "/f"); code != 213 || msg != "1" {
			t.Errorf("SIZE %q/f: %d %s", d, code, msg)
		}
	}
	// Nested: the names on the way are exact, not trimmed.
	r.expect(250, "CWD / ")
	r.expect(250, "CWD   ")
	r.expect(250, "CWD  ")
	if msg := r.expect(257, "PWD"); msg != `"/ /  / " is the current directory` {
		t.Errorf("PWD = %q", msg)
	}
	r.expect(250, "CDUP")
	if msg := r.expect(257, "PWD"); msg != `"/ /  " is the current directory` {
		t.Errorf("PWD after CDUP = %q", msg)
	}
}

func TestMLSD(t *testing.T) {
	srv := startTest(t, Options{MLSD: true})
	r := dialRaw(t, srv)
	feat := r.expect(211, "FEAT")
	if !strings.Contains(feat, "\n MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.mode*;UNIX.owner*;\n") {
		t.Errorf("FEAT = %q", feat)
	}
	pub := r.lines("MLSD /pub")
	for _, l := range pub {
		if !strings.HasPrefix(l, "modify=") {
			t.Errorf("MLSD line %q", l)
		}
	}
	facts := mlsdFacts(t, pub)
	wantFacts := map[string]string{
		"file":     "modify=20200103040506;perm=r;size=10;type=file;unique=",
		"ww":       ";perm=arw;size=5;type=file;",
		"ftpowned": ";perm=arw;size=7;type=file;",
		"link":     ";perm=r;size=4;type=OS.unix=slink:file;",
		"up":       ";perm=le;size=5;type=OS.unix=slink:../..;",
		"loop":     ";perm=;size=4;type=OS.unix=slink:loop;",
		"etc":      ";perm=e;size=4;type=OS.unix=slink:/etc;",
		".hidden":  ";perm=r;size=3;type=file;",
	}
	for name, want := range wantFacts {
		if !strings.Contains(facts[name], want) {
			t.Errorf("MLSD /pub %q facts %q, want %q", name, facts[name], want)
		}
	}
	if f := facts["file"]; !strings.HasSuffix(f, ";UNIX.mode=0644;UNIX.owner=root;UNIX.group=root;") {
		t.Errorf("file facts %q", f)
	}
	root := mlsdFacts(t, r.lines("MLSD /"))
	for name, want := range map[string]string{
		"incoming": "perm=lcmpe;", "dropbox": "perm=cmpe;", "etc": "perm=e;", "pub": "perm=le;",
		"ftpdir": "perm=lcmpe;", "nox": "perm=l;", "  ": "type=dir;",
	} {
		if !strings.Contains(root[name], want) {
			t.Errorf("MLSD / %q facts %q, want %q", name, root[name], want)
		}
	}
	if !strings.Contains(root["dropbox"], "UNIX.mode=1733;UNIX.owner=root;UNIX.group=ftp;") {
		t.Errorf("dropbox facts %q", root["dropbox"])
	}
}

func TestMLSDIncoming(t *testing.T) {
	srv := startTest(t, Options{MLSD: true, DotEntries: true})
	r := dialRaw(t, srv)
	if code, _, _, final, _ := r.data("STOR /incoming/up.bin"); code != 150 || final != 226 {
		t.Fatalf("STOR: %d %d", code, final)
	}
	facts := mlsdFacts(t, r.lines("MLSD /incoming"))
	if !strings.Contains(facts["up.bin"], "perm=adfrw;size=0;type=file;") || !strings.Contains(facts["up.bin"], "UNIX.owner=ftp;UNIX.group=ftp;") {
		t.Errorf("up.bin facts %q", facts["up.bin"])
	}
	if !strings.Contains(facts["."], "type=cdir;") || !strings.Contains(facts[".."], "type=pdir;") {
		t.Errorf("dot entries %q", facts)
	}
	msg := r.expect(250, "MLST /pub/link")
	if !strings.Contains(msg, "type=OS.unix=slink:file;") || !strings.Contains(msg, "; /pub/link") {
		t.Errorf("MLST = %q", msg)
	}
	lines := lsNames(t, r.lines("LIST -a /pub"))
	if lines[0] != "." || lines[1] != ".." {
		t.Errorf("LIST -a with DotEntries: %q", lines)
	}
	if got := lsNames(t, r.lines("LIST -A /pub")); slices.Contains(got, ".") || !slices.Contains(got, ".hidden") {
		t.Errorf("LIST -A: %q", got)
	}
}

func TestListOnly(t *testing.T) {
	srv := startTest(t, Options{})
	r := dialRaw(t, srv)
	if feat := r.expect(211, "FEAT"); strings.Contains(feat, "MLST") {
		t.Errorf("FEAT in LIST-only mode = %q", feat)
	}
	if code, _ := r.cmd("MLSD /"); code != 500 {
		t.Errorf("MLSD in LIST-only mode: %d", code)
	}
	if code, _ := r.cmd("MLST /"); code != 500 {
		t.Errorf("MLST in LIST-only mode: %d", code)
	}
}

func TestUnreadable(t *testing.T) {
	srv := startTest(t, Options{MLSD: true})
	r := dialRaw(t, srv)
	for _, line := range []string{"LIST -a /etc", "LIST /dropbox", "NLST /etc", "MLSD /etc", "LIST -a /pub/etc", "LIST -a /nox/."} {
		code, msg, _, _, _ := r.data(line)
		if code != 550 || msg != "Permission denied" {
			t.Errorf("%q: %d %q", line, code, msg)
		}
	}
	// x without r: the directory is traversable.
	r.expect(250, "CWD /etc")
	r.expect(213, "SIZE passwd")
	if code, _, data, final, _ := r.data("RETR /pub/up/etc/passwd"); code != 150 || final != 226 || len(data) != 100 {
		t.Errorf("RETR through the escaping link: %d %d %d", code, final, len(data))
	}
	// r without x: listable, not traversable.
	if code, msg := r.cmd("CWD /nox"); code != 550 {
		t.Errorf("CWD /nox: %d %s", code, msg)
	}
	if got := lsNames(t, r.lines("LIST -a /nox")); !slices.Equal(got, []string{"f"}) {
		t.Errorf("LIST /nox: %q", got)
	}
	if code, msg := r.cmd("CWD /pub/loop"); code != 550 || msg != "Too many levels of symbolic links" {
		t.Errorf("CWD loop: %d %s", code, msg)
	}

	srv2 := startTest(t, Options{MLSD: true, EmptyOnUnreadable: true})
	r2 := dialRaw(t, srv2)
	for _, line := range []string{"LIST -a /etc", "LIST /dropbox", "NLST /etc", "MLSD /etc"} {
		code, _, data, final, msg := r2.data(line)
		if code != 150 || final != 226 || len(data) != 0 {
			t.Errorf("EmptyOnUnreadable %q: %d %d %q %q", line, code, final, data, msg)
		}
	}
	if code, _, _, _, _ := r2.data("LIST -a /missing"); code != 550 {
		t.Errorf("EmptyOnUnreadable LIST of a missing dir: %d", code)
	}
}

func TestWrite(t *testing.T) {
	srv := startTest(t, Options{})
	c := login(t, srv)
	if err := c.Stor("/incoming/new.txt", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if err := c.MakeDir("/incoming/sub"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("/incoming/sub/x", strings.NewReader("")); err != nil {
		t.Error(err)
	}
	if err := c.Stor("/ftpdir/x", strings.NewReader("abc")); err != nil {
		t.Errorf("STOR into a dir owned by ftp: %v", err)
	}
	if err := c.Stor("/pub/ww", strings.NewReader("overwrite")); err != nil {
		t.Errorf("STOR over a world-writable file: %v", err)
	}
	for _, p := range []string{"/pub/x", "/pub/file", "/x", "/etc/x", "/incoming"} {
		if err := c.Stor(p, strings.NewReader("no")); err == nil {
			t.Errorf("STOR %q succeeded", p)
		}
	}
	for _, p := range []string{"/pub/d", "/d", "/incoming/sub"} {
		if err := c.MakeDir(p); err == nil {
			t.Errorf("MKD %q succeeded", p)
		}
	}
	// Drop box: write-only, sticky.
	if err := c.Stor("/dropbox/mine", strings.NewReader("1234")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List("/dropbox"); err == nil {
		t.Error("LIST of the drop box succeeded")
	}
	if err := c.Delete("/dropbox/theirs"); err == nil {
		t.Error("deleted someone else's file in a sticky dir")
	}
	if err := c.Delete("/dropbox/mine"); err != nil {
		t.Errorf("delete own file in a sticky dir: %v", err)
	}
	if err := c.Delete("/pub/file"); err == nil {
		t.Error("DELE in /pub succeeded")
	}
	if err := c.RemoveDir("/incoming/sub"); err == nil {
		t.Error("RMD of a non-empty dir succeeded")
	}
	if err := c.Rename("/incoming/new.txt", "/incoming/sub/renamed.txt"); err != nil {
		t.Error(err)
	}
	if err := c.Rename("/incoming/sub", "/incoming/sub/deeper"); err == nil {
		t.Error("moved a dir into itself")
	}
	if err := c.Rename("/pub/file", "/incoming/stolen"); err == nil {
		t.Error("renamed out of /pub")
	}

	snap := srv.Snapshot()
	find := func(p string) *Node {
		n := snap
		for _, name := range strings.Split(p[1:], "/") {
			n = child(n, name)
			if n == nil {
				return nil
			}
		}
		return n
	}
	if n := find("/incoming/sub/renamed.txt"); n == nil || n.Owner != "ftp" || n.Group != "ftp" || n.Mode != 0o644 || n.Size != 5 {
		t.Errorf("uploaded file %+v", n)
	}
	if n := find("/incoming/sub"); n == nil || n.Owner != "ftp" || n.Mode != os.ModeDir|0o755 {
		t.Errorf("created dir %+v", n)
	}
	if n := find("/pub/ww"); n == nil || n.Size != 9 || n.Owner != "root" {
		t.Errorf("overwritten file %+v", n)
	}
	if find("/dropbox/mine") != nil || find("/dropbox/theirs") == nil {
		t.Error("drop box contents wrong after DELE")
	}
	if err := c.Delete("/incoming/sub/renamed.txt"); err != nil {
		t.Error(err)
	}
	if err := c.Delete("/incoming/sub/x"); err != nil {
		t.Error(err)
	}
	if err := c.RemoveDir("/incoming/sub"); err != nil {
		t.Error(err)
	}
	if find := srv.Snapshot(); child(child(find, "incoming"), "sub") != nil {
		t.Error("RMD left the dir")
	}
	// The caller's tree is not modified.
	root := mustParse(t, testSpec)
	srv2, err := Start(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	c2 := login(t, srv2)
	if err := c2.MakeDir("/incoming/x"); err != nil {
		t.Fatal(err)
	}
	for _, n := range root.Children {
		if n.Name == "incoming" && len(n.Children) != 0 {
			t.Error("Start's caller tree was modified")
		}
	}
}

func TestRetrRest(t *testing.T) {
	srv := startTest(t, Options{})
	c := login(t, srv)
	r, err := c.RetrFrom("/pub/file", 4)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if len(b) != 6 {
		t.Errorf("RETR after REST 4: %d bytes", len(b))
	}
	for _, p := range []string{"/pub", "/pub/loop", "/missing", "/dropbox/theirs"} {
		if _, err := c.Retr(p); err == nil {
			t.Errorf("RETR %q succeeded", p)
		}
	}
}

func TestSilentWithoutLogf(t *testing.T) {
	var buf bytes.Buffer
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	srv, err := Start(context.Background(), mustParse(t, testSpec), Options{MLSD: true})
	if err != nil {
		t.Fatal(err)
	}
	c := login(t, srv)
	c.List("/pub")
	c.List("/etc")
	c.FileSize("/missing")
	c.Quit()
	r := dialRaw(t, srv)
	r.cmd("STAT /missing")
	r.cmd("BOGUS")
	r.data("LIST -a /")
	srv.Close()
	if buf.Len() != 0 {
		t.Errorf("server logged without Logf: %q", buf.String())
	}
}

func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Start(ctx, mustParse(t, testSpec), Options{MLSD: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	c := login(t, srv)
	if _, err := c.List("/"); err != nil {
		t.Fatal(err)
	}
	// A session with a passive listener waiting, one idle, one not logged in.
	r := dialRaw(t, srv)
	r.expect(229, "EPSV")
	_ = dialRaw(t, srv)
	idle, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	done := make(chan error)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	if conn, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		conn.Close()
		t.Error("server still accepts connections after Close")
	}
	if _, err := c.List("/"); err == nil {
		t.Error("session still works after Close")
	}
	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(idle); err != nil && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Error("idle session not closed")
		}
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestContextCancelCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx, mustParse(t, testSpec), Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", srv.Addr, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("server still accepts connections after its context was cancelled")
}

func TestLoopbackOnly(t *testing.T) {
	srv := startTest(t, Options{})
	if host, _, _ := net.SplitHostPort(srv.Addr); host != "127.0.0.1" {
		t.Errorf("Addr = %q", srv.Addr)
	}
	r := dialRaw(t, srv)
	msg := r.expect(227, "PASV")
	if !strings.Contains(msg, "(127,0,0,1,") {
		t.Errorf("PASV = %q", msg)
	}
	r.expect(502, "PORT 127,0,0,1,4,1")
	r.expect(502, "EPRT |1|127.0.0.1|1025|")
}
