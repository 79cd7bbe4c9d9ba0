package listing

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// randomTreeText is a recursive listing of sections of random sizes
// (empty ones, ones of a few entries, some larger than a slab), with
// ".", "..", "total", symlinks, unparsed lines and names with spaces,
// cut into chunks at line ends; want holds each section's entries as
// ParseListLine reads its lines one by one.
func randomTreeText(r *rand.Rand) (text []string, want [][]ftpaudit.Entry, headers []string) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	nsec := 1 + r.IntN(60)
	for s := range nsec {
		if s > 0 {
			h := fmt.Sprintf("/d%d/sub %d", s, s)
			headers = append(headers, h)
			fmt.Fprintf(&b, "\n%s:\n", h)
		} else {
			headers = append(headers, "")
		}
		var lines []string
		if s == 0 || r.IntN(4) > 0 {
			// (The first section has its "." always: a header after an
			// empty first section would head that section.)
			lines = append(lines, "total 12", "drwxr-xr-x   3 ftp      ftp          4096 Mar  4  2021 .", "drwxr-xr-x   9 ftp      ftp          4096 Mar  4  2021 ..")
		}
		n := r.IntN(40)
		switch r.IntN(10) {
		case 0:
			n = 0
		case 1:
			n = 100 + r.IntN(400)
		case 2:
			if r.IntN(4) == 0 {
				n = maxSlab + r.IntN(3*maxSlab) // a section larger than a slab
			}
		}
		for i := range n {
			switch r.IntN(12) {
			case 0:
				lines = append(lines, fmt.Sprintf("lrwxrwxrwx   1 ftp      ftp            11 Nov 20 11:02 link-%d -> ../target %d", i, i))
			case 1:
				lines = append(lines, fmt.Sprintf("?? not a listing line %d", i))
			case 2:
				lines = append(lines, fmt.Sprintf("drwxr-xr-x   2 ftp      ftp          4096 Jan  2  2024 dir %d", i))
			default:
				lines = append(lines, fmt.Sprintf("-rw-r--r--   1 ftp      ftp      %10d Oct  1 12:13 file-%d.tar.gz", r.IntN(1<<30), i))
			}
		}
		var es []ftpaudit.Entry
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\r\n")
			e, _, skip, err := ParseListLine(l, now)
			if err == nil && !skip {
				es = append(es, e)
			}
		}
		want = append(want, es)
	}
	return splitChunks(b.String(), 1+r.IntN(64<<10)), want, headers
}

// TestParseTreeSlabs: sections read into shared slabs are each exactly
// what ParseListLine makes of their lines, are capped at their length
// (appending to one never overwrites another), and the cut at a limit
// keeps limit+1 entries, across slab boundaries and sections larger than
// a slab.
func TestParseTreeSlabs(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(120) {
		r := rand.New(rand.NewPCG(seed, 3))
		text, want, headers := randomTreeText(r)
		total := 0
		for _, w := range want {
			total += len(w)
		}
		limit := 0
		if seed%4 == 3 && total > 2 {
			limit = r.IntN(total - 1)
		}
		secs, _, cut := ParseTreeLimit(text, now, limit)
		if cut != (limit > 0 && total > limit+1) {
			t.Fatalf("seed %d: cut %v with %d entries and limit %d", seed, cut, total, limit)
		}
		kept := 0
		for i, s := range secs {
			if s.Header != headers[i] {
				t.Fatalf("seed %d: section %d header %q, want %q", seed, i, s.Header, headers[i])
			}
			w := want[i]
			if cut && kept+len(w) > limit+1 {
				w = w[:limit+1-kept]
			}
			if len(s.Entries) != len(w) {
				t.Fatalf("seed %d: section %d has %d entries, want %d", seed, i, len(s.Entries), len(w))
			}
			if cap(s.Entries) != len(s.Entries) {
				t.Fatalf("seed %d: section %d: cap %d, len %d", seed, i, cap(s.Entries), len(s.Entries))
			}
			for k := range w {
				if d := diffEntry(s.Entries[k], w[k]); d != "" || s.Entries[k].Target() != w[k].Target() {
					t.Fatalf("seed %d: section %d entry %d %q: %s (target %q, want %q)", seed, i, k, w[k].Raw, d, s.Entries[k].Target(), w[k].Target())
				}
			}
			kept += len(s.Entries)
		}
		if !cut && len(secs) != len(want) {
			t.Fatalf("seed %d: %d sections, want %d", seed, len(secs), len(want))
		}
		// Appending to a section leaves the others as they were.
		for i := range secs {
			_ = append(secs[i].Entries, ftpaudit.Entry{Name: "clobber"})
		}
		for i, s := range secs {
			for k := range s.Entries {
				if s.Entries[k].Name == "clobber" {
					t.Fatalf("seed %d: section %d entry %d overwritten by an append to another section", seed, i, k)
				}
			}
		}
	}
}

// BenchmarkParseTree parses a recursive listing shaped like the bench
// archive's (sections of about 20 entries, a few of hundreds): the
// allocations are the entries' slabs, not an array per section grown by
// doubling.
func BenchmarkParseTree(b *testing.B) {
	var sb strings.Builder
	r := rand.New(rand.NewPCG(1, 1))
	n := 0
	for s := range 2000 {
		fmt.Fprintf(&sb, "/pub/dir-%04d:\ntotal 8\ndrwxr-xr-x 3 ftp ftp 4096 Mar  4  2021 .\ndrwxr-xr-x 9 ftp ftp 4096 Mar  4  2021 ..\n", s)
		k := 1 + r.IntN(30)
		if s%100 == 0 {
			k = 500
		}
		for i := range k {
			fmt.Fprintf(&sb, "-rw-r--r-- 1 ftp ftp %d Oct  1 12:13 file-%d.%d.tar.gz\n", r.IntN(1<<20), s, i)
			n++
		}
		sb.WriteString("\n")
	}
	text := splitChunks(sb.String(), 1<<20)
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		secs, _, _ := ParseTreeLimit(text, now, 0)
		if len(secs) != 2000 {
			b.Fatal(len(secs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
}
