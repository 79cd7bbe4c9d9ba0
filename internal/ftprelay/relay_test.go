package ftprelay

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/ftpaudit/ftpaudit/internal/ftptest/memftp"
)

// rtt is the simulated round-trip time of the tests: long enough to
// measure, short enough to keep the package fast.
const rtt = 20 * time.Millisecond

const spec = `
drwxr-xr-x root root 4096 2020-01-01 "/"
drwxr-xr-x root root 4096 2020-01-02 "/pub"
-rw-r--r-- root root 10 2020-01-03T04:05:06 "/pub/file"
-rw-r--r-- root root 12345 "/pub/big file"
lrwxrwxrwx root root 4 "/pub/link" -> "file"
drwxr-xr-x root root 4096 "/pub/sub"
-rw-r--r-- root root 1 "/pub/sub/f"
drwxr-xr-x root root 4096 "/  "
-rw-r--r-- root root 1 "/  /f"
drwxr-xr-x root root 4096 "/\x1b[31mred"
-rw-r--r-- root root 1 "/\x1b[31mred/f"
drwxr-xr-x root root 4096 "/bad\xff\xfe"
-rw-r--r-- root root 1 "/bad\xff\xfe/227 (127,0,0,1,0,1)"
drwxr-xr-x root root 4096 "/empty"
`

func startUpstream(t *testing.T, ctx context.Context) *memftp.Server {
	t.Helper()
	root, err := memftp.ParseSpec(strings.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := memftp.Start(ctx, root, memftp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func startRelay(t *testing.T, ctx context.Context, upstream string, d time.Duration) *Relay {
	t.Helper()
	r, err := Start(ctx, Config{Upstream: upstream, RTT: d, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func login(t *testing.T, addr string, opts ...ftp.DialOption) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(addr, append([]ftp.DialOption{ftp.DialWithTimeout(10 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("anonymous", "relay@example.org"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

// walk lists the whole tree, one line per entry: path, type, size, target.
func walk(t *testing.T, c *ftp.ServerConn) []string {
	t.Helper()
	var out []string
	w := c.Walk("/")
	for w.Next() {
		e := w.Stat()
		out = append(out, fmt.Sprintf("%q %v %d %q", w.Path(), e.Type, e.Size, e.Target))
	}
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestListingThroughRelay(t *testing.T) {
	up := startUpstream(t, context.Background())
	r := startRelay(t, context.Background(), up.Addr, rtt)
	want := walk(t, login(t, up.Addr))
	if len(want) < 10 {
		t.Fatalf("direct walk saw only %d entries: %q", len(want), want)
	}
	for _, tc := range []struct {
		name string
		opts []ftp.DialOption
	}{
		{"EPSV", nil},
		{"PASV", []ftp.DialOption{ftp.DialWithDisabledEPSV(true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := walk(t, login(t, r.Addr(), tc.opts...))
			if !slices.Equal(got, want) {
				t.Errorf("through the relay:\n%s\ndirect:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	s := r.Stats()
	if s.PASV == 0 || s.EPSV == 0 || s.DataConns < s.PASV+s.EPSV {
		t.Errorf("stats %+v: want PASV and EPSV replies rewritten and each used", s)
	}
}

// rawConn is a minimal FTP client that sees the replies as sent.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	tp *textproto.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &rawConn{t: t, nc: nc, tp: textproto.NewConn(nc)}
	t.Cleanup(func() { c.tp.Close() })
	return c
}

func (c *rawConn) cmd(want int, format string, args ...any) string {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.t.Fatal(err)
	}
	return c.read(want)
}

func (c *rawConn) read(want int) string {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(want)
	if err != nil {
		c.t.Fatalf("want %d: %d %q %v", want, code, msg, err)
	}
	return msg
}

// Delays are lower bounds: setup and every request/reply exchange cost at
// least one RTT. (Never an upper bound: the machine may be slow.)
func TestRoundTripCostsRTT(t *testing.T) {
	up := startUpstream(t, context.Background())
	r := startRelay(t, context.Background(), up.Addr, rtt)

	t0 := time.Now()
	c := dialRaw(t, r.Addr())
	c.read(220)
	if d := time.Since(t0); d < rtt+rtt/2 {
		t.Errorf("greeting after %v, want at least setup RTT + RTT/2 = %v", d, rtt+rtt/2)
	}
	c.cmd(331, "USER anonymous")
	c.cmd(230, "PASS x@")
	for range 3 {
		t0 = time.Now()
		c.cmd(200, "NOOP")
		if d := time.Since(t0); d < rtt {
			t.Errorf("NOOP round trip %v, want at least %v", d, rtt)
		}
	}

	// A listing over a data connection: EPSV (1 RTT), connect (setup RTT),
	// then the data (RTT/2 back).
	t0 = time.Now()
	msg := c.cmd(229, "EPSV")
	_, _, port, ok := parse229([]byte("229 " + msg))
	if !ok {
		t.Fatalf("EPSV reply %q", msg)
	}
	dc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c.cmd(150, "LIST /pub")
	data, err := io.ReadAll(dc)
	if err != nil {
		t.Fatal(err)
	}
	c.read(226)
	if d := time.Since(t0); d < 2*rtt+rtt/2 {
		t.Errorf("EPSV + LIST took %v, want at least %v", d, 2*rtt+rtt/2)
	}
	if !bytes.Contains(data, []byte("big file")) {
		t.Errorf("listing %q", data)
	}
}

// fakeUpstream is a scripted FTP server that writes its passive replies
// one byte at a time (so that the relay reads them in pieces) and serves
// "hello <port>\r\n" on every passive data port.
func fakeUpstream(t *testing.T) (addr string, dataPort int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); dln.Close() })
	dataPort = dln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			dc, err := dln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(dc, "hello %d\r\n", dataPort)
			dc.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				slow := func(s string) {
					for i := range len(s) {
						if _, err := c.Write([]byte{s[i]}); err != nil {
							return
						}
						time.Sleep(100 * time.Microsecond)
					}
				}
				io.WriteString(c, "220 fake\r\n")
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					switch strings.TrimSpace(line) {
					case "PASV":
						slow(fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n", dataPort>>8, dataPort&0xff))
					case "EPSV":
						slow(fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", dataPort))
					case "STAT":
						slow(fmt.Sprintf("213-Status\r\n227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n\xff\x00 x\r\n213 End\r\n", dataPort>>8, dataPort&0xff))
					case "QUIT":
						io.WriteString(c, "221 bye\r\n")
						return
					default:
						io.WriteString(c, "500 what\r\n")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), dataPort
}

func TestPassiveRepliesRewritten(t *testing.T) {
	addr, dataPort := fakeUpstream(t)
	r := startRelay(t, context.Background(), addr, rtt)
	c := dialRaw(t, r.Addr())
	c.read(220)

	fetch := func(port int) string {
		t.Helper()
		dc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer dc.Close()
		b, err := io.ReadAll(dc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := fmt.Sprintf("hello %d\r\n", dataPort)

	for range 2 {
		msg := c.cmd(227, "PASV")
		start, _, port, ok := parse227([]byte("227 " + msg))
		if !ok || port == dataPort || !strings.HasPrefix(msg[start-4:], "127,0,0,1,") ||
			!strings.HasPrefix(msg, "Entering Passive Mode (") || !strings.HasSuffix(msg, ").") {
			t.Fatalf("PASV reply %q not rewritten to a relay port (upstream's is %d)", msg, dataPort)
		}
		if got := fetch(port); got != want {
			t.Errorf("data through the relay's PASV port: %q, want %q", got, want)
		}

		msg = c.cmd(229, "EPSV")
		_, _, port, ok = parse229([]byte("229 " + msg))
		if !ok || port == dataPort || !strings.HasPrefix(msg, "Entering Extended Passive Mode (|||") {
			t.Fatalf("EPSV reply %q not rewritten to a relay port (upstream's is %d)", msg, dataPort)
		}
		if got := fetch(port); got != want {
			t.Errorf("data through the relay's EPSV port: %q, want %q", got, want)
		}
	}

	// Inside another multi-line reply a 227 line is content, and arbitrary
	// bytes pass untouched.
	if err := c.tp.PrintfLine("STAT"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		line, err := c.tp.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
		if strings.HasPrefix(line, "213 ") {
			break
		}
	}
	wantSTAT := []string{"213-Status", fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).", dataPort>>8, dataPort&0xff), "\xff\x00 x", "213 End"}
	if !slices.Equal(got, wantSTAT) {
		t.Errorf("STAT reply %q, want %q", got, wantSTAT)
	}

	if s := r.Stats(); s.PASV != 2 || s.EPSV != 2 || s.DataConns != 4 {
		t.Errorf("stats %+v, want 2 PASV, 2 EPSV, 4 data connections", s)
	}
}

// Bulk data keeps its order and every byte, through a window much smaller
// than the transfer.
func TestBulkOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var payload []byte
	for i := 0; len(payload) < 1<<20; i++ {
		payload = fmt.Appendf(payload, "line %d \xff\x00\r\n", i)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(payload)
	}()
	r, err := Start(context.Background(), Config{Upstream: ln.Addr().String(), RTT: rtt, Window: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("got %d bytes, want the %d sent, in order", len(got), len(payload))
	}
}

// relayGoroutines returns the stacks of goroutines running relay code.
func relayGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "ftprelay.(*Relay)") || strings.Contains(g, "ftprelay.(*queue)") || strings.Contains(g, "ftprelay.(*pair)") {
			out = append(out, g)
		}
	}
	return out
}

// Cancelling the context closes every connection, pending passive listener
// and transfer, and ends every goroutine of the relay.
func TestCancelEndsEverything(t *testing.T) {
	up := startUpstream(t, context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, Config{Upstream: up.Addr, RTT: rtt})
	if err != nil {
		t.Fatal(err)
	}

	// A logged-in session with a pending passive listener, one mid-way
	// through a listing (data connection open, LIST not yet sent), and a
	// client still in its setup RTT.
	c1 := dialRaw(t, r.Addr())
	c1.read(220)
	c1.cmd(331, "USER anonymous")
	c1.cmd(230, "PASS x@")
	c1.cmd(227, "PASV")
	c2 := dialRaw(t, r.Addr())
	c2.read(220)
	c2.cmd(331, "USER anonymous")
	c2.cmd(230, "PASS x@")
	msg := c2.cmd(229, "EPSV")
	_, _, port, _ := parse229([]byte("229 " + msg))
	dc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c3, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()

	if len(relayGoroutines()) == 0 {
		t.Fatal("no relay goroutines found before cancel: the leak check below would prove nothing")
	}
	cancel()
	<-r.Done() // blocks (and the test times out) if anything leaked
	for _, c := range []net.Conn{c1.nc, c2.nc, dc, c3} {
		if _, err := io.ReadAll(c); err != nil && !isReset(err) {
			t.Errorf("read after cancel: %v", err)
		}
	}
	// context.AfterFunc callbacks may still be returning; give them a few
	// scheduling rounds (a count, not a time limit).
	var left []string
	for range 200 {
		if left = relayGoroutines(); len(left) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("relay goroutines left after Done:\n%s", strings.Join(left, "\n\n"))
	}
	if _, err := net.Dial("tcp", r.Addr()); err == nil {
		t.Errorf("the relay still accepts connections after cancel")
	}
	r.Close() // idempotent
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "reset by peer")
}
