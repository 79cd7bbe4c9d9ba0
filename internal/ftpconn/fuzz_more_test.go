package ftpconn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
	"github.com/ftpaudit/ftpaudit/internal/glob"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// Fuzz targets for the control-connection readers (the reply log and the
// STAT exchange) and the path logic. Their seeds (f.Add and
// testdata/fuzz/<Name>) run in every go test.

// fuzzKnown reports whether failures of a known, reported kind are to be
// tolerated in this run, so that a long fuzz run can go on past them:
// FTPAUDIT_FUZZ_KNOWN=replylog-ahead,replylog-6xx,globsuffix
// (replylog-ahead: a reply log that keeps a command when the server sends
// ahead; replylog-6xx: when the server sends reply codes 600-999, which
// jlaffaye's reader takes and the log does not; replylog: any command
// kept; globsuffix: a "*literal" fast path that disagrees with the
// matcher). Unset (the default, and in every go test) nothing is
// tolerated.
func fuzzKnown(kind string) bool {
	return slices.Contains(strings.Split(os.Getenv("FTPAUDIT_FUZZ_KNOWN"), ","), kind)
}

// ---- reply log ----

// fzSecret is the password the simulated client sends.
const fzSecret = "Fz-s3cret-pw"

// fzCommands are what the simulated client sends, in turn, after each
// complete reply.
var fzCommands = []string{"USER bob", "PASS " + fzSecret, "FEAT", "TYPE I", "LIST -a /pub", "CWD /x"}

// FuzzReplyLog feeds a server's byte stream, in arbitrary chunks, to a
// replyLog the way jlaffaye's debug wrapper does: every chunk the client
// reads is written to the log, and after each complete reply (as
// net/textproto, jlaffaye's reader, frames it) the client sends its next
// command, which is written to the log too. By default the server is
// well-behaved about timing: it sends each reply only after the command
// it answers, so no chunk reaches past the end of a reply; with mode&2 it
// sends ahead (a hostile server can). The log must stay bounded, keep
// only replies (first line a reply code) made of lines the server sent,
// and never keep a command: the password must not appear in anything it
// returns.
func FuzzReplyLog(f *testing.F) {
	transcripts := []string{
		"220 hello\r\n331 pw\r\n230 ok\r\n211-Features:\r\n MLST type*;\r\n UTF8\r\n211 End\r\n200 ok\r\n150 here\r\n226-Output truncated to 2000 matches\r\n226 done\r\n",
		"220-Welcome\r\n220-  to the archive\r\n220 ready\r\n331 Please specify the password.\r\n230 Login successful.\r\n",
		"220 (vsFTPd 3.0.5)\r\n331 Please specify the password.\r\n530 Login incorrect.\r\n",
		"220 ProFTPD Server ready.\r\n331 Anonymous login ok\r\n230-Welcome\r\n230 Anonymous access granted\r\n211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.mode*;UNIX.owner*;\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n200 Type set to I\r\n",
		"220---------- Welcome to Pure-FTPd ----------\r\n220-You are user number 1 of 50 allowed.\r\n220 This is a private system.\r\n230 Anonymous user logged in\r\n",
		"220 x\r\n331 pw\r\n230-a\r\n 230 b\r\n230 c\r\n",
		"220 x\n331 pw\n230 ok\n",
		"220 x\r\r\n331 pw\r\n",
		"220 a\r\n331 b\r\n230-c\r\n",
		"220 a\r\n331-b\r\n600-c\r\n331 d\r\n",
		"", "\r\n", "\n\n\n", "2", "220", "220-", "220 ", "099 x\r\n", "1a0 x\r\n", "220-x\r\n220\r\n220 y\r\n",
		"211-" + strings.Repeat(" F\r\n", 300) + "211 End\r\n",
	}
	// A line longer than the log keeps, in chunks as large as jlaffaye's
	// reader takes.
	f.Add([]byte("220 "+strings.Repeat("a", 70_000)+"\r\n331 pw\r\n230 ok\r\n"), []byte{255}, uint8(0))
	for _, s := range transcripts {
		for _, cuts := range [][]byte{nil, {0}, {2, 0, 6}, {255}} {
			f.Add([]byte(s), cuts, uint8(0))
		}
		f.Add([]byte(s), []byte{9}, uint8(1))
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte, mode uint8) {
		var r replyLog
		sent := fzServerLines(data)
		ends := fzReplyEnds(data)
		tolerate := fuzzKnown("replylog") || mode&2 != 0 && fuzzKnown("replylog-ahead") ||
			fuzzKnown("replylog-6xx") && fzHas6xx(data)
		check := func() {
			t.Helper()
			if len(r.replies) > maxReplies || len(r.multi) > 256 || len(r.partial) > 64<<10 {
				t.Fatalf("unbounded: %d replies, %d lines in a reply, %d partial bytes", len(r.replies), len(r.multi), len(r.partial))
			}
			for _, rep := range r.replies {
				fzCheckReply(t, rep, data, sent, tolerate)
			}
		}
		write := func(p []byte) {
			t.Helper()
			if n, err := r.Write(p); n != len(p) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			check()
		}
		off, ci, k := 0, 0, 0
		for off < len(data) {
			n := len(data) - off
			if len(cuts) > 0 {
				n = min(n, int(cuts[ci%len(cuts)])+1)
				ci++
			}
			if mode&2 == 0 && k < len(ends) {
				n = min(n, ends[k]-off) // the next reply is not sent yet
			}
			write(data[off : off+n])
			off += n
			for ; k < len(ends) && ends[k] <= off; k++ {
				if mode&1 != 0 {
					r.reset() // as the session does before most commands
				}
				write([]byte(fzCommands[k%len(fzCommands)] + "\r\n"))
			}
		}
		for _, rep := range []string{r.last(), r.first()} {
			if rep != "" {
				fzCheckReply(t, rep, data, sent, tolerate)
			}
		}
		feats := r.features()
		if !slices.IsSorted(feats) {
			t.Fatalf("features not sorted: %q", feats)
		}
		for _, ft := range feats {
			if !tolerate && !bytes.Contains(data, []byte(ft)) {
				t.Fatalf("feature %q was not sent by the server", ft)
			}
		}
	})
}

// fzReplyEnds returns the offsets in data at which jlaffaye's reader
// (net/textproto) has read a complete reply, up to the first reply it
// cannot read (after which the session is given up).
func fzReplyEnds(data []byte) []int {
	whole := bytes.LastIndexByte(data, '\n') + 1 // a partial last line is no reply yet
	br := bytes.NewReader(data[:whole])
	bu := bufio.NewReader(br)
	tr := textproto.NewReader(bu)
	var ends []int
	for {
		if _, _, err := tr.ReadResponse(0); err != nil {
			return ends
		}
		ends = append(ends, whole-br.Len()-bu.Buffered())
	}
}

// fzHas6xx reports whether data holds a line that starts like a reply
// with a code of 600 to 999.
func fzHas6xx(data []byte) bool {
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) >= 4 && l[0] >= '6' && l[0] <= '9' && l[1] >= '0' && l[1] <= '9' && l[2] >= '0' && l[2] <= '9' && (l[3] == ' ' || l[3] == '-') {
			return true
		}
	}
	return false
}

// fzServerLines returns the lines in data, as a replyLog splits them.
func fzServerLines(data []byte) map[string]bool {
	m := map[string]bool{}
	for _, l := range bytes.Split(data, []byte("\n")) {
		m[string(bytes.TrimSuffix(l, []byte("\r")))] = true
	}
	return m
}

// fzCheckReply checks one reply kept by a replyLog fed with data, whose
// lines are sent.
func fzCheckReply(t *testing.T, rep string, data []byte, sent map[string]bool, tolerate bool) {
	t.Helper()
	lines := strings.Split(rep, "\n")
	if !isCode(lines[0]) {
		t.Fatalf("reply %q does not start with a reply code", trunc([]byte(rep)))
	}
	if len(lines) > 256 {
		t.Fatalf("reply of %d lines", len(lines))
	}
	if tolerate {
		return
	}
	if strings.Contains(rep, fzSecret) && !bytes.Contains(data, []byte(fzSecret)) {
		t.Fatalf("the password was kept in reply %q", rep)
	}
	for _, l := range lines {
		// A line the log cut (longer than it keeps) is part of one sent.
		if !sent[l] && !bytes.Contains(data, []byte(l)) {
			t.Fatalf("reply %q keeps line %q, which the server did not send", rep, l)
		}
	}
}

// ---- STAT over the control connection ----

// fzNonce in a fuzzed STAT answer stands for the REST nonce the client
// sent (a server echoes it; a name in a listing cannot know it).
const fzNonce = "NONCE"

func fzVsftpdStat(lines []string) string {
	return "213-Status follows:\r\n" + strings.Join(lines, "\r\n") + "\r\n213 End of status\r\n" +
		"350 Restart position accepted (" + fzNonce + ").\r\n350 Restart position accepted (0).\r\n"
}

func fzProftpdStat(lines []string) string {
	var b strings.Builder
	b.WriteString("212-Status of /pub:\r\n")
	for _, l := range lines {
		b.WriteString(" " + l + "\r\n")
	}
	b.WriteString("212 End of status\r\n350 Restarting at " + fzNonce + ". Send STORE or RETRIEVE to initiate transfer\r\n350 Restarting at 0. Send STORE or RETRIEVE\r\n")
	return b.String()
}

// FuzzStatExchange plays a server that answers the pipelined "STAT -a
// /pub", "REST <nonce>", "REST 0" with the fuzzer's bytes (fzNonce
// replaced by the nonce), then closes the connection or (hold) keeps it
// open. The exchange must end in bounded time; when it succeeds it must
// have read exactly the answer (anything after the REST 0 reply is a
// desync), the answer must echo the nonce, and a listing made from it
// must hold only lines of the answer that parse, with no CR or LF in a
// name.
func FuzzStatExchange(f *testing.F) {
	n := fzNonce
	for _, s := range []string{
		fzVsftpdStat([]string{dotLine, dot2Line, fileLine, "-rw-r--r--    1 0        0               4 Mar 04  2021  lead space"}),
		fzProftpdStat([]string{dotLine, fileLine}),
		fzVsftpdStat([]string{"d--x--x--x    2 0        0            4096 Mar 04  2021 bin"}),
		fzVsftpdStat(nil),
		"213-STAT\r\n213-Sorry, we were unable to read [/bin]\r\n213 End.\r\n350 Restarting at " + n + "\r\n350 Restarting at 0\r\n",
		"450 /x: No such file or directory\r\n350 Restarting at " + n + "\r\n350 Restarting at 0\r\n",
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 a\nb"}),
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 cr\rx"}),
		fzVsftpdStat([]string{dotLine, "this is not a listing line"}),
		strings.Replace(fzVsftpdStat([]string{dotLine, fileLine}), "213 End of status", "213 Output truncated", 1),
		fzVsftpdStat([]string{dotLine, fileLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "-rw-r--r--    1 0        0               0 Nov 22 05:31 zzz-hidden-after-the-fake-end",
			"350 Restart position accepted (123456789012345)."}),
		"213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n501 REST: Resuming transfers not allowed in ASCII mode\r\n350 Restarting at 0.\r\n",
		"213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n350 Restart position accepted (0).\r\n350 Restart position accepted (0).\r\n",
		fzVsftpdStat([]string{dotLine}) + "226 surprise\r\n",
		fzVsftpdStat([]string{dotLine}) + "2",
		"hello\r\n",
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "350 Restart position accepted (123456789012345).", "x"}),
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "350 Restart position accepted (" + n + ").", "350 Restart position accepted (0)."}),
		fzVsftpdStat([]string{dotLine, strings.Repeat("x", 9000)}),
		"",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(fzVsftpdStat([]string{dotLine, fileLine})), true)
	f.Add([]byte(fzProftpdStat([]string{dotLine, fileLine})), true)
	f.Add([]byte("213-Status follows:\r\n"), true)
	for i, s := range seeds.Listings(f) {
		if s.MLSD {
			continue
		}
		lines := seeds.SplitLines(s.Data)
		if i%2 == 0 {
			f.Add([]byte(fzVsftpdStat(append([]string{dotLine}, lines...))), false)
		} else {
			f.Add([]byte(fzProftpdStat(lines)), false)
		}
	}
	f.Fuzz(func(t *testing.T, answer []byte, hold bool) {
		if len(answer) > 16<<10 {
			return
		}
		opt := DialOptions{IdleTimeout: 200 * time.Millisecond, MaxListingBytes: 8 << 10}
		if hold {
			// Short, so that answers that stop short do not slow the
			// fuzzer down: each costs one idle timeout.
			opt.IdleTimeout = 25 * time.Millisecond
		}
		opt = opt.withDefaults()
		client, server := net.Pipe()
		defer server.Close()
		defer client.Close()
		s := &ftpSession{opt: opt, control: &deadlineConn{Conn: client, idle: opt.IdleTimeout}, stat: &statState{verdict: statOn}}

		var cmds []string
		full := make(chan []byte, 1)
		served := make(chan struct{})
		go func() {
			defer close(served)
			br := bufio.NewReader(server)
			for len(cmds) < 3 {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				cmds = append(cmds, line)
			}
			nonce := strings.TrimSuffix(strings.TrimPrefix(cmds[1], "REST "), "\r\n")
			out := bytes.ReplaceAll(answer, []byte(fzNonce), []byte(nonce))
			full <- out
			_, _ = server.Write(out)
			if !hold {
				_ = server.Close()
			}
		}()

		start := time.Now()
		var (
			r   *statResult
			err error
		)
		exchanged := make(chan struct{})
		go func() { defer close(exchanged); r, err = s.statExchange("/pub") }()
		select {
		case <-exchanged:
		case <-time.After(10 * time.Second):
			t.Fatalf("statExchange hung on %q", answer)
		}
		elapsed := time.Since(start)
		_ = client.Close()
		_ = server.Close()
		<-served
		if len(cmds) != 3 || cmds[0] != "STAT -a /pub\r\n" || cmds[2] != "REST 0\r\n" ||
			len(cmds[1]) != len("REST \r\n")+15 || strings.Trim(cmds[1][5:20], "0123456789") != "" {
			t.Fatalf("commands %q", cmds)
		}
		nonce := strings.TrimSpace(cmds[1][5:])
		got := <-full
		if elapsed > 5*time.Second {
			t.Fatalf("statExchange took %v (idle timeout %v)", elapsed, opt.IdleTimeout)
		}
		if err != nil {
			if r != nil {
				t.Fatal("a result with an error")
			}
			var ne net.Error
			if !errors.Is(err, errStatDesync) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) &&
				!(errors.As(err, &ne) && ne.Timeout()) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Success: the whole answer was read, and nothing after it.
		if r.bytes != int64(len(got)) || s.ctl.Buffered() != 0 {
			t.Fatalf("read %d of %d bytes, %d left buffered: %q", r.bytes, len(got), s.ctl.Buffered(), got)
		}
		if !bytes.HasSuffix(got, []byte("\r\n")) || !bytes.Contains(got, []byte(nonce)) {
			t.Fatalf("accepted an answer that does not end in CRLF or does not echo the nonce: %q", got)
		}
		lastLine := got[bytes.LastIndex(got[:len(got)-2], []byte("\r\n"))+2:]
		if !bytes.HasPrefix(lastLine, []byte("350 ")) {
			t.Fatalf("last line %q is not a REST reply", lastLine)
		}
		if !isCode(r.code+" ") || !strings.HasPrefix(r.final, r.code) {
			t.Fatalf("code %q final %q", r.code, r.final)
		}
		l, why := s.statListing(r)
		if (l == nil) == (why == "") {
			t.Fatalf("listing %v and reason %q", l, why)
		}
		if l == nil {
			return
		}
		if r.resync || l.Via != ftpaudit.ViaStat || l.Bytes != r.bytes || l.Reply != r.final {
			t.Fatalf("listing %+v from result resync=%v", l, r.resync)
		}
		for _, e := range l.Entries {
			if strings.ContainsAny(e.Name, "\r\n") || strings.ContainsAny(e.Raw, "\r\n") || strings.ContainsAny(e.Target(), "\r\n") {
				t.Fatalf("entry with CR or LF: %+v", e)
			}
			if !bytes.Contains(got, []byte(e.Raw+"\r\n")) {
				t.Fatalf("entry line %q is not a line of the answer", e.Raw)
			}
			e2, _, skip, perr := listing.ParseListLine(e.Raw, time.Now())
			if perr != nil || skip || e2.Name != e.Name {
				t.Fatalf("entry %q does not parse again: %v skip %v name %q", e.Raw, perr, skip, e2.Name)
			}
		}
	})
}

// ---- path logic ----

// fzQuoteGlob quotes every glob metacharacter in s.
func fzQuoteGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '*', '?', '[':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fzLiteralPath reports whether p is a path that a path glob can name:
// absolute, no empty element, no trailing "/".
func fzLiteralPath(p string) bool {
	return p == "/" || strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "//")
}

func fzPlainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._+,=@%/-", c) >= 0
}

// FuzzPathLogic checks joinPath, splitPath, parentPath, pathArg,
// plainPath, CompileGlob, Glob.Match and matchAtOrBelow on arbitrary
// directories, names and patterns.
func FuzzPathLogic(f *testing.F) {
	names := map[string]bool{}
	for _, s := range seeds.Listings(f) {
		entries, _ := listing.ParseListing(s.Data, s.MLSD, seeds.Now)
		for _, e := range entries {
			names[e.Name] = true
		}
	}
	for _, n := range []string{"", ".", "..", "...", "  ", ". ", " lead", "trail ", "tab\t", "-rf", "-", "a/b", "../..",
		"a\r\nb", "nul\x00", "bad\xff", "café", "\xc3", "*", "**", "[abc]", `\`, "~user", "{a,b}", "x\v", "x\f", "é\u00a0"} {
		names[n] = true
	}
	dirs := []string{"/", "/pub", "/incoming/  ", "/a/-l", "", "//", "/a/", "/pub/x y", "/-", "pub", "/é/\xe9"}
	globs := []string{"/**", "/**/incoming", "/a/**/b/**/c", "/up?", "/caf?", "/caf\xe9", "/[abc]", `/\[abc]`, `/star\*name`,
		"/[!a-c]x", "/[^a-c]x", "/[]]", "/[é-ë]", "/a*b*c", "/*.tar.*", "/-rf", "*", "ftp://127.0.0.1:*", "*.NFO",
		"*.r[0-9][0-9]", "ftp://[[]::1]:21", "/pub/mirrors/**/.snapshot", "/**/upload-only", "*.torrent", "[", `a\`,
		"/a//b", "/a/", "/x**", "[z-a]", ""}
	i := 0
	for n := range names {
		f.Add(dirs[i%len(dirs)], n, globs[i%len(globs)], uint8(i))
		i++
	}
	for j, g := range globs {
		f.Add(dirs[j%len(dirs)], "x", g, uint8(j))
	}
	f.Fuzz(func(t *testing.T, dir, name, pattern string, kind uint8) {
		// splitPath and parentPath on anything.
		for _, p := range []string{dir, name, pattern} {
			d, n := ftppath.Split(p)
			if strings.Contains(n, "/") || !strings.HasSuffix(p, n) || (d != "/" && p != d+"/"+n) || ftppath.Parent(p) != d {
				t.Fatalf("splitPath(%q) = %q, %q; parentPath %q", p, d, n, ftppath.Parent(p))
			}
		}

		// joinPath: the name stays inside its directory.
		if strings.HasPrefix(dir, "/") {
			j := ftppath.Join(dir, name)
			prefix := dir + "/"
			if dir == "/" {
				prefix = "/"
			}
			if j != prefix+name || !ftppath.AtOrBelow(j, dir) || j != dir && !ftppath.Below(j, dir) {
				t.Fatalf("joinPath(%q, %q) = %q", dir, name, j)
			}
			if !strings.Contains(name, "/") {
				if d, n := ftppath.Split(j); d != dir || n != name || ftppath.Parent(j) != dir {
					t.Fatalf("joinPath(%q, %q) = %q splits into %q, %q", dir, name, j, d, n)
				}
			}
		}

		// pathArg: absolute, never trimmable, otherwise the path itself.
		for _, p := range []string{dir, ftppath.Join(dir, name)} {
			a := pathArg(p)
			switch {
			case p == "" || p == "/":
				if a != "/" {
					t.Fatalf("pathArg(%q) = %q", p, a)
				}
			case strings.HasSuffix(p, " ") || strings.HasSuffix(p, "\t"):
				if a != p+"/." {
					t.Fatalf("pathArg(%q) = %q: trailing white space would be trimmed", p, a)
				}
			default:
				if a != p {
					t.Fatalf("pathArg(%q) = %q", p, a)
				}
			}
		}

		// plainPath: only the allowed bytes, no element starting with "-".
		for _, p := range []string{dir, name, ftppath.Join(dir, name)} {
			want := true
			for k := 0; k < len(p); k++ {
				if !fzPlainByte(p[k]) || p[k] == '-' && k > 0 && p[k-1] == '/' {
					want = false
				}
			}
			if got := ftppath.Plain(p); got != want {
				t.Fatalf("plainPath(%q) = %v, want %v", p, got, want)
			}
			if ftppath.Plain(p) && strings.HasPrefix(p, "/") && (strings.Contains(p, "/-") || pathArg(p) != p) {
				t.Fatalf("plain path %q: element with a leading \"-\", or pathArg %q", p, pathArg(p))
			}
		}

		// Any pattern: compiling and matching never panic, and the fast
		// paths agree with the general matcher.
		candidates := []string{dir, name, pattern, ftppath.Join(dir, name), dir + "/x", ascii.Lower(dir), "/" + name}
		if g, err := glob.Compile(pattern, glob.Kind(kind%4)); err == nil {
			if g.Pattern != pattern || g.Kind != glob.Kind(kind%4) {
				t.Fatalf("glob %+v from %q", g, pattern)
			}
			for _, c := range candidates {
				m := g.Match(c)
				if g.Kind == glob.Path && m && !strings.HasPrefix(c, "/") {
					t.Fatalf("path glob %q matched relative %q", pattern, c)
				}
				if m && strings.HasPrefix(c, "/") && glob.MatchAtOrBelow([]*glob.Glob{g}, c) == nil {
					t.Fatalf("glob %q matches %q but matchAtOrBelow does not", pattern, c)
				}
			}
		} else if g != nil {
			t.Fatal("a glob with an error")
		}

		// A quoted literal path matches exactly itself and what is below it.
		if fzLiteralPath(dir) {
			g, err := glob.Compile(fzQuoteGlob(dir), glob.Path)
			if err != nil {
				t.Fatalf("quoted path %q: %v", dir, err)
			}
			for _, c := range append(candidates, dir+" ", strings.ToUpper(dir)) {
				if g.Match(c) != (c == dir) {
					t.Fatalf("literal glob for %q: Match(%q) = %v", dir, c, g.Match(c))
				}
				if strings.HasPrefix(c, "/") && (glob.MatchAtOrBelow([]*glob.Glob{g}, c) != nil) != ftppath.AtOrBelow(c, dir) {
					t.Fatalf("literal glob for %q: matchAtOrBelow(%q) = %v", dir, c, glob.MatchAtOrBelow([]*glob.Glob{g}, c))
				}
			}
		}
		// And a quoted name or host matches itself, ASCII case aside.
		for _, k := range []glob.Kind{glob.Name, glob.Host} {
			lit := name
			if k == glob.Host {
				lit = pattern
			}
			if lit == "" || k == glob.Name && strings.Contains(lit, "/") {
				continue
			}
			g, err := glob.Compile(fzQuoteGlob(lit), k)
			if err != nil {
				t.Fatalf("quoted %q (kind %d): %v", lit, k, err)
			}
			for _, c := range append(candidates, strings.ToUpper(lit), lit+" ") {
				if g.Match(c) != (ascii.Lower(c) == ascii.Lower(lit)) {
					t.Fatalf("literal glob for %q (kind %d): Match(%q) = %v", lit, k, c, g.Match(c))
				}
			}
		}
	})
}
