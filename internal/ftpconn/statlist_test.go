package ftpconn

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// statServer answers one pipelined "STAT -a DIR / REST nonce" exchange
// (or "CWD DIR / PWD / STAT -a . / REST nonce") on a pipe with
// reply(dir, nonce), written in one piece, and then answers "REST 0"
// (clearRest) with 350, once.
func statServer(t *testing.T, opt DialOptions, reply func(dir, nonce string) string) (*ftpSession, <-chan []string) {
	t.Helper()
	return exchangeServer(t, opt, func(cmds []string, nonce string) string {
		return reply(strings.TrimPrefix(strings.TrimPrefix(cmds[0], "STAT -a "), "CWD "), nonce)
	})
}

// exchangeServer reads commands on a pipe up to a "REST nonce" line,
// answers them with reply(commands before it, nonce), written in one
// piece, and then answers "REST 0" (clearRest) with 350, once. The
// session's STAT verdict is on, and its dialect lists with the path form.
func exchangeServer(t *testing.T, opt DialOptions, reply func(cmds []string, nonce string) string) (*ftpSession, <-chan []string) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	opt = opt.withDefaults()
	s := &ftpSession{opt: opt, control: &deadlineConn{Conn: client, idle: opt.IdleTimeout},
		stat: &statState{verdict: statOn}, dialect: &dialectState{form: formDashAPath, settled: true, check: checkDone}}
	got := make(chan []string, 1)
	go func() {
		r := bufio.NewReader(server)
		var cmds []string
		for len(cmds) == 0 || !strings.HasPrefix(cmds[len(cmds)-1], "REST ") {
			line, err := r.ReadString('\n')
			if err != nil {
				got <- cmds
				return
			}
			cmds = append(cmds, strings.TrimRight(line, "\r\n"))
		}
		got <- cmds
		if out := reply(cmds[:len(cmds)-1], strings.TrimPrefix(cmds[len(cmds)-1], "REST ")); out != "" {
			_, _ = server.Write([]byte(out))
		}
		if line, err := r.ReadString('\n'); err == nil && line == "REST 0\r\n" {
			_, _ = server.Write([]byte("350 Restart position accepted (0).\r\n"))
		}
	}()
	return s, got
}

const (
	dotLine  = "drwxr-xr-x    7 0        0            4096 Mar 04  2021 ."
	dot2Line = "drwxr-xr-x   28 0        0            4096 Mar 04  2021 .."
	fileLine = "-rw-r--r--    1 0        0              64 Mar 04  2021 README"
)

func vsftpdStat(lines ...string) func(string, string) string {
	return func(_, n string) string {
		return "213-Status follows:\r\n" + strings.Join(lines, "\r\n") + "\r\n213 End of status\r\n" +
			"350 Restart position accepted (" + n + ").\r\n"
	}
}

func TestStatListingAccepted(t *testing.T) {
	s, cmds := statServer(t, DialOptions{}, vsftpdStat(dotLine, dot2Line, fileLine, "-rw-r--r--    1 0        0               4 Mar 04  2021  lead space"))
	l, n, _, err := s.listSTAT("/pub", false)
	if err != nil || l == nil {
		t.Fatalf("listSTAT: %v, %v", l, err)
	}
	if want := (statSize{lines: 4, bytes: int64(len(dotLine+dot2Line+fileLine)) + 67 + 4}); n != want {
		t.Errorf("size %+v, want %+v", n, want)
	}
	c := <-cmds
	if len(c) != 2 || c[0] != "STAT -a /pub" || !strings.HasPrefix(c[1], "REST ") || len(strings.TrimPrefix(c[1], "REST ")) != 15 {
		t.Errorf("commands %q", c)
	}
	if l.Via != ftpaudit.ViaStat || len(l.Entries) != 2 || l.Entries[0].Name != "README" || l.Entries[1].Name != " lead space" {
		t.Errorf("listing %+v", l)
	}
	if s.ctl.Buffered() != 0 || s.stat.fallbacks.Load() != 0 {
		t.Errorf("buffered %d listed %d fallbacks %d", s.ctl.Buffered(), s.stat.listed.Load(), s.stat.fallbacks.Load())
	}
}

func TestStatListingProftpdIndent(t *testing.T) {
	s, _ := statServer(t, DialOptions{}, func(_, n string) string {
		return "212-Status of /pub:\r\n " + dotLine + "\r\n " + fileLine + "\r\n212 End of status\r\n" +
			"350 Restarting at " + n + ". Send STORE or RETRIEVE to initiate transfer\r\n"
	})
	l, _, _, err := s.listSTAT("/pub", false)
	if err != nil || l == nil || len(l.Entries) != 1 || l.Entries[0].Raw != fileLine {
		t.Fatalf("listSTAT: %+v, %v", l, err)
	}
}

// Replies that must not be taken as a listing: the directory is then
// listed over a data connection (nil listing, no error).
func TestStatListingFallsBack(t *testing.T) {
	cases := map[string]func(string, string) string{
		// vsftpd, unreadable directory: its own line, no "."
		"lists itself": vsftpdStat("d--x--x--x    2 0        0            4096 Mar 04  2021 bin"),
		// proftpd, unreadable directory: nothing at all.
		"empty": vsftpdStat(),
		// pure-ftpd, unreadable directory: a text line.
		"server text": func(_, n string) string {
			return "213-STAT\r\n213-Sorry, we were unable to read [/bin]\r\n213 End.\r\n350 Restarting at " + n + "\r\n"
		},
		"single-line refusal": func(_, n string) string {
			return "450 /x: No such file or directory\r\n350 Restarting at " + n + "\r\n"
		},
		"bare LF in a name": vsftpdStat(dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 a\nb"),
		"bare CR in a name": vsftpdStat(dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 cr\rx"),
		"unparsable line":   vsftpdStat(dotLine, "this is not a listing line"),
		"truncation in reply": func(_, n string) string {
			return strings.Replace(vsftpdStat(dotLine, fileLine)("", n), "213 End of status", "213 Output truncated", 1)
		},
	}
	for name, reply := range cases {
		t.Run(name, func(t *testing.T) {
			s, _ := statServer(t, DialOptions{}, reply)
			l, _, _, err := s.listSTAT("/x", false)
			if err != nil || l != nil {
				t.Fatalf("got %+v, %v; want a fallback", l, err)
			}
			if s.stat.fallbacks.Load() != 1 || s.stat.verdict != statOn || s.ctl.Buffered() != 0 {
				t.Errorf("fallbacks %d verdict %d buffered %d", s.stat.fallbacks.Load(), s.stat.verdict, s.ctl.Buffered())
			}
		})
	}
}

// A name holding CR LF can fake the end of the STAT reply. What follows
// the fake end must be noticed (it comes before the nonce), the reply
// discarded and the stream left in step.
func TestStatListingFakedEnd(t *testing.T) {
	s, _ := statServer(t, DialOptions{}, vsftpdStat(dotLine, fileLine,
		"-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
		"213 End of status",
		"-rw-r--r--    1 0        0               0 Nov 22 05:31 zzz-hidden-after-the-fake-end",
		"350 Restart position accepted (123456789012345)."))
	l, _, _, err := s.listSTAT("/incoming", false)
	if err != nil || l != nil {
		t.Fatalf("got %+v, %v; want the reply refused", l, err)
	}
	if s.stat.resyncs.Load() != 1 || s.stat.fallbacks.Load() != 1 || s.ctl.Buffered() != 0 || s.stat.verdict != statOn {
		t.Errorf("resyncs %d fallbacks %d buffered %d verdict %d", s.stat.resyncs.Load(), s.stat.fallbacks.Load(), s.ctl.Buffered(), s.stat.verdict)
	}
}

// Protocol surprises drop the session and turn STAT off for the host.
func TestStatListingDesync(t *testing.T) {
	cases := map[string]struct {
		opt   DialOptions
		reply func(string, string) string
	}{
		"REST refused": {reply: func(string, string) string {
			return "213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n501 REST: Resuming transfers not allowed in ASCII mode\r\n"
		}},
		"nonce not echoed": {reply: func(string, string) string {
			return "213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n350 Restart position accepted (0).\r\n"
		}},
		"bytes after the sentinels": {reply: func(d, n string) string { return vsftpdStat(dotLine)(d, n) + "226 surprise\r\n" }},
		"no code":                   {reply: func(string, string) string { return "hello\r\n" }},
		// A name that fakes the end and a sentinel reply (with a wrong
		// nonce: it cannot know the right one) turns STAT off.
		"faked sentinel": {reply: vsftpdStat(dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "350 Restart position accepted (123456789012345).", "x")},
		"larger than the bound": {opt: DialOptions{MaxListingBytes: 200}, reply: func(d, n string) string {
			return vsftpdStat(dotLine, fileLine, fileLine, fileLine, fileLine)(d, n)
		}},
		"silent server": {opt: DialOptions{IdleTimeout: 100 * time.Millisecond}, reply: func(string, string) string { return "" }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, _ := statServer(t, c.opt, c.reply)
			done := make(chan struct{})
			var l *ftpaudit.Listing
			var err error
			go func() { defer close(done); l, _, _, err = s.listSTAT("/x", false) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("listSTAT hung")
			}
			if err == nil || l != nil {
				t.Fatalf("got %+v, %v; want an error", l, err)
			}
			var ne net.Error
			if !errors.Is(err, errStatDesync) && !(errors.As(err, &ne) && ne.Timeout()) {
				t.Errorf("error %v is neither a desync nor a timeout", err)
			}
			if errors.Is(err, errStatDesync) && s.stat.verdict != statOff {
				t.Errorf("STAT still on after %v", err)
			}
		})
	}
}

// The per-host check turns STAT on only when it lists the same lines as
// LIST -a over a data connection.
func TestStatCheck(t *testing.T) {
	data := func(raws ...string) *ftpaudit.Listing {
		l := &ftpaudit.Listing{}
		for _, r := range raws {
			e, _, skip, err := listing.ParseListLine(r, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !skip {
				l.Entries = append(l.Entries, e)
			}
		}
		return l
	}
	cases := []struct {
		name    string
		data    *ftpaudit.Listing
		reply   func(string, string) string
		verdict int
	}{
		{"same", data(dotLine, fileLine), vsftpdStat(dotLine, fileLine), statOn},
		{"STAT hides a name", data(dotLine, fileLine, "-rw-r--r--    1 0        0               4 Mar 04  2021 .rhosts"), vsftpdStat(dotLine, fileLine), statOff},
		{"different columns", data(dotLine, fileLine), vsftpdStat(dotLine, strings.Replace(fileLine, "0        0", "ftp      ftp", 1)), statOff},
		{"no answer (unreadable)", data(), vsftpdStat(), statUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := statServer(t, DialOptions{}, c.reply)
			s.stat.verdict = statTesting
			if err := s.checkSTAT("/pub", c.data); err != nil {
				t.Fatal(err)
			}
			if s.stat.verdict != c.verdict {
				t.Errorf("verdict %d, want %d (note %q)", s.stat.verdict, c.verdict, s.stat.note)
			}
		})
	}
}

// A path that is not plain is entered with CWD, checked with PWD and
// listed as "STAT -a .", all in one write; the listing counts only when
// CWD succeeded and PWD names the directory.
func TestStatEnter(t *testing.T) {
	const dir = "/pub files"
	entered := "250 Directory successfully changed.\r\n257 \"/pub files\" is the current directory\r\n"
	listing := vsftpdStat(dotLine, fileLine)
	cases := map[string]struct {
		reply    func(string, string) string
		accepted bool
		resync   bool
	}{
		"entered": {reply: func(d, n string) string { return entered + listing(d, n) }, accepted: true},
		"with message": {reply: func(d, n string) string {
			return "250-Welcome\r\n250-read README\r\n250 ok\r\n257 \"/pub files\"\r\n" + listing(d, n)
		}, accepted: true},
		"CWD refused": {reply: func(d, n string) string { return "550 Failed to change directory.\r\n257 \"/\"\r\n" + listing(d, n) }},
		"CWD 200":     {reply: func(d, n string) string { return "200 ok\r\n257 \"/pub files\"\r\n" + listing(d, n) }},
		"PWD elsewhere": {reply: func(d, n string) string {
			return "250 ok\r\n257 \"/pub\" is the current directory\r\n" + listing(d, n)
		}},
		"PWD refused":  {reply: func(d, n string) string { return "250 ok\r\n550 no\r\n" + listing(d, n) }},
		"PWD no quote": {reply: func(d, n string) string { return "250 ok\r\n257 /pub files\r\n" + listing(d, n) }},
		// A message file (which an uploader can write) faking the end of
		// CWD's reply, on a server that does not prefix its lines.
		"message fakes end, no code after": {reply: func(d, n string) string {
			return "250-msg\r\n250 fake end\r\nnot a reply\r\n250 real end\r\n257 \"/pub files\"\r\n" + listing(d, n)
		}, resync: true},
		// ... with a STAT reply of another code, whose end never comes:
		// the reader meets the nonce inside it.
		"message fakes a reply of another code": {reply: func(d, n string) string {
			return "250-msg\r\n250 fake end\r\n257 \"/pub files\"\r\n212-Status follows:\r\n" + dotLine + "\r\n" +
				"250 real end\r\n257 \"/pub files\"\r\n" + listing(d, n)
		}, resync: true},
		// ... or a PWD reply whose end never comes.
		"PWD reply runs into the nonce": {reply: func(d, n string) string {
			return "250 ok\r\n257-never ends\r\n" + listing(d, n)
		}, resync: true},
		// ... and faking PWD's reply and a whole STAT reply that hides
		// README: what follows the fake runs into the nonce's place.
		"message fakes a listing": {reply: func(d, n string) string {
			return "250-msg\r\n250 fake end\r\n257 \"/pub files\"\r\n213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n" +
				"250 real end\r\n257 \"/pub files\"\r\n" + listing(d, n)
		}, resync: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, cmds := statServer(t, DialOptions{}, c.reply)
			l, _, _, err := s.listSTAT(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			got := <-cmds
			if len(got) != 4 || got[0] != "CWD /pub files" || got[1] != "PWD" || got[2] != "STAT -a ." || !strings.HasPrefix(got[3], "REST ") {
				t.Errorf("commands %q", got)
			}
			if (l != nil) != c.accepted {
				t.Fatalf("listing %+v, want accepted=%v", l, c.accepted)
			}
			if l != nil && (len(l.Entries) != 1 || l.Entries[0].Name != "README") {
				t.Errorf("entries %+v", l.Entries)
			}
			if s.stat.verdict != statOn || s.ctl.Buffered() != 0 || (s.stat.resyncs.Load() == 1) != c.resync {
				t.Errorf("verdict %d buffered %d resyncs %d", s.stat.verdict, s.ctl.Buffered(), s.stat.resyncs.Load())
			}
		})
	}
}

// The nonce's restart offset is cleared with "REST 0" before anything
// else the session sends, and a refusal leaves the session unusable.
func TestClearRest(t *testing.T) {
	for _, c := range []struct {
		answer string
		ok     bool
	}{
		{"350 Restart position accepted (0).\r\n", true},
		{"502 REST not implemented\r\n", false},
		{"350 Restart position accepted (0).\r\n226 surprise\r\n", false},
	} {
		client, server := net.Pipe()
		opt := DialOptions{}.withDefaults()
		s := &ftpSession{opt: opt, control: &deadlineConn{Conn: client, idle: opt.IdleTimeout}, stat: &statState{verdict: statOn}}
		go func() {
			r := bufio.NewReader(server)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				switch {
				case strings.HasPrefix(line, "REST 0"):
					_, _ = server.Write([]byte(c.answer))
				case strings.HasPrefix(line, "REST "):
					_, _ = server.Write([]byte(vsftpdStat(dotLine)("/pub", strings.TrimSpace(line[5:]))))
				}
			}
		}()
		if err := s.clearRest(); err != nil {
			t.Fatalf("nothing to clear: %v", err)
		}
		if _, _, _, err := s.listSTAT("/pub", false); err != nil || !s.restPending {
			t.Fatalf("listSTAT: %v, pending %v", err, s.restPending)
		}
		err := s.clearRest()
		if c.ok != (err == nil) || s.restPending == c.ok {
			t.Errorf("answer %q: error %v, pending %v", c.answer, err, s.restPending)
		}
		if !c.ok && (!errors.Is(err, ftpaudit.ErrConnLost) || !s.closed || s.stat.verdict != statOff) {
			t.Errorf("error %v (want ErrConnLost), session closed %v, STAT verdict %d (want off)", err, s.closed, s.stat.verdict)
		}
		_ = client.Close()
		_ = server.Close()
	}
}

// An exchange that sets no offset (STAT and REST both refused) leaves an
// earlier exchange's offset to be cleared.
func TestStatRefusedKeepsPendingOffset(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	opt := DialOptions{}.withDefaults()
	s := &ftpSession{opt: opt, control: &deadlineConn{Conn: client, idle: opt.IdleTimeout}, stat: &statState{verdict: statOn}}
	go func() {
		r := bufio.NewReader(server)
		for i := 0; ; {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if !strings.HasPrefix(line, "REST ") {
				continue
			}
			if i++; i == 1 {
				_, _ = server.Write([]byte(vsftpdStat(dotLine)("/a", strings.TrimSpace(line[5:]))))
			} else {
				_, _ = server.Write([]byte("502 STAT not implemented\r\n502 REST not implemented\r\n"))
			}
		}
	}()
	if l, _, _, err := s.listSTAT("/a", false); err != nil || l == nil {
		t.Fatalf("first STAT: %v, %v", l, err)
	}
	if l, _, _, err := s.listSTAT("/b", false); err != nil || l != nil {
		t.Fatalf("refused STAT: %v, %v", l, err)
	}
	if !s.restPending {
		t.Error("the first exchange's offset is taken as cleared")
	}
}
