package faultftp_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

var tree = faultftp.Map(map[string][]faultftp.Entry{
	"/":    {faultftp.Dir("pub"), faultftp.File("README", 10)},
	"/pub": {faultftp.File("a b", 1)},
})

// client is a raw control connection.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, srv *faultftp.Server) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", srv.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// reply reads one (possibly multi-line) reply.
func (cl *client) reply() string {
	cl.t.Helper()
	var all []string
	for {
		l, err := cl.r.ReadString('\n')
		if err != nil {
			cl.t.Fatalf("reading a reply after %q: %v", all, err)
		}
		all = append(all, l)
		if len(all) == 1 && (len(l) < 4 || l[3] != '-') {
			break
		}
		if len(all) > 1 && len(l) >= 4 && l[:3] == all[0][:3] && l[3] == ' ' {
			break
		}
	}
	return strings.Join(all, "")
}

func (cl *client) cmd(line string) string {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, line+"\r\n"); err != nil {
		cl.t.Fatal(err)
	}
	return cl.reply()
}

func (cl *client) want(line, prefix string) string {
	cl.t.Helper()
	r := cl.cmd(line)
	if !strings.HasPrefix(r, prefix) {
		cl.t.Fatalf("%s: reply %q, want %s", line, r, prefix)
	}
	return r
}

// list opens a data connection with EPSV, sends cmd and returns the data
// and the final reply.
func (cl *client) list(cmd string) (string, string) {
	cl.t.Helper()
	r := cl.want("EPSV", "229 ")
	i, j := strings.Index(r, "|||"), strings.LastIndex(r, "|")
	port, err := strconv.Atoi(r[i+3 : j])
	if err != nil {
		cl.t.Fatalf("EPSV %q", r)
	}
	dc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		cl.t.Fatal(err)
	}
	defer dc.Close()
	cl.want(cmd, "150")
	b, _ := io.ReadAll(dc)
	return string(b), cl.reply()
}

func TestProtocol(t *testing.T) {
	srv, err := faultftp.Start(faultftp.Options{Tree: tree, MLSD: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl := dial(t, srv)
	if g := cl.reply(); !strings.HasPrefix(g, "220 ") {
		t.Fatalf("greeting %q", g)
	}
	cl.want("LIST", "530")
	cl.want("USER bob", "530")
	cl.want("USER anonymous", "331")
	cl.want("PASS x@", "230")
	if f := cl.want("FEAT", "211-"); !strings.Contains(f, "\r\n MLST ") || !strings.Contains(f, "\r\n EPSV\r\n") {
		t.Errorf("FEAT %q", f)
	}
	cl.want("SYST", "215 ")
	cl.want("TYPE I", "200 ")
	cl.want("PWD", `257 "/"`)
	cl.want("CWD /nope", "550 ")
	cl.want("CWD pub", "250 ")
	cl.want("PWD", `257 "/pub"`)
	data, final := cl.list("LIST -a")
	if data != faultftp.File("a b", 1).ListLine()+"\r\n" || !strings.HasPrefix(final, "226 ") {
		t.Errorf("LIST -a: %q, %q", data, final)
	}
	cl.want("CDUP", "250 ")
	data, _ = cl.list("MLSD /pub/.")
	if data != faultftp.File("a b", 1).MLSDLine()+"\r\n" {
		t.Errorf("MLSD: %q", data)
	}
	data, _ = cl.list("LIST -a /")
	if strings.Count(data, "\r\n") != 2 || !strings.Contains(data, " README\r\n") {
		t.Errorf("LIST -a /: %q", data)
	}
	cl.want("LIST /nope", "550 ") // no data listener is used up
	cl.want("STAT -a /", "500 ")
	cl.want("REST 123456789012345", "350 Restart position accepted (123456789012345)")
	cl.want("SIZE README", "550 ")
	cl.want("MDTM README", "550 ")
	cl.want("NOOP", "200 ")
	cl.want("FOO", "502 ")
	cl.want("QUIT", "221 ")
	if _, err := cl.r.ReadByte(); err != io.EOF {
		t.Errorf("after QUIT: %v, want EOF", err)
	}
	if srv.Count("LIST") != 4 || srv.Count("MLSD") != 1 || srv.Listings("/pub") != 2 || srv.Sessions() != 1 {
		t.Errorf("counts: LIST %d MLSD %d listings(/pub) %d sessions %d",
			srv.Count("LIST"), srv.Count("MLSD"), srv.Listings("/pub"), srv.Sessions())
	}
}

func TestStatAndPASV(t *testing.T) {
	srv, err := faultftp.Start(faultftp.Options{Tree: tree, Stat: true, NoEPSV: true, PASVHost: "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl := dial(t, srv)
	cl.reply()
	cl.want("USER ftp", "331")
	cl.want("PASS x", "230")
	if f := cl.cmd("FEAT"); strings.Contains(f, "EPSV") || strings.Contains(f, "MLST") {
		t.Errorf("FEAT %q", f)
	}
	st := cl.want("STAT -a /pub", "213-Status follows:\r\n")
	if want := "213-Status follows:\r\n" + faultftp.Dir(".").ListLine() + "\r\n" + faultftp.Dir("..").ListLine() + "\r\n" +
		faultftp.File("a b", 1).ListLine() + "\r\n213 End of status\r\n"; st != want {
		t.Errorf("STAT:\n%q\nwant\n%q", st, want)
	}
	cl.want("EPSV", "500 ")
	if r := cl.want("PASV", "227 Entering Passive Mode (10,1,2,3,"); !strings.HasSuffix(r, ").\r\n") {
		t.Errorf("PASV %q", r)
	}
	cl.want("MLSD /", "500 ")
}

func TestJlaffayeClient(t *testing.T) {
	// The client ftpaudit is built on: login, PASV (to another address,
	// which it does not follow), LIST, over a multi-line everything.
	srv, err := faultftp.Start(faultftp.Options{Tree: tree, NoEPSV: true, PASVHost: "10.1.2.3", Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			if x.Verb == "PASS" {
				x.Reply = faultftp.Reply(230, "Welcome,", "anonymous.")
			}
		},
		Transfer: func(tr *faultftp.Transfer) { tr.Final = faultftp.Reply(226, "Done,", "really.") },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := ftp.Dial(srv.Addr, ftp.DialWithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("anonymous", "x@"); err != nil {
		t.Fatal(err)
	}
	es, err := c.List("/pub")
	if err != nil || len(es) != 1 || es[0].Name != "a b" {
		t.Fatalf("List: %v %+v", err, es)
	}
}

// TestLinesParse checks the lines Entry formats are what ftpaudit's
// parsers read back, names byte for byte.
func TestLinesParse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range []faultftp.Entry{
		faultftp.File("plain", 12), faultftp.Dir(" sp "), faultftp.File("x\x1b[1m\xff", 0),
		{Name: "w", Dir: true, Perm: 0o777, Owner: "ftp", Group: "ftp"},
	} {
		le, _, _, err := listing.ParseListLine(e.ListLine(), now)
		if err != nil || le.Name != e.Name || (le.Type == ftpaudit.TypeDir) != e.Dir || le.Size != e.Size {
			t.Errorf("LIST %q: %v %+v", e.ListLine(), err, le)
		}
		me, _, err := listing.ParseMLSDLine(e.MLSDLine())
		if err != nil || me.Name != e.Name || me.Mode != le.Mode || me.Owner != le.Owner || me.Size != e.Size {
			t.Errorf("MLSD %q: %v %+v (LIST mode %s)", e.MLSDLine(), err, me, le.Mode)
		}
	}
	if got := faultftp.Reply(150, "a", "b"); got != "150-a\r\n150 b\r\n" {
		t.Errorf("Reply: %q", got)
	}
}

// TestCloseEndsEverything: stalled replies, a stalled data connection,
// long delays and an unaccepted data listener all end with Close, and no
// goroutine is left.
func TestCloseEndsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, err := faultftp.Start(faultftp.Options{Tree: tree, Script: faultftp.Script{
		Reply: func(x *faultftp.Exchange) {
			switch {
			case x.Session == 1 && x.Verb == "":
				x.Stall = true
			case x.Session == 2 && x.Verb == "NOOP":
				x.Delay = time.Hour
			}
		},
		Transfer: func(tr *faultftp.Transfer) { tr.Data, tr.End = tr.Data[:3], faultftp.EndStall },
	}})
	if err != nil {
		t.Fatal(err)
	}
	stalled := dial(t, srv)
	_ = stalled
	delayed := dial(t, srv)
	delayed.reply()
	io.WriteString(delayed.c, "NOOP\r\n")
	data := dial(t, srv)
	data.reply()
	data.want("USER anonymous", "331")
	data.want("PASS x", "230")
	r := data.want("EPSV", "229")
	port := r[strings.Index(r, "|||")+3 : strings.LastIndex(r, "|")]
	dc, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	data.want("LIST", "150")
	buf := make([]byte, 3)
	if _, err := io.ReadFull(dc, buf); err != nil {
		t.Fatal(err)
	}
	unaccepted := dial(t, srv)
	unaccepted.reply()
	unaccepted.want("USER anonymous", "331")
	unaccepted.want("PASS x", "230")
	unaccepted.want("EPSV", "229")
	for srv.Sessions() < 4 {
		time.Sleep(time.Millisecond)
	}

	start := time.Now()
	srv.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s", d)
	}
	for _, c := range []*client{stalled, delayed, data, unaccepted} {
		_ = c.c.SetReadDeadline(time.Now().Add(2 * time.Second))
		// Closed is EOF, or a reset when the server closed with a command
		// of ours still unread; a timeout means it stayed open.
		if _, err := io.ReadAll(c.r); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("control connection not closed by Close: %v", err)
		}
	}
	if _, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		t.Error("the listener still accepts after Close")
	}
	srv.Close() // twice is fine
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
