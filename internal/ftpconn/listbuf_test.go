package ftpconn

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/ftpaudit/ftpaudit/internal/listing"
)

// checkChunks checks that text is want cut only after line ends.
func checkChunks(t *testing.T, text []string, want string) {
	t.Helper()
	if got := strings.Join(text, ""); got != want {
		t.Fatalf("chunks join to %d bytes, want %d", len(got), len(want))
	}
	for i, c := range text {
		if c == "" || (i < len(text)-1 && c[len(c)-1] != '\n') {
			t.Fatalf("chunk %d of %d is empty or does not end in a line end: %q", i, len(text), c[max(0, len(c)-20):])
		}
	}
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	e1, b1 := listing.ParseChunks(text, false, now)
	e2, b2 := listing.ParseText(want, false, now)
	if !reflect.DeepEqual(e1, e2) || !reflect.DeepEqual(b1, b2) {
		t.Fatalf("parsing the chunks differs from parsing the text")
	}
}

func listBufText(rng *rand.Rand, lines int) string {
	var sb strings.Builder
	for i := range lines {
		name := strings.Repeat("n", rng.IntN(40))
		if rng.IntN(5000) == 0 {
			name = strings.Repeat("long", rng.IntN(1<<19)) // up to 2 MiB: longer than a chunk
		}
		sb.WriteString("-rw-r--r--    1 ftp      ftp          1234 Jan 02 03:04 f")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString(name)
		if rng.IntN(3) == 0 {
			sb.WriteString("\r")
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// longestLine is the length of text's longest line.
func longestLine(text string) int {
	n := 0
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			i = len(text)
		}
		n = max(n, i)
		text = text[min(i+1, len(text)):]
	}
	return n
}

// TestListBufReadFrom reads random listings through a reader that returns
// half of what is asked, and checks that the chunks are cut only after
// line ends and parse as the text does. Under the race detector or -short
// it plays only the first rounds, which still hold every kind (with and
// without a scratch array and a last line end, with lines longer than a
// chunk), and it fails if they no longer hold a line longer than a chunk.
func TestListBufReadFrom(t *testing.T) {
	rounds := 20
	if raceEnabled || testing.Short() {
		rounds = 4
	}
	rng := rand.New(rand.NewPCG(1, 2))
	longLines := 0
	for round := range rounds {
		text := listBufText(rng, rng.IntN(40000))
		if longestLine(text) > listChunkMax {
			longLines++
		}
		if round%4 == 0 && len(text) > 0 {
			text = text[:len(text)-1-rng.IntN(min(len(text), 30))] // no line end at the end
		}
		var scratch []byte
		if round%2 == 1 {
			scratch = make([]byte, 0, listChunkMin)
		}
		b := newListBuf(scratch)
		n, err := b.readFrom(iotest.HalfReader(strings.NewReader(text)), 1<<30)
		if err != nil || n != int64(len(text)) || b.Len() != n {
			t.Fatalf("read %d (%d) of %d: %v", n, b.Len(), len(text), err)
		}
		if len(text) > 0 && b.lastByte() != text[len(text)-1] {
			t.Fatalf("last byte %q", b.lastByte())
		}
		got, sc := b.finish()
		checkChunks(t, got, text)
		if cap(sc) > listChunkMax {
			t.Fatalf("kept a %d byte array", cap(sc))
		}
	}
	if longLines == 0 {
		t.Fatalf("none of the %d rounds has a line longer than a chunk (%d bytes)", rounds, listChunkMax)
	}
}

func TestListBufLimit(t *testing.T) {
	text := listBufText(rand.New(rand.NewPCG(3, 4)), 30000)
	for _, limit := range []int64{1, 100, listChunkMin, listChunkMax + 7, int64(len(text)) - 1, int64(len(text))} {
		b := newListBuf(nil)
		n, err := b.readFrom(strings.NewReader(text), limit)
		if err != nil || n != limit || b.Len() != limit {
			t.Fatalf("limit %d: read %d: %v", limit, n, err)
		}
		got, _ := b.finish()
		checkChunks(t, got, text[:limit])
	}
	b := newListBuf(nil)
	if _, err := b.readFrom(iotest.DataErrReader(iotest.ErrReader(io.ErrUnexpectedEOF)), 10); err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v", err)
	}
}

func TestListBufWriteLine(t *testing.T) {
	text := listBufText(rand.New(rand.NewPCG(5, 6)), 50000)
	b := newListBuf(nil)
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			b.writeLine([]byte(strings.TrimSuffix(l, "\n")))
		}
	}
	if b.Len() != int64(len(text)) {
		t.Fatalf("length %d, want %d", b.Len(), len(text))
	}
	got, _ := b.finish()
	checkChunks(t, got, text)
	if len(got) < 2 {
		t.Fatalf("%d chunks", len(got))
	}
}

func TestListBufTake(t *testing.T) {
	b := newListBuf(nil)
	if got, _ := b.take(); got != nil {
		t.Fatalf("empty take %q", got)
	}
	text := bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6}, 500000) // no line end at all
	b = newListBuf(nil)
	if _, err := b.readFrom(bytes.NewReader(text), 1<<30); err != nil {
		t.Fatal(err)
	}
	got, sc := b.take()
	if !bytes.Equal(got, text) || sc != nil {
		t.Fatalf("take: %d bytes, scratch %d", len(got), cap(sc))
	}
}

// BenchmarkHugeListing reads a 200,000-line listing as it comes off a
// data connection (listBuf) and parses it, as listRaw does. B/op is
// what a huge directory costs beyond its entries' final home; the
// alloc-bytes/entry metric (everything allocated, divided by the
// entries) shows a regression in the listing buffer or the Entry size.
func BenchmarkHugeListing(b *testing.B) {
	var sb strings.Builder
	const n = 200_000
	sb.WriteString("total 0\r\ndrwxr-xr-x    2 0        0         4096 Nov 22 03:26 .\r\n")
	for i := range n {
		fmt.Fprintf(&sb, "-rw-r--r--    1 0        0               0 Nov 30 03:00 file-%07d.tar.gz\r\n", i)
	}
	text := sb.String()
	now := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	var scratch []byte
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	loops := 0
	for b.Loop() {
		loops++
		buf := newListBuf(scratch)
		if _, err := buf.readFrom(strings.NewReader(text), 1<<30); err != nil {
			b.Fatal(err)
		}
		chunks, sc := buf.finish()
		scratch = sc
		entries, bad := listing.ParseChunks(chunks, false, now)
		if len(entries) != n || len(bad) != 0 {
			b.Fatalf("%d entries, %d bad", len(entries), len(bad))
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n)/float64(loops), "alloc-bytes/entry")
}

// TestListBufSharedChunk fills one array with listing after listing, as a
// session does (finish hands on the rest of the chunk), in every way a
// listing is written: lines of a STAT reply, a data connection's bytes,
// runs of empty lines squeezed, a line too long to keep, and take. The
// strings every finished listing returned must hold what that listing
// was given, to the end: a later listing that wrote over any of them
// would change the entries of a directory already filed.
func TestListBufSharedChunk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 17))
	type kept struct {
		text []string
		want string
	}
	var all []kept
	var scratch []byte
	shared := 0
	for i := range 400 {
		b := newListBuf(scratch)
		b.listing = true
		var want strings.Builder
		switch i % 4 {
		case 0: // STAT reply lines
			for k := range rng.IntN(40) {
				line := fmt.Sprintf("-rw-r--r-- 1 0 0 %d Nov 30 03:00 f%d-%d", k, i, k)
				b.writeLine([]byte(line))
				want.WriteString(line + "\n")
			}
		case 1: // a data connection, with empty lines squeezed
			var in strings.Builder
			for k := range rng.IntN(60) {
				fmt.Fprintf(&in, "drwxr-xr-x 2 0 0 4096 Nov 30 03:00 d%d-%d\r\n", i, k)
				if k%3 == 0 {
					in.WriteString("\r\n\r\n\n")
				}
			}
			if _, err := b.readFrom(strings.NewReader(in.String()), 1<<30); err != nil {
				t.Fatal(err)
			}
			text, sc := b.finish()
			scratch = sc
			all = append(all, kept{text, strings.Join(text, "")}) // checked for change, below
			continue
		case 2: // a line too long to keep, between short ones
			in := "-rw-r--r-- 1 0 0 1 Nov 30 03:00 a\r\n" + strings.Repeat("x", maxListLine+10) + "\r\n-rw-r--r-- 1 0 0 1 Nov 30 03:00 b\r\n"
			if _, err := b.readFrom(strings.NewReader(in), 1<<30); err != nil {
				t.Fatal(err)
			}
			text, sc := b.finish()
			scratch = sc
			all = append(all, kept{text, strings.Join(text, "")})
			continue
		case 3: // a download, copied out: the chunk is handed on whole
			got, sc := b.take()
			_ = got
			scratch = sc
			continue
		}
		text, sc := b.finish()
		if got := strings.Join(text, ""); got != want.String() {
			t.Fatalf("listing %d: got %q, want %q", i, got, want.String())
		}
		if sc != nil && len(text) > 0 {
			// The rest of the chunk starts right after the text.
			last := text[len(text)-1]
			end := uintptr(unsafe.Pointer(unsafe.StringData(last))) + uintptr(len(last))
			if uintptr(unsafe.Pointer(unsafe.SliceData(sc))) != end {
				t.Fatalf("listing %d: the rest of the chunk does not start after the text", i)
			}
			shared++
		}
		scratch = sc
		all = append(all, kept{text, want.String()})
	}
	if shared < 50 {
		t.Fatalf("only %d listings handed on the rest of their chunk: the test does not test sharing", shared)
	}
	for i, k := range all {
		if got := strings.Join(k.text, ""); got != k.want {
			t.Fatalf("kept listing %d changed after later listings: got %q, want %q", i, got, k.want)
		}
	}
}
