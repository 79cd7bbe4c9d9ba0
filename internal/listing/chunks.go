package listing

// Splitting a listing into lines, and handing each line to its grammar:
// MLSD (mlsd.go), or LIST in Unix (unix.go) or MS-DOS (dos.go) form.

import (
	"errors"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Parse errors. They are short lowercase reasons suitable for BadLine.Err.
var (
	errUnrecognised    = errors.New("unrecognised listing line")
	errBadMode         = errors.New("bad mode field")
	errNoDate          = errors.New("no date found")
	errBadColumns      = errors.New("unrecognised columns before date")
	errSizeRange       = errors.New("size out of range")
	errBadSize         = errors.New("bad size field")
	errBadDate         = errors.New("invalid date")
	errBadTime         = errors.New("invalid time")
	errMissingName     = errors.New("missing name")
	errEmptyName       = errors.New("empty name")
	errMLSDNoSeparator = errors.New(`missing "; " before name`)
	errMLSDEmptyFact   = errors.New("empty fact")
	errMLSDBadFact     = errors.New("malformed fact")
	errMLSDModify      = errors.New("bad modify fact")
	errMLSDSize        = errors.New("bad size fact")
	errMLSDSizd        = errors.New("bad sizd fact")
	errMLSDMode        = errors.New("bad unix.mode fact")
)

// ParseListing splits raw listing bytes into lines and parses each one.
// Lines end in "\r\n" or "\n" (exactly one trailing "\r" is stripped per
// line, nothing else); a last line without a terminator is kept. Every
// non-skipped line yields either an Entry or a BadLine, never nothing. mlsd
// selects the MLSD parser for every line. Empty lines are skipped in both
// modes.
func ParseListing(data []byte, mlsd bool, now time.Time) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine) {
	if len(data) == 0 {
		return nil, nil
	}
	// One copy of the whole buffer; every Raw, Name, ... is a substring of it.
	return ParseText(string(data), mlsd, now)
}

// ParseText is ParseListing on a string the entries may keep
// substrings of. Listings read from a server go through ParseChunks
// instead, straight from the listBuf's chunks, never copied whole.
func ParseText(s string, mlsd bool, now time.Time) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine) {
	if len(s) == 0 {
		return nil, nil
	}
	return ParseChunks([]string{s}, mlsd, now)
}

// ParseChunks is ParseText on a text given in pieces (a listBuf's):
// every piece but the last ends in '\n', so that no line spans two, and
// parsing them one after the other is parsing their concatenation.
func ParseChunks(text []string, mlsd bool, now time.Time) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine) {
	lines, size := 1, 0
	for _, s := range text {
		lines += strings.Count(s, "\n")
		size += len(s)
	}
	if size == 0 {
		return nil, nil
	}
	// Enough room for every line: entries are parsed in place, never copied.
	entries = make([]ftpaudit.Entry, 0, lines)
	var extras []ftpaudit.EntryExtra // MLSD: every entry has some, allocated at once
	if mlsd {
		extras = make([]ftpaudit.EntryExtra, lines)
	}
	var xs extraSlab // LIST: symlink targets
	for _, s := range text {
		entries, bad = parseLines(entries, extras, &xs, bad, s, mlsd, now)
	}
	clear(entries[len(entries):cap(entries)])
	return entries, bad
}

// parseLines parses the lines of s into entries' spare room (which must
// hold them all); with mlsd, entries[i].Extra is &extras[i], else any
// Extra (a symlink's target) comes from xs.
func parseLines(entries []ftpaudit.Entry, extras []ftpaudit.EntryExtra, xs *extraSlab, bad []ftpaudit.BadLine, s string, mlsd bool, now time.Time) ([]ftpaudit.Entry, []ftpaudit.BadLine) {
	for len(s) > 0 {
		var line string
		line, s = cutLine(s)
		n := len(entries)
		e := &entries[:n+1][n] // may hold a rejected line's leftovers: parsers overwrite it whole
		var (
			skip bool
			err  error
		)
		if mlsd {
			skip, err = parseMLSDLine(line, e, &extras[n])
		} else {
			_, skip, err = parseListLine(line, now, e, xs)
		}
		switch {
		case err != nil:
			bad = append(bad, ftpaudit.BadLine{Raw: line, Err: err.Error()})
		case !skip:
			entries = entries[:n+1]
		}
	}
	return entries, bad
}

// extraSlab hands out EntryExtras for one listing's entries from a few
// blocks (1, 2, 4, ... up to 256 at a time) instead of one allocation
// each. A nil *extraSlab allocates each one alone.
type extraSlab struct {
	free []ftpaudit.EntryExtra
	next int
}

func (xs *extraSlab) get() *ftpaudit.EntryExtra {
	if xs == nil {
		return new(ftpaudit.EntryExtra)
	}
	if len(xs.free) == 0 {
		xs.next = min(max(2*xs.next, 1), 256)
		xs.free = make([]ftpaudit.EntryExtra, xs.next)
	}
	x := &xs.free[0]
	xs.free = xs.free[1:]
	return x
}

// ParseListLine parses one LIST line in Unix `ls -l` form or MS-DOS/IIS form
// and says which. skip is true for lines that carry no entry ("total 123",
// empty lines, and the "." and ".." directory entries that `LIST -a`
// shows). A line that is only spaces is not skipped: it is an error, so that
// a name with an embedded newline cannot hide a fragment.
//
// Dates without a zone are taken in now.Location(). A "Mon DD HH:MM" date is
// placed in now's year unless that is more than 7 days after now, in which
// case it is placed in the previous year.
//
// On error format says which parser rejected the line, or is "" when the line
// looked like neither format.
func ParseListLine(line string, now time.Time) (e ftpaudit.Entry, format ftpaudit.ListFormat, skip bool, err error) {
	format, skip, err = parseListLine(line, now, &e, nil)
	if err != nil {
		e = ftpaudit.Entry{}
	}
	return e, format, skip, err
}

// parseListLine is ParseListLine writing into *e. *e is assigned whole when an
// entry (skipped or not) is found and left in an unspecified state on error.
func parseListLine(line string, now time.Time, e *ftpaudit.Entry, xs *extraSlab) (format ftpaudit.ListFormat, skip bool, err error) {
	if line == "" {
		*e = ftpaudit.Entry{}
		return "", true, nil
	}
	if c := line[0]; c >= '0' && c <= '9' {
		skip, err = parseDOSLine(line, now, e)
		return ftpaudit.FormatDOS, skip, err
	}
	if isTotalLine(line) {
		*e = ftpaudit.Entry{}
		return ftpaudit.FormatUnix, true, nil
	}
	skip, err = parseUnixLine(line, now, e, xs)
	if err == errUnrecognised {
		return "", false, err
	}
	return ftpaudit.FormatUnix, skip, err
}

// isTotalLine reports whether line is ls's "total N" line (N may carry a
// -h style unit: "total 1.5M").
func isTotalLine(line string) bool {
	const p = "total "
	if len(line) <= len(p) || line[:len(p)] != p {
		return false
	}
	rest := line[len(p):]
	if rest[0] < '0' || rest[0] > '9' {
		return false
	}
	for i := 1; i < len(rest); i++ {
		c := rest[i]
		if (c < '0' || c > '9') && c != '.' && c != ',' && strings.IndexByte("KMGTPEZYkBi", c) < 0 {
			return false
		}
	}
	return true
}

// cutLine splits the first line off s: up to a "\n", without it and
// without one "\r" before it. A last line without a terminator is kept.
func cutLine(s string) (line, rest string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		line, rest = s[:i], s[i+1:]
	} else {
		line = s
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}
