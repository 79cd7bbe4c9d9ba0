package listing

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

// skipLine reports whether the single-line parser skips line.
func skipLine(line string, mlsd bool, now time.Time) bool {
	if mlsd {
		_, skip, err := ParseMLSDLine(line)
		return err == nil && skip
	}
	_, _, skip, err := ParseListLine(line, now)
	return err == nil && skip
}

// altName replaces an entry's name in the invariant checks: any name must
// come back byte for byte when put after the same fixed fields.
const altName = " 1, 2 Jan  1 12:00 2020-01-01 10:00:00 +0100 8 月 17日 20:10 x;y=z; \xff "

func checkErr(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" {
		t.Fatal("empty error message")
	}
	if strings.ToLower(msg) != msg {
		t.Fatalf("error message %q is not lower case", msg)
	}
}

func validType(typ ftpaudit.EntryType) bool {
	switch typ {
	case ftpaudit.TypeDir, ftpaudit.TypeFile, ftpaudit.TypeLink, ftpaudit.TypeOther:
		return true
	}
	return false
}

// listTail returns the part of line that the entry's Name (and, for a split
// symlink, " -> " and Target) came from.
func listTail(t *testing.T, line string, e ftpaudit.Entry) string {
	t.Helper()
	if e.Target() != "" {
		split := e.Name + " -> " + e.Target()
		if e.Type != ftpaudit.TypeLink || !strings.HasSuffix(line, split) {
			t.Fatalf("Target %q set but line %q does not end in name -> target", e.Target(), line)
		}
		return split
	}
	if !strings.HasSuffix(line, e.Name) {
		t.Fatalf("Name %q is not a suffix of line %q", e.Name, line)
	}
	// An unsplit ls symlink name has no " -> " with text on both sides
	// (Go FileMode style listings never show targets, so are not split).
	modeTok, _, _ := strings.Cut(line, " ")
	_, _, goStyle, _, _ := parseModeToken(modeTok)
	if e.Type == ftpaudit.TypeLink && !goStyle && len(e.Name) > 2 && strings.Contains(e.Name[1:len(e.Name)-1], " -> ") {
		t.Fatalf("link name %q contains an unsplit arrow", e.Name)
	}
	return e.Name
}

func FuzzParseListLine(f *testing.F) {
	for _, s := range seeds.Listings(f) {
		for _, l := range seeds.SplitLines(s.Data) {
			f.Add(l, seeds.Now.Unix())
		}
	}
	f.Add("lrwxrwxrwx 1 0 0 1 Jan  1 00:00 a -> b -> c", int64(0))
	f.Add("-rw-r--r-- 1 0 0 1 Feb 29 10:00 x", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	for _, l := range formatExamples {
		f.Add(l, seeds.Now.Unix())
	}
	f.Fuzz(func(t *testing.T, line string, nowUnix int64) {
		now := time.Unix(nowUnix, 0).UTC()
		e, format, skip, err := ParseListLine(line, now)
		e2, format2, skip2, err2 := ParseListLine(line, now)
		if d := diffEntry(e, e2); d != "" || format != format2 || skip != skip2 || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %s", d)
		}
		switch format {
		case "", ftpaudit.FormatUnix, ftpaudit.FormatDOS:
		default:
			t.Fatalf("format %q", format)
		}
		if err != nil {
			checkErr(t, err)
			if skip {
				t.Fatal("skip together with an error")
			}
			return
		}
		if skip {
			if line == "" || strings.HasPrefix(line, "total ") {
				return
			}
			if e.Type != ftpaudit.TypeDir || (e.Name != "." && e.Name != "..") {
				t.Fatalf("skipped %+v", e)
			}
		}
		if format == "" {
			t.Fatal("entry without a format")
		}
		if e.Raw != line {
			t.Fatalf("Raw %q != line %q", e.Raw, line)
		}
		if e.Name == "" || e.Path != "" || e.Facts() != nil || e.Perm() != "" || e.Unique() != "" {
			t.Fatalf("bad entry %+v", e)
		}
		if !validType(e.Type) || e.Size < -1 {
			t.Fatalf("bad type/size %+v", e)
		}
		switch format {
		case ftpaudit.FormatUnix:
			if len(e.Mode) != 10 {
				t.Fatalf("Mode %q", e.Mode)
			}
		case ftpaudit.FormatDOS:
			if e.Mode != "" || e.Owner != "" || e.Group != "" {
				t.Fatalf("DOS entry with unix fields %+v", e)
			}
		}
		// The name is bytes of the line where the format puts it, the
		// line has no other reading, and the fixed fields decide where
		// the name starts, whatever the name.
		checkAcceptedListLine(t, line, now, e, format)
	})
}

func FuzzParseMLSDLine(f *testing.F) {
	for _, s := range seeds.Listings(f) {
		for _, l := range seeds.SplitLines(s.Data) {
			f.Add(l)
		}
	}
	f.Add("type=OS.unix=slink:x;UNIX.mode=07777; l")
	f.Fuzz(func(t *testing.T, line string) {
		e, skip, err := ParseMLSDLine(line)
		e2, skip2, err2 := ParseMLSDLine(line)
		if d := diffEntry(e, e2); d != "" || skip != skip2 || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %s", d)
		}
		if err != nil {
			checkErr(t, err)
			if skip {
				t.Fatal("skip together with an error")
			}
			return
		}
		if line == "" {
			if !skip {
				t.Fatal("empty line not skipped")
			}
			return
		}
		if e.Raw != line || e.Name == "" || e.Path != "" || e.Facts() == nil {
			t.Fatalf("bad entry %+v", e)
		}
		if !strings.HasSuffix(line, e.Name) {
			t.Fatalf("Name %q is not a suffix of %q", e.Name, line)
		}
		prefix := line[:len(line)-len(e.Name)]
		if prefix != " " && strings.Index(line, "; ")+2 != len(prefix) {
			t.Fatalf("name %q does not start after the first \"; \" in %q", e.Name, line)
		}
		if !validType(e.Type) || e.Size < -1 || (e.Mode != "" && len(e.Mode) != 10) {
			t.Fatalf("bad entry %+v", e)
		}
		if skip != (ascii.EqualFold(e.Facts()["type"], "cdir") || ascii.EqualFold(e.Facts()["type"], "pdir")) {
			t.Fatalf("skip %v with type %q", skip, e.Facts()["type"])
		}
		if ft := e.Facts()["type"]; e.Type == ftpaudit.TypeLink && !(len(ft) > 8 && ascii.EqualFold(ft[:8], "os.unix=")) {
			t.Fatalf("link from type %q", e.Facts()["type"])
		}
		if e.Target() != "" && !strings.HasSuffix(e.Facts()["type"], e.Target()) {
			t.Fatalf("Target %q not from type fact %q", e.Target(), e.Facts()["type"])
		}
		for k, v := range e.Facts() {
			if k == "" || strings.ContainsAny(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ;=") || strings.Contains(v, ";") {
				t.Fatalf("bad fact %q=%q", k, v)
			}
			if !strings.Contains(prefix, "="+v+";") {
				t.Fatalf("fact value %q not in %q", v, prefix)
			}
		}
		// The facts decide where the name starts, whatever the name.
		alt := prefix + altName
		a, askip, aerr := ParseMLSDLine(alt)
		if aerr != nil || askip != skip {
			t.Fatalf("%q: err %v skip %v", alt, aerr, askip)
		}
		want := e
		want.Name, want.Raw = altName, alt
		if d := diffEntry(a, want); d != "" {
			t.Fatalf("renamed line %q: %s", alt, d)
		}
	})
}

func FuzzParseListing(f *testing.F) {
	for _, s := range seeds.Listings(f) {
		f.Add(s.Data, s.MLSD)
		f.Add(s.Data, !s.MLSD)
	}
	f.Add([]byte("\r\n\r\r\n\n\r"), false)
	f.Add([]byte("type=file; a\r\rtype=dir; b"), true)
	f.Fuzz(func(t *testing.T, data []byte, mlsd bool) {
		orig := bytes.Clone(data)
		entries, bad := ParseListing(data, mlsd, seeds.Now)
		if !bytes.Equal(orig, data) {
			t.Fatal("ParseListing modified its input")
		}
		lines := seeds.SplitLines(data)
		// Replay the lines through the single-line parsers: ParseListing
		// must return exactly their entries and errors, in order.
		var wantEntries []ftpaudit.Entry
		var wantBad []ftpaudit.BadLine
		skipped := 0
		for _, l := range lines {
			var (
				e    ftpaudit.Entry
				skip bool
				err  error
			)
			if mlsd {
				e, skip, err = ParseMLSDLine(l)
			} else {
				e, _, skip, err = ParseListLine(l, seeds.Now)
			}
			switch {
			case err != nil:
				wantBad = ftpaudit.AppendBadLine(wantBad, l, err.Error())
			case skip:
				skipped++
			default:
				wantEntries = append(wantEntries, e)
			}
		}
		nbad := 0
		for _, b := range bad {
			nbad += 1 + b.More
		}
		if len(entries)+nbad+skipped != len(lines) {
			t.Fatalf("%d entries + %d bad + %d skipped != %d lines", len(entries), nbad, skipped, len(lines))
		}
		if len(entries) != len(wantEntries) || len(bad) != len(wantBad) {
			t.Fatalf("got %d entries/%d bad, want %d/%d", len(entries), len(bad), len(wantEntries), len(wantBad))
		}
		for i := range entries {
			if d := diffEntry(entries[i], wantEntries[i]); d != "" {
				t.Fatalf("entry %d: %s", i, d)
			}
			e := entries[i]
			if strings.Contains(e.Raw, "\n") ||
				!strings.HasSuffix(e.Raw, e.Name) && !strings.HasSuffix(e.Raw, e.Name+" -> "+e.Target()) {
				t.Fatalf("entry %d: Raw %q Name %q", i, entries[i].Raw, entries[i].Name)
			}
		}
		for i := range bad {
			if bad[i] != wantBad[i] {
				t.Fatalf("bad %d = %q, want %q", i, bad[i], wantBad[i])
			}
			if bad[i].Err == "" || strings.Contains(bad[i].Raw, "\n") {
				t.Fatalf("bad %d = %q", i, bad[i])
			}
		}
		// The summary sees the same lines, and changes nothing.
		se, sb, _, sum := ParseChunksSummary([]string{string(data)}, mlsd, seeds.Now, 0)
		if len(se) != len(entries) || len(sb) != len(bad) {
			t.Fatalf("ParseChunksSummary: %d entries, %d bad", len(se), len(sb))
		}
		empty := 0
		for _, l := range lines {
			if l == "" {
				empty++
			}
		}
		dots := 0
		if sum.Dot {
			dots++
		}
		if sum.DotDot {
			dots++
		}
		if sum.Lines != len(lines)-empty || sum.ErrorLines > nbad || len(sum.Errors) > MaxErrorsKept ||
			len(sum.Errors) != min(sum.ErrorLines, MaxErrorsKept) || sum.Totals+dots > skipped-empty ||
			sum.TotalNonZero && sum.Totals == 0 {
			t.Fatalf("summary %+v: %d lines, %d entries, %d bad, %d skipped", sum, len(lines), len(entries), nbad, skipped)
		}
		if sum.ErrorOnly() && (len(entries) > 0 || dots > 0 || sum.ErrorLines != nbad) {
			t.Fatalf("error only with %d entries, %d bad: %+v", len(entries), nbad, sum)
		}
		if sum.TotalOnly() && (len(entries) > 0 || nbad > 0 || dots > 0) {
			t.Fatalf("total only with %d entries, %d bad: %+v", len(entries), nbad, sum)
		}
		for _, e := range sum.Errors {
			if !IsErrorText(e.Raw) && !e.Cut() {
				t.Fatalf("error line %q is not error text", e.Raw)
			}
		}
	})
}
