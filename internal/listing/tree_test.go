package listing

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

func TestParseTreeRealOutputs(t *testing.T) {
	// Recursive listings captured from the real servers (see
	// testdata/realservers/NOTES.md, section 10).
	cases := map[string]struct {
		sections int
		first    string // first section's header
		some     string // a header that must be there, as the server wrote it
	}{
		"real-proftpd-list-aR-root.txt":  {sections: 45, first: "", some: "/trail dir "},
		"real-pureftpd-list-aR-root.txt": {sections: 39, first: "", some: "//pub/docs"},
		"real-vsftpd-r-list-aR-root.txt": {sections: 42, first: "/", some: "//  "},
	}
	for file, c := range cases {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "listings", file))
			if err != nil {
				t.Fatal(err)
			}
			secs, lines := ParseTree([]string{string(b)}, time.Now())
			if len(secs) != c.sections {
				t.Errorf("%d sections, want %d", len(secs), c.sections)
			}
			if secs[0].Header != c.first || !secs[0].Dot {
				t.Errorf("first section header %q dot %v", secs[0].Header, secs[0].Dot)
			}
			if !slices.ContainsFunc(secs, func(s ftpaudit.TreeSection) bool { return s.Header == c.some }) {
				t.Errorf("no section headed %q", c.some)
			}
			bad := 0
			for _, s := range secs {
				bad += len(s.Bad)
			}
			if bad != 0 || lines == 0 {
				t.Errorf("%d bad lines of %d", bad, lines)
			}
		})
	}
}

// FuzzParseTree: recursive LIST output never panics the parser, every
// line lands somewhere (a header, an entry, a bad line, or a skipped line),
// and a section's entries are exactly what ParseListLine makes of its
// lines.
func FuzzParseTree(f *testing.F) {
	for _, name := range []string{"real-proftpd-list-aR-root.txt", "real-pureftpd-list-aR-root.txt", "real-vsftpd-r-list-aR-root.txt"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "listings", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("drwxr-xr-x 2 0 0 4096 Mar 04 2021 .\r\n\r\n/x:\r\n\r\n/x:\r\n-rw-r--r-- 1 0 0 1 Mar 04 2021 a\nb\r\n"))
	f.Add([]byte("/:\n\n//:\n/\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		secs, lines := ParseTree([]string{string(data)}, seeds.Now)
		if len(secs) == 0 {
			t.Fatal("no first section")
		}
		all := seeds.SplitLines(data)
		headers, entries, bad := 0, 0, 0
		for i, s := range secs {
			if i > 0 && (len(s.Header) < 1 || s.Header[0] != '/') {
				t.Fatalf("section %d header %q", i, s.Header)
			}
			if s.Header != "" {
				headers++
			}
			entries += len(s.Entries)
			bad += len(s.Bad)
			for _, e := range s.Entries {
				if strings.ContainsAny(e.Raw, "\n") {
					t.Fatalf("entry Raw %q holds a line feed", e.Raw)
				}
				want, _, skip, err := ParseListLine(e.Raw, seeds.Now)
				if err != nil || skip {
					t.Fatalf("entry %q: ParseListLine says skip %v err %v", e.Raw, skip, err)
				}
				if d := diffEntry(e, want); d != "" {
					t.Fatalf("entry %q: %s", e.Raw, d)
				}
			}
		}
		nonEmpty := 0
		for _, l := range all {
			if l != "" {
				nonEmpty++
			}
		}
		if headers+lines != nonEmpty {
			t.Fatalf("%d headers + %d entry lines != %d non-empty lines", headers, lines, nonEmpty)
		}
		if entries+bad > lines {
			t.Fatalf("%d entries + %d bad > %d lines", entries, bad, lines)
		}
	})
}
