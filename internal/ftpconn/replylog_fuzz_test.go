package ftpconn

// Fuzz target for the reply log, which reads the server's replies from
// jlaffaye's debug stream. Its seeds (f.Add and
// testdata/fuzz/FuzzReplyLog) run in every go test.

import (
	"bufio"
	"bytes"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"testing"
)

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
