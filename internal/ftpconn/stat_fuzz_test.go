package ftpconn

// Fuzz target for the STAT exchange over the control connection. Its
// seeds (f.Add, and testdata/fuzz/FuzzStatExchange once there are any)
// run in every go test.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// fzNonce in a fuzzed STAT answer stands for the REST nonce the client
// sent (a server echoes it; a name in a listing cannot know it).
const fzNonce = "NONCE"

func fzVsftpdStat(lines []string) string {
	return "213-Status follows:\r\n" + strings.Join(lines, "\r\n") + "\r\n213 End of status\r\n" +
		"350 Restart position accepted (" + fzNonce + ").\r\n"
}

func fzProftpdStat(lines []string) string {
	var b strings.Builder
	b.WriteString("212-Status of /pub:\r\n")
	for _, l := range lines {
		b.WriteString(" " + l + "\r\n")
	}
	b.WriteString("212 End of status\r\n350 Restarting at " + fzNonce + ". Send STORE or RETRIEVE to initiate transfer\r\n")
	return b.String()
}

// fzEntered is the answer to "CWD /pub files" and "PWD" before a STAT
// answer, for the exchange that enters a directory whose path is not
// plain.
const fzEntered = "250 Directory successfully changed.\r\n257 \"/pub files\" is the current directory\r\n"

// FuzzStatExchange plays a server that answers the pipelined "STAT -a
// /pub", "REST <nonce>" (with enter: "CWD /pub files", "PWD", "STAT -a
// .", "REST <nonce>") with the fuzzer's bytes (fzNonce replaced by the
// nonce), then closes the connection or (hold) keeps it open. The
// exchange must end in bounded time; when it succeeds it must have read
// exactly the answer (anything after the nonce's reply is a desync), the
// answer must echo the nonce, and a listing made from it must hold only
// lines of the answer that parse, with no CR or LF in a name; with
// enter, only after a CWD reply of code 2xx and a PWD reply naming the
// directory.
func FuzzStatExchange(f *testing.F) {
	n := fzNonce
	for _, s := range []string{
		fzVsftpdStat([]string{dotLine, dot2Line, fileLine, "-rw-r--r--    1 0        0               4 Mar 04  2021  lead space"}),
		fzProftpdStat([]string{dotLine, fileLine}),
		fzVsftpdStat([]string{"d--x--x--x    2 0        0            4096 Mar 04  2021 bin"}),
		fzVsftpdStat(nil),
		"213-STAT\r\n213-Sorry, we were unable to read [/bin]\r\n213 End.\r\n350 Restarting at " + n + "\r\n",
		"450 /x: No such file or directory\r\n350 Restarting at " + n + "\r\n",
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 a\nb"}),
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 cr\rx"}),
		fzVsftpdStat([]string{dotLine, "this is not a listing line"}),
		strings.Replace(fzVsftpdStat([]string{dotLine, fileLine}), "213 End of status", "213 Output truncated", 1),
		fzVsftpdStat([]string{dotLine, fileLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "-rw-r--r--    1 0        0               0 Nov 22 05:31 zzz-hidden-after-the-fake-end",
			"350 Restart position accepted (123456789012345)."}),
		"213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n501 REST: Resuming transfers not allowed in ASCII mode\r\n",
		"213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n350 Restart position accepted (0).\r\n",
		fzVsftpdStat([]string{dotLine}) + "226 surprise\r\n",
		fzVsftpdStat([]string{dotLine}) + "2",
		"hello\r\n",
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "350 Restart position accepted (123456789012345).", "x"}),
		fzVsftpdStat([]string{dotLine, "-rw-r--r--    1 0        0               0 Nov 22 05:31 inj",
			"213 End of status", "350 Restart position accepted (" + n + ")."}),
		fzVsftpdStat([]string{dotLine, strings.Repeat("x", 9000)}),
		"",
	} {
		f.Add([]byte(s), false, false)
	}
	f.Add([]byte(fzVsftpdStat([]string{dotLine, fileLine})), true, false)
	f.Add([]byte(fzProftpdStat([]string{dotLine, fileLine})), true, false)
	f.Add([]byte("213-Status follows:\r\n"), true, false)
	vs := fzVsftpdStat([]string{dotLine, fileLine})
	for _, s := range []string{
		fzEntered + vs,
		"250-Welcome to this directory\r\n250-read the README\r\n250 Directory successfully changed.\r\n257 \"/pub files\"\r\n" + vs,
		"550 Failed to change directory.\r\n550 no\r\n" + vs,
		"250 ok\r\n257 \"/\" is the current directory\r\n" + vs,
		"250 ok\r\n257-multi\r\n257 \"/pub files\"\r\n" + vs,
		// A message file that fakes the end of CWD's reply, on a server
		// that does not prefix its lines: a line with no code where PWD's
		// reply should start.
		"250-msg\r\n250 fake end\r\nnot a reply\r\n250 real end\r\n257 \"/pub files\"\r\n" + vs,
		// ... and one that fakes PWD's reply and a whole STAT reply too.
		"250-msg\r\n250 fake end\r\n257 \"/pub files\"\r\n213-Status follows:\r\n" + dotLine + "\r\n213 End of status\r\n250 real end\r\n257 \"/pub files\"\r\n" + vs,
		fzEntered,
		"250 ok\r\n",
	} {
		f.Add([]byte(s), false, true)
	}
	for i, s := range seeds.Listings(f) {
		if s.MLSD {
			continue
		}
		lines := seeds.SplitLines(s.Data)
		switch i % 3 {
		case 0:
			f.Add([]byte(fzVsftpdStat(append([]string{dotLine}, lines...))), false, false)
		case 1:
			f.Add([]byte(fzProftpdStat(lines)), false, false)
		default:
			f.Add([]byte(fzEntered+fzVsftpdStat(append([]string{dotLine}, lines...))), false, true)
		}
	}
	f.Fuzz(func(t *testing.T, answer []byte, hold, enter bool) {
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
			for len(cmds) == 0 || !strings.HasPrefix(cmds[len(cmds)-1], "REST ") {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				cmds = append(cmds, line)
			}
			nonce := strings.TrimSuffix(strings.TrimPrefix(cmds[len(cmds)-1], "REST "), "\r\n")
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
		dir := "/pub"
		if enter {
			dir = "/pub files"
		}
		go func() { defer close(exchanged); r, err = s.statExchange(dir, enter) }()
		select {
		case <-exchanged:
		case <-time.After(10 * time.Second):
			t.Fatalf("statExchange hung on %q", answer)
		}
		elapsed := time.Since(start)
		_ = client.Close()
		_ = server.Close()
		<-served
		want := []string{"STAT -a /pub\r\n"}
		if enter {
			want = []string{"CWD /pub files\r\n", "PWD\r\n", "STAT -a .\r\n"}
		}
		if len(cmds) != len(want)+1 || !slices.Equal(cmds[:len(want)], want) {
			t.Fatalf("commands %q", cmds)
		}
		rest := cmds[len(want)]
		if len(rest) != len("REST \r\n")+15 || strings.Trim(rest[5:20], "0123456789") != "" {
			t.Fatalf("commands %q", cmds)
		}
		nonce := strings.TrimSpace(rest[5:])
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
		if !bytes.HasSuffix(got, []byte("\r\n")) {
			t.Fatalf("an answer that does not end in CRLF was read whole: %q", got)
		}
		lastLine := got
		if i := bytes.LastIndex(got[:len(got)-2], []byte("\r\n")); i >= 0 {
			lastLine = got[i+2:]
		}
		// Only a refusal in step may end otherwise than with the
		// nonce's reply (a server that refused STAT and REST, each
		// in one line).
		if r.refused == "" && (!bytes.Contains(got, []byte(nonce)) || !bytes.HasPrefix(lastLine, []byte("350 "))) {
			t.Fatalf("accepted an answer whose last line %q is not the nonce's reply: %q", lastLine, got)
		}
		if r.refused == "" && (!isCode(r.code+" ") || !strings.HasPrefix(r.final, r.code)) {
			t.Fatalf("code %q final %q", r.code, r.final)
		}
		l, n, why := s.statListing(r)
		if (l == nil) == (why == "") {
			t.Fatalf("listing %v and reason %q", l, why)
		}
		if l == nil {
			return
		}
		if enter && !bytes.HasPrefix(got, []byte("250 ")) && !bytes.HasPrefix(got, []byte("250-")) {
			t.Fatalf("a listing after CWD answered %q", got)
		}
		if n.lines <= int64(len(l.Entries)) || n.bytes >= r.bytes || n.bytes < n.lines {
			t.Fatalf("size %+v of a listing of %d entries from %d bytes", n, len(l.Entries), r.bytes)
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
