package listing

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

// FuzzListLineFields renders a line of every known format (the column and
// date styles of the round-trip tests, MS-DOS) around a name, a symlink
// target and a size the fuzzer picks, and checks that it parses back to
// exactly that name: a name can make no line of a known format parse with
// another name, or fail.
func FuzzListLineFields(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), "pub", "", int64(4096), int64(0), uint64(1))
	f.Add(uint8(4), uint8(1), uint8(2), "a -> b", "c -> d", int64(0), int64(99999), uint64(2))
	f.Add(uint8(2), uint8(7), uint8(1), "8 月 17日 20:10 x", "", int64(1<<40), int64(12345678), uint64(3))
	f.Add(uint8(5), uint8(3), uint8(0), " 5 Jan  1  2020 x ", "", int64(5), int64(1), uint64(4))
	f.Add(uint8(255), uint8(2), uint8(0), "  two", "", int64(1234567), int64(7), uint64(5))
	f.Fuzz(func(t *testing.T, style, date, typ uint8, name, target string, size, age int64, seed uint64) {
		if name == "" || len(name) > 1000 || len(target) > 1000 {
			return
		}
		if size < 0 {
			size = -(size + 1)
		}
		now := seeds.Now
		r := rand.New(rand.NewPCG(seed, 0))
		mod := now.Add(-time.Duration(uint64(age)%uint64(300*24*time.Hour)) - time.Minute)
		var (
			line string
			want ftpaudit.Entry
		)
		if int(style) >= len(unixColumnStyles) {
			line, want = renderDOS(r, name, typ%2 == 1, size, mod)
			want.Raw = line
		} else {
			e := &unixEntry{typ: "-dlcbps"[int(typ)%7], name: name, size: size, mod: mod}
			if e.typ == 'l' && target != "" {
				e.target = target
				e.size = int64(len(target)) // a symlink's size is its target's length
			} else if e.typ == 'l' && strings.Contains(name, " -> ") {
				return // a link shown without a target: its name is split (splitLink)
			}
			cs, ds := unixColumnStyles[style], unixDateStyles[int(date)%len(unixDateStyles)]
			line, want = renderUnix(r, e, cs, ds, now)
			if want.Owner == "-" {
				want.Owner, want.Group = "", ""
			}
		}
		var (
			got    ftpaudit.Entry
			format ftpaudit.ListFormat
			skip   bool
			err    error
		)
		allocs := testing.AllocsPerRun(1, func() { got, format, skip, err = ParseListLine(line, now) })
		if allocs > 1 {
			t.Fatalf("%q: %v allocations", line, allocs)
		}
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if skip != (want.Type == ftpaudit.TypeDir && (name == "." || name == "..")) {
			t.Fatalf("%q: skip %v", line, skip)
		}
		if d := diffEntry(got, want); d != "" {
			t.Fatalf("%q:\n%s", line, d)
		}
		checkAcceptedListLine(t, line, now, got, format)
	})
}

// FuzzErrorText checks the error-line detection on any text: an error
// line never parses as an entry, has one of the recognised shapes, and a
// listing is an error message only when every line is one (or "total N").
func FuzzErrorText(f *testing.F) {
	f.Add("bin: Permission denied")
	f.Add("total 0\nls: cannot open directory '.': Permission denied")
	f.Add("ls: cannot access 'x': No such file or directory\n-rw-r--r-- 1 ftp ftp 5 Nov 22 03:26 a")
	f.Add("/bin/ls: /etc: Keine Berechtigung\ndrwxr-xr-x 2 0 0 4096 Nov 22 03:26 .")
	f.Add("x: Отказано в доступе\r\ntotal 8\r\n")
	f.Add("drwxr-xr-x 2 0 0 4096 Feb 30 2024 bin: Permission denied")
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSuffix(l, "\r")
		}
		msg, ok := ErrorText(lines)
		errLines, others := 0, 0
		for _, l := range lines {
			if l == "" {
				continue
			}
			_, _, skip, err := ParseListLine(l, seeds.Now)
			isErr := IsErrorText(l)
			switch {
			case isErr && err == nil:
				t.Fatalf("%q: error text that parses", l)
			case isErr:
				if _, lsp := cutLsPrefix(l); !lsp && !strings.Contains(l, ": ") {
					t.Fatalf("%q: error text of no known shape", l)
				}
				if !strings.Contains(msg, l) && ok && len(l) <= ftpaudit.BadLineKeep {
					t.Fatalf("%q: error line missing from %q", l, msg)
				}
				errLines++
			case skip && isTotalLine(l):
			default:
				others++
			}
		}
		if ok != (errLines > 0 && others == 0) {
			t.Fatalf("ErrorText ok = %v with %d error lines and %d others", ok, errLines, others)
		}
		if ok == (msg == "") {
			t.Fatalf("ErrorText = %q, %v", msg, ok)
		}
		// The listing parser sums the same lines up the same way.
		_, _, _, sum := ParseChunksSummary([]string{text}, false, seeds.Now, 0)
		if sum.ErrorLines != errLines || sum.ErrorOnly() != ok || (errLines > 0 && sum.ErrorMixed() == ok) {
			t.Fatalf("summary %+v; ErrorText %v, %d error lines", sum, ok, errLines)
		}
	})
}
