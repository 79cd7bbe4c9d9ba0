package ftpconn

import (
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// linesOf is text as a parser sees it: its lines, without "\n" and one
// "\r", with each run of empty lines as one "" and lines of more than
// maxListLine bytes left out; last says whether the text ends in "\n".
func linesOf(text string, dropLong bool) []string {
	var out []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
		if dropLong && len(l) >= maxListLine {
			continue
		}
		if l == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestListBufListing: a listing's listBuf squeezes runs of empty lines
// and leaves out lines too long to be entries, keeping their prefix and
// length; what the parsers see is otherwise unchanged.
func TestListBufListing(t *testing.T) {
	long := "-rw-r--r-- 1 a b 0 Jan 1 2000 " + strings.Repeat("é", 3<<20)
	var b strings.Builder
	for i := range 200_000 {
		switch i % 1000 {
		case 3:
			b.WriteString(strings.Repeat("\r\n", 50_000))
		case 7:
			b.WriteString(strings.Repeat("\n", 70_000))
		case 500:
			if i < 2000 {
				b.WriteString(long + "\r\n")
			}
		}
		b.WriteString("-rw-r--r-- 1 a b 0 Jan 1 2000 name\r\n")
	}
	b.WriteString(long) // the last line, cut
	text := b.String()
	buf := newListBuf(nil)
	buf.listing = true
	n, err := buf.readFrom(iotest.HalfReader(strings.NewReader(text)), 1<<30)
	if err != nil || n != int64(len(text)) || buf.Len() != n || buf.lastByte() != text[len(text)-1] {
		t.Fatalf("read %d of %d (%d), last %q: %v", n, len(text), buf.Len(), buf.lastByte(), err)
	}
	longs := buf.takeLong()
	chunks, _ := buf.finish()
	got := strings.Join(chunks, "")
	if len(got) > len(text)/4 {
		t.Errorf("kept %d of %d bytes", len(got), len(text))
	}
	want := linesOf(text, true)
	if g := linesOf(got, false); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d lines, want %d", len(g), len(want))
	}
	if len(longs) != 3 {
		t.Fatalf("%d long lines, want 3", len(longs))
	}
	for i, l := range longs {
		if l.Len != len(long) || !strings.HasPrefix(long, l.Raw) || len(l.Raw) < 500 || l.Err == "" {
			t.Errorf("long line %d: %d bytes kept, Len %d, want %d: %q", i, len(l.Raw), l.Len, len(long), l.Err)
		}
	}
}

// TestListBufFloodMemory: a listing of 64 MiB of empty lines, or one line
// of 64 MiB, costs about a chunk, not its size.
func TestListBufFloodMemory(t *testing.T) {
	for name, text := range map[string]string{
		"blank":     strings.Repeat("\r\n", 32<<20),
		"long line": strings.Repeat("x", 64<<20) + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			buf := newListBuf(nil)
			buf.listing = true
			if _, err := buf.readFrom(strings.NewReader(text), 1<<30); err != nil {
				t.Fatal(err)
			}
			buf.takeLong()
			chunks, _ := buf.finish()
			runtime.ReadMemStats(&m1)
			if a := m1.TotalAlloc - m0.TotalAlloc; a > 8<<20 {
				t.Errorf("allocated %d bytes for %d bytes (%d chunks)", a, len(text), len(chunks))
			}
		})
	}
}
