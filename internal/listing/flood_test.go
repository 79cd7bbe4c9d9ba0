package listing

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ftpaudit/ftpaudit"
)

// floodChunks is n copies of line cut into chunks of about 1 MiB at line
// ends, as a listBuf hands a listing to the parser.
func floodChunks(line string, n int) []string {
	per := max(1, (1<<20)/max(len(line), 1))
	var text []string
	for n > 0 {
		k := min(per, n)
		text = append(text, strings.Repeat(line, k))
		n -= k
	}
	return text
}

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// perEntry is a generous ceiling on what one kept entry costs: the Entry
// (144 bytes), an MLSD entry's EntryExtra and facts map.
const perEntry = 1024

// TestFloodMemory floods the parser with lines that cost nothing to send
// and checks that what it allocates grows with the entries it keeps, never
// with the bytes or lines it is given.
func TestFloodMemory(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	const limit = 1000
	cases := []struct {
		name      string
		text      []string
		mlsd      bool
		limit     int
		wantKept  int
		wantCut   bool
		wantBad   int // BadLines kept
		wantLines int // unparsed lines counted (kept + More)
	}{
		{name: "blank LF", text: floodChunks("\n", 16<<20), limit: 0},
		{name: "blank CRLF", text: floodChunks("\r\n", 8<<20), limit: 0},
		{name: "blank MLSD", text: floodChunks("\r\n", 8<<20), mlsd: true, limit: 0},
		{name: "minimal MLSD", text: floodChunks("type=file; a\r\n", 1<<20), mlsd: true, limit: limit, wantKept: limit + 1, wantCut: true},
		{name: "minimal LIST", text: floodChunks("-rw-r--r-- 1 a b 0 Jan 1 2000 a\r\n", 1<<19), limit: limit, wantKept: limit + 1, wantCut: true},
		{name: "blank then minimal MLSD", text: append(floodChunks("\n", 8<<20), floodChunks("type=file; a\n", 1<<20)...), mlsd: true, limit: limit, wantKept: limit + 1, wantCut: true},
		{name: "unparsed lines", text: floodChunks("x\n", 4<<20), limit: limit, wantBad: ftpaudit.MaxBadLinesKept, wantLines: 4 << 20},
		{name: "under the limit", text: floodChunks("type=file; a\r\n", limit), mlsd: true, limit: limit, wantKept: limit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var (
				entries []ftpaudit.Entry
				bad     []ftpaudit.BadLine
				cut     bool
			)
			n := allocated(func() { entries, bad, cut = ParseChunksLimit(c.text, c.mlsd, now, c.limit) })
			if len(entries) != c.wantKept || cut != c.wantCut || len(bad) != c.wantBad {
				t.Fatalf("kept %d, cut %v, %d bad lines; want %d, %v, %d", len(entries), cut, len(bad), c.wantKept, c.wantCut, c.wantBad)
			}
			lines := 0
			for _, b := range bad {
				lines += 1 + b.More
			}
			if lines != c.wantLines {
				t.Errorf("%d unparsed lines counted, want %d", lines, c.wantLines)
			}
			size := 0
			for _, s := range c.text {
				size += len(s)
			}
			// 256 KiB of slack (the race detector allocates more): bounded
			// all the same against megabytes of input.
			ceiling := 256<<10 + uint64(perEntry*(len(entries)+len(bad)))
			t.Logf("%d bytes in, %d entries kept, %d bytes allocated (ceiling %d)", size, len(entries), n, ceiling)
			if n > ceiling {
				t.Errorf("allocated %d bytes for %d bytes of listing and %d entries kept; ceiling %d", n, size, len(entries), ceiling)
			}
		})
	}
}

// TestHugeLine: a line of 100 MB that does not parse is kept as a bounded
// prefix, a copy (so that the text can be freed), with its full length.
func TestHugeLine(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, mlsd := range []bool{false, true} {
		t.Run(fmt.Sprint("mlsd=", mlsd), func(t *testing.T) {
			line := "é" + strings.Repeat("x", ftpaudit.BadLineKeep-3) + "é" + strings.Repeat("y", 100<<20)
			ok := "-rw-r--r-- 1 a b 0 Jan 1 2000 ok\r\n"
			if mlsd {
				ok = "type=file; ok\r\n"
			}
			text := []string{line + "\r\n", ok}
			var bad []ftpaudit.BadLine
			n := allocated(func() { _, bad, _ = ParseChunksLimit(text, mlsd, now, 10) })
			if len(bad) != 1 {
				t.Fatalf("%d bad lines, want 1", len(bad))
			}
			b := bad[0]
			if b.Len != len(line) || !b.Cut() || len(b.Raw) > ftpaudit.BadLineKeep || !strings.HasPrefix(line, b.Raw) || !utf8.ValidString(b.Raw) {
				t.Fatalf("bad line: %d bytes kept of %d (Len %d), valid UTF-8 %v", len(b.Raw), len(line), b.Len, utf8.ValidString(b.Raw))
			}
			if len(b.Raw) != ftpaudit.BadLineKeep-1 {
				t.Errorf("kept %d bytes, want %d (cut before the é that straddles %d)", len(b.Raw), ftpaudit.BadLineKeep-1, ftpaudit.BadLineKeep)
			}
			if s := b.String(); len(s) > ftpaudit.BadLineKeep+64 || !strings.Contains(s, fmt.Sprint(len(line))) {
				t.Errorf("String() = %d bytes %q...", len(s), s[:min(len(s), 40)])
			}
			if n > 64<<10 {
				t.Errorf("allocated %d bytes for one huge line", n)
			}
		})
	}
}

// TestBadLineShort: a short line is kept whole.
func TestBadLineShort(t *testing.T) {
	b := ftpaudit.NewBadLine("what?", "unrecognised")
	if b.Raw != "what?" || b.Len != 5 || b.Cut() || b.String() != "what?" {
		t.Fatalf("%+v %q", b, b.String())
	}
}

// TestGrow parses listings whose entries come after many lines that are
// not entries, so that the entries' room grows several times, and checks
// every entry against the single-line parsers.
func TestGrow(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, mlsd := range []bool{false, true} {
		for _, limit := range []int{0, 7000, 20000} {
			t.Run(fmt.Sprint("mlsd=", mlsd, ",limit=", limit), func(t *testing.T) {
				var b strings.Builder
				var want []string
				for i := range 30000 {
					if i < 9000 && i%3 != 0 || i%7 == 0 {
						b.WriteString("?\r\n\r\n")
						continue
					}
					name := fmt.Sprint("f", i)
					if mlsd {
						fmt.Fprintf(&b, "type=file;size=%d; %s\r\n", i, name)
					} else {
						fmt.Fprintf(&b, "-rw-r--r-- 1 a b %d Jan 1 2000 %s\r\n", i, name)
					}
					want = append(want, name)
				}
				text := splitChunks(b.String(), 64<<10)
				entries, _, cut := ParseChunksLimit(text, mlsd, now, limit)
				wantCut := limit > 0 && len(want) > limit+1
				if wantCut {
					want = want[:limit+1]
				}
				if cut != wantCut || len(entries) != len(want) {
					t.Fatalf("%d entries, cut %v; want %d, %v", len(entries), cut, len(want), wantCut)
				}
				for i, e := range entries {
					if e.Name != want[i] || fmt.Sprint("f", e.Size) != e.Name || !strings.HasSuffix(e.Raw, e.Name) {
						t.Fatalf("entry %d = %q, want %q", i, e.Name, want[i])
					}
					if mlsd && (e.Extra == nil || e.Facts()["size"] != fmt.Sprint(e.Size) || e.Facts()["type"] != "file") {
						t.Fatalf("entry %d %q: facts %v, size %d", i, e.Name, e.Facts(), e.Size)
					}
				}
			})
		}
	}
}

// splitChunks cuts s into chunks of about size bytes at line ends.
func splitChunks(s string, size int) []string {
	var text []string
	for len(s) > size {
		i := strings.IndexByte(s[size:], '\n') + size + 1
		text, s = append(text, s[:i]), s[i:]
	}
	return append(text, s)
}

// TestTreeFlood: a recursive listing keeps at most limit+1 entries in all
// and counts what it keeps; empty lines cost nothing.
func TestTreeFlood(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	text := append(floodChunks("\r\n", 4<<20), floodChunks("/d:\n-rw-r--r-- 1 a b 0 Jan 1 2000 a\n?\n\n", 100_000)...)
	var (
		secs []ftpaudit.TreeSection
		cut  bool
	)
	n := allocated(func() { secs, _, cut = ParseTreeLimit(text, now, 5000) })
	kept, bad := 0, 0
	for _, s := range secs {
		kept += len(s.Entries)
		bad += len(s.Bad)
	}
	if !cut || kept != 5001 {
		t.Fatalf("cut %v, %d entries kept", cut, kept)
	}
	if ceiling := uint64(256<<10 + perEntry*(kept+bad+len(secs))); n > ceiling {
		t.Errorf("allocated %d bytes, ceiling %d", n, ceiling)
	}
}
