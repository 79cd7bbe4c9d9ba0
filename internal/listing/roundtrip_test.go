package listing

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

// The round-trip properties: an entry rendered in any format this package
// knows parses back to the same name, type, size and time (as far as the
// format carries them); and the name of any line the parser accepts is
// bytes of that line, where the format puts the name.

// nameParts are what random names are made of: the pieces that look like
// columns, dates, arrows and modes, spaces, and bytes that are not text.
var nameParts = []string{
	"a", "b", "file", "README", "x.tar.gz", "é", "日本語", "🙂", " ", "  ", "-", ".", "..", ",", ":",
	"Jan", "nov", "1", "22", "2024", "03:26", "3:04", "2005-04-08", "11:22:33", "+0200",
	"8月", "月", "17日", "2003年", "8월", "17일", "->", " -> ", "1,", "0x1f", "<DIR>", "total",
	"drwxr-xr-x", "AM", "PM", "\t", "\xff", "\x1b[2J", "Domain Users", ";", "=",
}

func randName(r *rand.Rand, arrows bool) string {
	for {
		var b strings.Builder
		for n := 1 + r.IntN(6); n > 0; n-- {
			b.WriteString(nameParts[r.IntN(len(nameParts))])
		}
		s := b.String()
		if !arrows && strings.Contains(s, " -> ") {
			continue
		}
		return s
	}
}

// randSize is a size of 0 to 62 bits, every magnitude as likely.
func randSize(r *rand.Rand) int64 {
	return r.Int64N(int64(1) << r.IntN(63))
}

var (
	ownerNames = []string{"ftp", "root", "0", "1000", "www-data", "joe", "Administrators", "nobody", "o'brien", "ünïcode"}
	spaceWords = []string{"Domain", "Users", "John", "Smith", "NT", "Service", "None", "Admins", "Ünï"}
	lsMonths   = []string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// spacedName is 1 to 3 words of letters.
func spacedName(r *rand.Rand, words int) string {
	w := make([]string, words)
	for i := range w {
		w[i] = pick(r, spaceWords)
	}
	return strings.Join(w, " ")
}

// unixEntry is what a Unix line is rendered from.
type unixEntry struct {
	typ          byte // '-', 'd', 'l', 'c', 'b', 'p', 's'
	name, target string
	size         int64
	mod          time.Time
}

// unixStyle renders the columns and date of a Unix line; the test checks
// what it says it carries.
type unixStyle struct {
	name string
	// cols renders the columns between the mode and the date (no
	// leading or trailing space) and returns the owner and group the
	// parser must find ("-" when it cannot know them).
	cols func(r *rand.Rand, e *unixEntry) (cols, owner, group string)
	// date renders the date and returns the time the parser must find.
	date func(r *rand.Rand, t time.Time) (string, time.Time)
}

func lsMode(r *rand.Rand, typ byte) string {
	const perm = "rwxrwxrwx"
	b := []byte{typ}
	for i := 0; i < 9; i++ {
		if r.IntN(2) == 0 {
			b = append(b, perm[i])
		} else {
			b = append(b, '-')
		}
	}
	return string(b)
}

func sizeCol(e *unixEntry) string {
	if e.typ == 'c' || e.typ == 'b' {
		return "" // see devCols
	}
	return strconv.FormatInt(e.size, 10)
}

func devCols(r *rand.Rand) string {
	maj, min := r.IntN(300), r.IntN(300)
	if r.IntN(2) == 0 {
		return fmt.Sprintf("%3d, %3d", maj, min)
	}
	return fmt.Sprintf("%d,%d", maj, min)
}

func sizeOrDev(r *rand.Rand, e *unixEntry) string {
	if s := sizeCol(e); s != "" {
		return fmt.Sprintf("%12s", s)
	}
	return devCols(r)
}

var unixColumnStyles = []unixStyle{
	{name: "ls -l", cols: func(r *rand.Rand, e *unixEntry) (string, string, string) {
		o, g := pick(r, ownerNames), pick(r, ownerNames)
		return fmt.Sprintf("%4d %-8s %-8s %s", 1+r.IntN(9999), o, g, sizeOrDev(r, e)), o, g
	}},
	{name: "no group", cols: func(r *rand.Rand, e *unixEntry) (string, string, string) {
		o := pick(r, ownerNames)
		return fmt.Sprintf("%4d %-8s %s", 1+r.IntN(99), o, sizeOrDev(r, e)), o, ""
	}},
	{name: "no link count", cols: func(r *rand.Rand, e *unixEntry) (string, string, string) {
		o, g := pick(r, ownerNames[:5]), pick(r, ownerNames)
		if allDecDigits(o) {
			o = "ftp" // a numeric first column is a link count
		}
		return fmt.Sprintf("%-8s %-8s %s", o, g, sizeOrDev(r, e)), o, g
	}},
	{name: "goftp", cols: func(r *rand.Rand, e *unixEntry) (string, string, string) {
		return fmt.Sprintf("1 %s", sizeOrDev(r, e)), "", ""
	}},
	{name: "spaced owner and group", cols: func(r *rand.Rand, e *unixEntry) (string, string, string) {
		o, g := spacedName(r, 1+r.IntN(2)), spacedName(r, 1+r.IntN(2))
		if !strings.Contains(o+g, " ") {
			g += " Users"
		}
		return fmt.Sprintf("%4d %s %s %s", 1+r.IntN(99), o, g, sizeOrDev(r, e)), "-", "-"
	}},
	{name: "spaced group, no link count", cols: func(r *rand.Rand, e *unixEntry) (string, string, string) {
		return fmt.Sprintf("%s %s %s", pick(r, []string{"joe", "Administrator", "S-1-5-18"}), spacedName(r, 2), sizeOrDev(r, e)), "-", "-"
	}},
}

var unixDateStyles = []unixStyle{
	{name: "recent", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Truncate(time.Minute)
		clock := t.Format("15:04")
		if r.IntN(3) == 0 {
			clock = fmt.Sprintf("%d:%02d", t.Hour(), t.Minute()) // one-digit hours
		}
		return fmt.Sprintf("%s %2d %s", lsMonths[t.Month()], t.Day(), clock), t
	}},
	{name: "old", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = time.Date(1970+r.IntN(130), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%s %2d  %d", lsMonths[t.Month()], t.Day(), t.Year()), t
	}},
	{name: "long-iso", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Truncate(time.Minute)
		return t.Format("2006-01-02 15:04"), t
	}},
	{name: "full-iso", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Add(time.Duration(r.IntN(1e9)))
		z := time.FixedZone("", (r.IntN(27)-12)*1800)
		return t.In(z).Format("2006-01-02 15:04:05.000000000 -0700"), t
	}},
	{name: "japanese recent", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Truncate(time.Minute)
		return fmt.Sprintf("%2d月 %d日 %s", t.Month(), t.Day(), t.Format("15:04")), t
	}},
	{name: "japanese old", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = time.Date(1970+r.IntN(130), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return fmt.Sprintf("%d月 %d日 %d年", t.Month(), t.Day(), t.Year()), t
	}},
	{name: "japanese, space before 月", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Truncate(time.Minute)
		return fmt.Sprintf("%d 月 %d日 %s", t.Month(), t.Day(), t.Format("15:04")), t
	}},
	{name: "chinese", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Truncate(time.Minute)
		return fmt.Sprintf("%2d月 %2d %s", t.Month(), t.Day(), t.Format("15:04")), t
	}},
	{name: "korean", date: func(r *rand.Rand, t time.Time) (string, time.Time) {
		t = t.Truncate(time.Minute)
		return fmt.Sprintf("%2d월 %d일 %s", t.Month(), t.Day(), t.Format("15:04")), t
	}},
}

// renderUnix renders e with a mode of its type (ACL markers and glued
// link counts at random), the column and date styles; it returns the line
// and the entry the parser must return (Owner and Group "-": unknown).
func renderUnix(r *rand.Rand, e *unixEntry, cs, ds unixStyle, now time.Time) (string, ftpaudit.Entry) {
	mode := lsMode(r, e.typ)
	cols, owner, group := cs.cols(r, e)
	date, mod := ds.date(r, e.mod)
	markers := []string{"", "", "+", ".", "@"}
	m := mode + pick(r, markers)
	if cs.name == "ls -l" && r.IntN(4) == 0 {
		// A link count too wide for its column: "drwxr-x---+1464".
		cols = strings.TrimLeft(cols, " ")
	} else {
		m += " "
	}
	name := e.name
	if e.target != "" {
		name += " -> " + e.target
	}
	line := m + cols + " " + date + " " + name
	size := e.size
	if e.typ == 'c' || e.typ == 'b' {
		size = -1
	}
	want := ftpaudit.Entry{Name: e.name, Type: typeFromChar(e.typ), Size: size, Modified: mod.In(now.Location()), Mode: mode, Owner: owner, Group: group, Raw: line}
	if e.target != "" {
		want.Extra = &ftpaudit.EntryExtra{Target: e.target}
	}
	return line, want
}

func randUnixEntry(r *rand.Rand, now time.Time) *unixEntry {
	e := &unixEntry{typ: "-dlcbps"[r.IntN(7)], size: randSize(r)}
	// Within the last 300 days: a date without a year resolves to it.
	e.mod = now.Add(-time.Duration(r.Int64N(int64(300 * 24 * time.Hour))))
	e.name = randName(r, true)
	if e.typ == 'l' && r.IntN(4) > 0 {
		e.target = randName(r, true)
		e.size = int64(len(e.target)) // a symlink's size is its target's length
	} else if e.typ == 'l' {
		for strings.Contains(e.name, " -> ") {
			e.name = randName(r, false)
		}
	}
	return e
}

func TestRoundTripUnix(t *testing.T) {
	r := rand.New(rand.NewPCG(seedFor(14), 4))
	now := seeds.Now
	n := 0
	for _, cs := range unixColumnStyles {
		for _, ds := range unixDateStyles {
			for i := 0; i < 60; i++ {
				e := randUnixEntry(r, now)
				line, want := renderUnix(r, e, cs, ds, now)
				n++
				got, format, skip, err := ParseListLine(line, now)
				if err != nil {
					t.Fatalf("%s/%s: %q: %v", cs.name, ds.name, line, err)
				}
				if format != ftpaudit.FormatUnix {
					t.Fatalf("%q: format %q", line, format)
				}
				if wantSkip := e.typ == 'd' && (e.name == "." || e.name == ".."); skip != wantSkip {
					t.Fatalf("%q: skip %v", line, skip)
				}
				if want.Owner == "-" {
					if got.Owner != "" || got.Group != "" {
						t.Fatalf("%s: %q: owner %q group %q claimed from a spaced column", cs.name, line, got.Owner, got.Group)
					}
					want.Owner, want.Group = "", ""
				}
				if d := diffEntry(got, want); d != "" {
					t.Fatalf("%s/%s: %q:\n%s", cs.name, ds.name, line, d)
				}
				checkAcceptedListLine(t, line, now, got, format)
			}
		}
	}
	t.Logf("%d lines", n)
}

// dosStyle is one way of writing the date, time and size of a DOS line.
func renderDOS(r *rand.Rand, name string, dir bool, size int64, mod time.Time) (line string, want ftpaudit.Entry) {
	mod = mod.Truncate(time.Minute)
	var date string
	sep := pick(r, []string{"-", "/"})
	switch r.IntN(3) {
	case 0:
		mod = time.Date(1969+r.IntN(100), mod.Month(), mod.Day(), mod.Hour(), mod.Minute(), 0, 0, time.UTC)
		date = fmt.Sprintf("%02d%s%02d%s%02d", int(mod.Month()), sep, mod.Day(), sep, mod.Year()%100)
	case 1:
		date = fmt.Sprintf("%02d%s%02d%s%04d", int(mod.Month()), sep, mod.Day(), sep, mod.Year())
	default:
		date = fmt.Sprintf("%04d%s%02d%s%02d", mod.Year(), sep, int(mod.Month()), sep, mod.Day())
	}
	var clock string
	switch r.IntN(4) {
	case 0:
		clock = mod.Format("03:04PM")
	case 1:
		clock = mod.Format("03:04 PM")
	case 2:
		clock = mod.Format("15:04")
	default:
		clock = strings.ToLower(mod.Format("03:04PM"))[:6]
	}
	want = ftpaudit.Entry{Name: name, Type: ftpaudit.TypeFile, Size: size, Modified: mod}
	if dir {
		want.Type, want.Size = ftpaudit.TypeDir, -1
		// Unpadded: one space. With 9 leading spaces or more the name
		// would fill the padded column: such a line is read as padded
		// (no server is known not to pad), so it is not rendered.
		if lead := len(name) - len(strings.TrimLeft(name, " ")); r.IntN(3) == 0 && lead < dosTagColumn-len("<DIR>")-1 {
			return fmt.Sprintf("%s  %s <DIR> %s", date, clock, name), want
		}
		return fmt.Sprintf("%s  %s       %-14s %s", date, clock, "<DIR>", name), want
	}
	s := strconv.FormatInt(size, 10)
	if r.IntN(2) == 0 {
		s = groupThousands(s, pick(r, []string{",", "."}))
	}
	return fmt.Sprintf("%s  %s %20s %s", date, clock, s, name), want
}

func groupThousands(s, sep string) string {
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

func TestRoundTripDOS(t *testing.T) {
	r := rand.New(rand.NewPCG(seedFor(14), 2))
	now := seeds.Now
	for i := 0; i < 2000; i++ {
		name := randName(r, true)
		dir := r.IntN(3) == 0
		mod := now.Add(-time.Duration(r.Int64N(int64(3000 * 24 * time.Hour))))
		line, want := renderDOS(r, name, dir, randSize(r), mod)
		want.Raw = line
		got, format, skip, err := ParseListLine(line, now)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if format != ftpaudit.FormatDOS || skip != (dir && (name == "." || name == "..")) {
			t.Fatalf("%q: format %q skip %v", line, format, skip)
		}
		if d := diffEntry(got, want); d != "" {
			t.Fatalf("%q:\n%s", line, d)
		}
		checkAcceptedListLine(t, line, now, got, format)
	}
}

// TestAcceptedNameIsLineTail mutates rendered lines (tokens dropped,
// repeated, swapped, spaces added or removed, bytes changed) and checks
// every line the parser still accepts: its name is bytes of the line
// where the format puts it, and no other reading of the line exists.
func TestAcceptedNameIsLineTail(t *testing.T) {
	r := rand.New(rand.NewPCG(seedFor(14), 14))
	now := seeds.Now
	accepted := 0
	for i := 0; i < 6000; i++ {
		var line string
		if r.IntN(4) == 0 {
			line, _ = renderDOS(r, randName(r, true), r.IntN(2) == 0, randSize(r), now.Add(-time.Hour))
		} else {
			e := randUnixEntry(r, now)
			line, _ = renderUnix(r, e, pick(r, unixColumnStyles), pick(r, unixDateStyles), now)
		}
		line = mutateLine(r, line)
		got, format, _, err := ParseListLine(line, now)
		if err != nil {
			continue
		}
		accepted++
		checkAcceptedListLine(t, line, now, got, format)
	}
	if accepted < 1000 {
		t.Fatalf("only %d mutated lines accepted: the mutations are too rough to test anything", accepted)
	}
}

func mutateLine(r *rand.Rand, line string) string {
	toks := strings.SplitAfter(line, " ")
	for k := r.IntN(3); k >= 0; k-- {
		i := r.IntN(len(toks))
		switch r.IntN(7) {
		case 0: // drop a token
			toks = append(toks[:i:i], toks[i+1:]...)
		case 1: // repeat one
			toks = append(toks[:i+1:i+1], toks[i:]...)
		case 2: // swap two
			j := r.IntN(len(toks))
			toks[i], toks[j] = toks[j], toks[i]
		case 3: // one more space
			toks[i] += " "
		case 4: // a name part in between
			toks = append(toks[:i:i], append([]string{pick(r, nameParts) + " "}, toks[i:]...)...)
		case 5: // change a byte
			if b := []byte(toks[i]); len(b) > 0 {
				const bytes = " 09az:-,\xe6\xff"
				b[r.IntN(len(b))] = bytes[r.IntN(len(bytes))]
				toks[i] = string(b)
			}
		default: // nothing
		}
		if len(toks) == 0 {
			return ""
		}
	}
	return strings.Join(toks, "")
}

// checkAcceptedListLine checks a line ParseListLine accepted as e: the name
// (and a symlink's target) are the line's last bytes; a Unix line has no
// second reading, whatever the number of its tokens; and the fixed fields
// decide where the name starts, whatever the name.
func checkAcceptedListLine(t *testing.T, line string, now time.Time, e ftpaudit.Entry, format ftpaudit.ListFormat) {
	t.Helper()
	tail := listTail(t, line, e)
	pre := len(line) - len(tail) - 1
	if pre < 0 || line[pre] != ' ' {
		t.Fatalf("name %q not preceded by a separator space in %q", tail, line)
	}
	if format == ftpaudit.FormatUnix {
		starts := unixReadingStarts(line)
		if len(starts) != 1 || starts[0] != pre+1 {
			t.Fatalf("%q: name at %d, readings at %v", line, pre+1, starts)
		}
	}
	alt := line[:pre+1] + altName
	a, aformat, askip, aerr := ParseListLine(alt, now)
	if aerr != nil || askip || aformat != format {
		t.Fatalf("%q: err %v skip %v format %q", alt, aerr, askip, aformat)
	}
	want := e
	want.Name, want.Raw = altName, alt
	if want.Extra != nil {
		x := *want.Extra
		x.Target = ""
		want.Extra = &x
	}
	if d := diffEntry(a, want); d != "" {
		t.Fatalf("renamed line %q: %s", alt, d)
	}
}

// unixReadingStarts finds every reading of a Unix line by brute force (every
// token of the line, every layout) and returns where the name starts in
// each. parseUnixLine stops early; this does not.
func unixReadingStarts(line string) []int {
	var toks []tokSpan
	for i := 0; ; {
		var tk [1]tokSpan
		if tokenize(line, i, tk[:]) == 0 {
			break
		}
		toks = append(toks, tk[0])
		i = tk[0].e
	}
	if len(toks) == 0 {
		return nil
	}
	mode, _, _, glued, ok := parseModeToken(line[:toks[0].e])
	if !ok {
		return nil
	}
	if glued > 0 {
		toks = append(toks[:1], append([]tokSpan{{glued, toks[0].e}}, toks[1:]...)...)
		toks[0].e = glued
	}
	device := mode[0] == 'c' || mode[0] == 'b'
	var starts []int
	for m := 3; m < len(toks) && m <= maxCols+1; m++ {
		last, kind := matchDate(line, toks, m)
		if _, ok := matchColumns(line, toks[:m], device); kind != 0 && ok {
			starts = append(starts, toks[last].e+1)
		}
	}
	return starts
}

// seedFor is the tests' seed: def, or $LISTING_SEED to explore others.
func seedFor(def uint64) uint64 {
	if s, err := strconv.ParseUint(os.Getenv("LISTING_SEED"), 10, 64); err == nil {
		return s
	}
	return def
}
