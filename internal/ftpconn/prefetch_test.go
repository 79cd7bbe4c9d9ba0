package ftpconn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// batchServer answers one pipelined batch ("STAT -a DIR" lines, then
// "REST nonce") with reply(dirs, nonce), written in one piece, and then
// "REST 0" with 350, once. The session's STAT verdict is on and its
// dialect lists with the path form.
func batchServer(t *testing.T, reply func(dirs []string, nonce string) string) (*ftpSession, <-chan []string) {
	t.Helper()
	s, got := exchangeServer(t, DialOptions{}, func(cmds []string, nonce string) string {
		var dirs []string
		for _, c := range cmds {
			dirs = append(dirs, strings.TrimPrefix(c, "STAT -a "))
		}
		return reply(dirs, nonce)
	})
	s.stat.lineLen = 1 << 10 // as if the server had answered long STAT lines on their own
	return s, got
}

func nameLine(name string) string {
	return "-rw-r--r--    1 0        0               0 Nov 22 05:31 " + name
}

// vsReply is vsftpd's reply to "STAT -a DIR" listing the names.
func vsReply(names ...string) string { return codeReply("213", names...) }

// codeReply is vsReply with another code.
func codeReply(code string, names ...string) string {
	lines := []string{dotLine, dot2Line}
	for _, n := range names {
		lines = append(lines, nameLine(n))
	}
	return code + "-Status follows:\r\n" + strings.Join(lines, "\r\n") + "\r\n" + code + " End of status\r\n"
}

func restReply(n string) string { return "350 Restart position accepted (" + n + ").\r\n" }

// names returns the names of a listing's entries.
func names(l *ftpaudit.Listing) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e.Name)
	}
	return out
}

func TestPrefetchAccepted(t *testing.T) {
	s, cmds := batchServer(t, func(dirs []string, n string) string {
		return vsReply("a1", "a2") + vsReply() + vsReply("c1") + restReply(n)
	})
	if err := s.Prefetch(context.Background(), []string{"/a", "/b", "/c", "/d e", "/a"}); err != nil {
		t.Fatal(err)
	}
	c := <-cmds
	if len(c) != 4 || c[0] != "STAT -a /a" || c[1] != "STAT -a /b" || c[2] != "STAT -a /c" || !strings.HasPrefix(c[3], "REST ") || len(c[3]) != len("REST ")+15 {
		t.Fatalf("commands %q (a path that is not plain, and a repeated one, are left out)", c)
	}
	if s.ctl.Buffered() != 0 || !s.restPending {
		t.Errorf("buffered %d, offset pending %v", s.ctl.Buffered(), s.restPending)
	}
	for dir, want := range map[string][]string{"/a": {"a1", "a2"}, "/b": nil, "/c": {"c1"}} {
		l, _, _, err := s.listSTAT(dir, false)
		if err != nil || l == nil || !slices.Equal(names(l), want) || l.Via != ftpaudit.ViaStat || l.Reply != "213 End of status" {
			t.Errorf("%s: %+v, %v; want %q", dir, l, err, want)
		}
		if _, ok := s.pre[dir]; ok {
			t.Errorf("%s still held after List took it", dir)
		}
	}
	if r := s.stat.report(); r.BatchesRefused != 0 {
		t.Errorf("report %+v", r)
	}
}

// A reply whose content is not a listing (here: an unreadable
// directory's own line, no ".") is kept as refused: List lists that
// directory over a data connection, as after a single STAT.
func TestPrefetchContentRefused(t *testing.T) {
	s, _ := batchServer(t, func(dirs []string, n string) string {
		return vsReply("a1") + "213-Status follows:\r\nd--x--x--x    2 0        0            4096 Mar 04  2021 b\r\n213 End of status\r\n" + restReply(n)
	})
	if err := s.Prefetch(context.Background(), []string{"/a", "/b"}); err != nil {
		t.Fatal(err)
	}
	if p, ok := s.pre["/b"]; !ok || p.l != nil || !strings.Contains(p.why, `"."`) {
		t.Fatalf("/b: %+v, %v", p, ok)
	}
	if l, _, _, err := s.listSTAT("/b", false); l != nil || err != nil || s.stat.fallbacks.Load() != 1 {
		t.Errorf("listSTAT /b: %+v, %v, fallbacks %d", l, err, s.stat.fallbacks.Load())
	}
	if l, _, _, _ := s.listSTAT("/a", false); l == nil || !slices.Equal(names(l), []string{"a1"}) {
		t.Errorf("listSTAT /a: %+v", l)
	}
}

// Batches that must be refused whole, in step: nothing is kept, so that
// List lists each directory again on its own. Each fake is what an
// uploader's names (CR LF in them) can add to the server's replies.
func TestPrefetchRefused(t *testing.T) {
	fake := func(lines ...string) string { return strings.Join(lines, "\r\n") }
	cases := map[string]func(n string) string{
		// A name fakes the end of the first reply, and the listing
		// of the second; the real rest of the first follows.
		"faked end and reply": func(n string) string {
			return vsReply("a1", fake("x", "213 End of status", "213-Status follows:", dotLine, nameLine("fake")), "hidden") +
				vsReply("b1") + restReply(n)
		},
		// A faked end, then a reply of another code that swallows the
		// real end of the first reply up to a line in the second.
		"another code": func(n string) string {
			return vsReply("a1", fake("x", "213 End of status", "451-skip"), "hidden") +
				vsReply(fake("y", "451 end"), "b1") + restReply(n)
		},
		// Three directories an uploader can write: a faked end cuts
		// the first reply, a reply of another code swallows the real
		// ends of the first and the second, and a faked reply of the
		// batch's code in the third ends at the third's real end,
		// right before the nonce. Only the code check refuses this.
		"another code over two replies": func(n string) string {
			return vsReply("a1", fake("x", "213 End of status", "451-skip"), "hidden") +
				vsReply("b1") +
				vsReply(fake("y", "451 end", "213-Status follows:", dotLine, nameLine("fake")), "c1") + restReply(n)
		},
		// The second reply is a refusal in one line.
		"single-line reply": func(n string) string {
			return vsReply("a1") + "450 /b: No such file or directory\r\n" + restReply(n)
		},
		// A faked end in the first reply, then a refusal in one line
		// (of a real third directory) in the middle.
		"faked end before a single-line reply": func(n string) string {
			return vsReply("a1", fake("x", "213 End of status", "213-Status follows:", dotLine), "hidden") +
				"450 /b: No such file or directory\r\n" + vsReply("c1") + restReply(n)
		},
		// Replies of two codes.
		"two codes": func(n string) string {
			return vsReply("a1") + codeReply("212", "b1") + restReply(n)
		},
		// Fewer replies than STATs: the nonce comes early.
		"nonce early": func(n string) string {
			return vsReply("a1") + restReply(n)
		},
		// The nonce inside a reply (the server stopped a reply short).
		"nonce inside": func(n string) string {
			return vsReply("a1") + "213-Status follows:\r\n" + dotLine + "\r\n" + restReply(n)
		},
		// A faked end in the last reply: lines before the nonce.
		"faked end in the last reply": func(n string) string {
			return vsReply("a1") + vsReply("b1", fake("x", "213 End of status"), "hidden") + restReply(n)
		},
	}
	for name, reply := range cases {
		t.Run(name, func(t *testing.T) {
			s, _ := batchServer(t, func(dirs []string, n string) string { return reply(n) })
			dirs := []string{"/a", "/b"}
			if strings.Contains(name, "two replies") || strings.Contains(name, "single-line reply") && strings.Contains(name, "faked") {
				dirs = append(dirs, "/c")
			}
			if err := s.Prefetch(context.Background(), dirs); err != nil {
				t.Fatalf("Prefetch: %v", err)
			}
			if len(s.pre) != 0 || s.stat.refusedB.Load() != 1 {
				t.Fatalf("kept %d listings of a batch that must be refused (refusals counted: %d)", len(s.pre), s.stat.refusedB.Load())
			}
			if s.ctl.Buffered() != 0 || s.stat.verdict != statOn {
				t.Errorf("buffered %d verdict %d", s.ctl.Buffered(), s.stat.verdict)
			}
			// A nonce back early means a STAT went unanswered: the next
			// batch could be one where names make up for the missing
			// reply, so there is none on the host.
			early := strings.HasPrefix(name, "nonce ")
			if s.Prefetches() == early || s.stat.batchable(len(statLine("/a"))) == early {
				t.Errorf("after the refusal: Prefetches %v, batchable %v; want %v", s.Prefetches(), s.stat.batchable(len(statLine("/a"))), !early)
			}
		})
	}
}

// A server that does not answer the sentinel as it should is out of
// step: the session is lost and STAT turned off.
func TestPrefetchDesync(t *testing.T) {
	for name, reply := range map[string]func(n string) string{
		"REST refused":     func(n string) string { return vsReply("a1") + vsReply("b1") + "501 REST: not in ASCII mode\r\n" },
		"nonce not echoed": func(n string) string { return vsReply("a1") + vsReply("b1") + restReply("0") },
		"bytes after":      func(n string) string { return vsReply("a1") + vsReply("b1") + restReply(n) + "226 surprise\r\n" },
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := batchServer(t, func(dirs []string, n string) string { return reply(n) })
			err := s.Prefetch(context.Background(), []string{"/a", "/b"})
			if !errors.Is(err, ftpaudit.ErrConnLost) {
				t.Fatalf("Prefetch: %v, want ErrConnLost", err)
			}
			if len(s.pre) != 0 || s.stat.verdict != statOff {
				t.Errorf("kept %d, verdict %d", len(s.pre), s.stat.verdict)
			}
		})
	}
}

// Replies past the budget of held bytes are read and checked, not kept.
func TestPrefetchBudget(t *testing.T) {
	defer func(h int64) { prefetchHold = h }(prefetchHold)
	prefetchHold = int64(len(vsReply("a1")))
	s, _ := batchServer(t, func(dirs []string, n string) string {
		return vsReply("a1") + vsReply("b1") + vsReply("c1") + restReply(n)
	})
	if err := s.Prefetch(context.Background(), []string{"/a", "/b", "/c"}); err != nil {
		t.Fatal(err)
	}
	_, a := s.pre["/a"]
	_, b := s.pre["/b"]
	_, c := s.pre["/c"]
	if !a || !b || c || s.ctl.Buffered() != 0 {
		t.Errorf("kept /a %v /b %v /c %v (want the first two: the budget is reached after them), buffered %d", a, b, c, s.ctl.Buffered())
	}
}

// A STAT line longer than any the server answered on its own stays out
// of batches (a server that drops over-long lines without a word, as
// proftpd does, would leave the replies one short); a single STAT
// answered raises the bound.
func TestPrefetchLineBound(t *testing.T) {
	long := "/" + strings.Repeat("d", 100)
	s, cmds := batchServer(t, func(dirs []string, n string) string {
		return vsReply("a1") + vsReply("b1") + restReply(n)
	})
	s.stat.lineLen = len(statLine("/a"))
	if err := s.Prefetch(context.Background(), []string{"/a", "/b", long}); err != nil {
		t.Fatal(err)
	}
	if c := <-cmds; len(c) != 3 || slices.Contains(c, "STAT -a "+long) {
		t.Errorf("commands %q: the long line went in the batch", c)
	}
	s2, _ := statServer(t, DialOptions{}, vsftpdStat(dotLine, fileLine))
	if _, _, _, err := s2.listSTAT(long, false); err != nil || !s2.stat.batchable(len(statLine(long))) || s2.stat.batchable(len(statLine(long))+1) {
		t.Errorf("after a single STAT of %d bytes: %v, bound %d", len(statLine(long)), err, s2.stat.lineLen)
	}
}

// Prefetch leaves alone what it must not batch: STAT off, one
// directory, the path-form check not done.
func TestPrefetchNothing(t *testing.T) {
	for name, set := range map[string]func(s *ftpSession) []string{
		"stat off":       func(s *ftpSession) []string { s.stat.verdict = statOff; return []string{"/a", "/b"} },
		"one directory":  func(s *ftpSession) []string { return []string{"/a", "/a b"} },
		"form unchecked": func(s *ftpSession) []string { s.dialect.check = checkNone; return []string{"/a", "/b"} },
		"other form":     func(s *ftpSession) []string { s.dialect.form = formDashAPath.cwdTwin(); return []string{"/a", "/b"} },
	} {
		t.Run(name, func(t *testing.T) {
			s, cmds := batchServer(t, func([]string, string) string { return "" })
			if err := s.Prefetch(context.Background(), set(s)); err != nil || len(s.pre) != 0 {
				t.Fatalf("%v, kept %d", err, len(s.pre))
			}
			_ = s.control.Close()
			if c := <-cmds; len(c) != 0 {
				t.Errorf("sent %q", c)
			}
		})
	}
}

// FuzzStatBatch plays a server listing three directories, whose names
// the fuzzer picks (CR LF in them included: what an uploader can do),
// for a batch of three STATs; a directory's reply may also be a refusal
// in one line, or of another code. Whatever the names, a listing
// Prefetch keeps must be exactly the one the server sent for that
// directory; and a batch of plain names and plain replies must be kept
// whole.
func FuzzStatBatch(f *testing.F) {
	f.Add([]byte("a1\x01a2\x00b1\x00c1"), byte(0))
	f.Add([]byte("a1\x00b1\r\n213 End of status\r\n213-Status follows:\r\n"+dotLine+"\r\n"+nameLine("fake")+"\x01hidden\x00c1"), byte(0))
	f.Add([]byte("x\r\n213 End of status\r\n451-skip\x01hidden\x00y\r\n451 end\x01b1\x00c1"), byte(0))
	f.Add([]byte("x\r\n213 End of status\r\n213-Status follows:\r\n"+dotLine+"\x01hidden\x00\x00c1"), byte(2))
	f.Add([]byte("a1\x00b1\x00c1"), byte(4<<3))
	f.Add([]byte("a1\x01x\r\n213 End of status\r\n451-skip\x01hidden\x00b1\x00y\r\n451 end\r\n213-Status follows:\r\n"+dotLine+"\r\n"+nameLine("fake")+"\x01c1"), byte(0))
	f.Add([]byte("a\nb\x00b1\x00c\rd"), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, kinds byte) {
		if len(data) > 4096 {
			return
		}
		groups := strings.SplitN(string(data), "\x00", 3)
		for len(groups) < 3 {
			groups = append(groups, "")
		}
		var lists [3][]string
		plain := true
		for i, g := range groups {
			if g != "" {
				lists[i] = strings.Split(g, "\x01")
			}
			for _, n := range lists[i] {
				plain = plain && n != "" && !strings.ContainsAny(n, "\r\n") && strings.TrimSpace(n) == n && n != "." && n != ".."
			}
		}
		kind := func(i int) byte { return kinds >> (2 * i) & 3 } // 0, 3: a listing; 1: a refusal in one line; 2: code 212
		s, _ := batchServer(t, func(dirs []string, n string) string {
			var b strings.Builder
			for i := range 3 {
				switch kind(i) {
				case 1:
					b.WriteString("450 No such file or directory\r\n")
				case 2:
					b.WriteString(codeReply("212", lists[i]...))
				default:
					b.WriteString(vsReply(lists[i]...))
				}
			}
			return b.String() + restReply(n)
		})
		dirs := []string{"/a", "/b", "/c"}
		if err := s.Prefetch(context.Background(), dirs); err != nil {
			// Names that fake replies can make the batch look like a
			// server that refused the sentinel: the session is given
			// up, STAT with it, as after a single STAT (safe, slower).
			if plain || !errors.Is(err, ftpaudit.ErrConnLost) || len(s.pre) != 0 || s.stat.verdict != statOff {
				t.Fatalf("Prefetch: %v (kept %d, verdict %d)", err, len(s.pre), s.stat.verdict)
			}
			return
		}
		if s.ctl.Buffered() != 0 {
			t.Fatalf("%d bytes left buffered", s.ctl.Buffered())
		}
		for i, dir := range dirs {
			p, ok := s.pre[dir]
			if !ok || p.l == nil {
				continue
			}
			if kind(i) == 1 {
				t.Fatalf("%s: a listing kept for a refusal: %q", dir, names(p.l))
			}
			// The listing is the server's reply for this directory,
			// whole: each entry a line of it, each line of it that is
			// an entry there. (A name holding CR LF is listed as the
			// server's lines show it, as after a single STAT.)
			code := "213"
			if kind(i) == 2 {
				code = "212"
			}
			real := strings.Split(codeReply(code, lists[i]...), "\r\n")
			var want []string
			for _, line := range real[1 : len(real)-2] {
				if _, _, skip, err := listing.ParseListLine(line, time.Now()); err == nil && !skip {
					want = append(want, line)
				}
			}
			var got []string
			for _, e := range p.l.Entries {
				got = append(got, e.Raw)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: kept %q, the server's reply has %q", dir, got, want)
			}
		}
		if plain && kind(0) != 1 && kind(1) != 1 && kind(2) != 1 && (kind(0) == 2) == (kind(1) == 2) && (kind(1) == 2) == (kind(2) == 2) {
			for i, dir := range dirs {
				if p, ok := s.pre[dir]; !ok || p.l == nil || !slices.Equal(names(p.l), lists[i]) {
					t.Fatalf("%s of a plain batch: %+v, %v; want %q", dir, p, ok, lists[i])
				}
			}
		}
	})
}
