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
	errAmbiguous       = errors.New("ambiguous columns: the name could start at two places")
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
	entries, bad, _ = ParseChunksLimit(text, mlsd, now, 0)
	return entries, bad
}

// ParseChunksLimit is ParseChunks keeping at most limit+1 entries (0: no
// limit): the one more says that the listing holds more than limit, and
// cut reports that lines after it were not parsed. Memory grows with the
// entries kept, never with the bytes or lines of the text: empty lines
// cost nothing, at most ftpaudit.MaxBadLinesKept unparsed lines are kept,
// each as a bounded prefix (ftpaudit.NewBadLine), and the entries' room
// is sized by the lines that parse (see sample and grow).
func ParseChunksLimit(text []string, mlsd bool, now time.Time, limit int) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine, cut bool) {
	return parseChunks(text, mlsd, now, limit, nil)
}

// ParseChunksSummary is ParseChunksLimit that also sums up the lines that
// carry no entry and the unparsed lines that are error messages, so that
// the caller can tell a listing from an error message sent in its place
// (Summary.ErrorOnly), a listing with error lines among its entries
// (Summary.ErrorMixed), and a listing of nothing but "total 0"
// (Summary.TotalOnly) from one that shows the directory's own "."
// (Summary.Dot). Only the lines of text are summed up: a caller that left
// lines out of text (a listBuf's lines too long to be entries) must count
// them as lines that are neither entries nor error lines.
func ParseChunksSummary(text []string, mlsd bool, now time.Time, limit int) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine, cut bool, sum Summary) {
	entries, bad, cut = parseChunks(text, mlsd, now, limit, &sum)
	return entries, bad, cut, sum
}

// parseChunks is ParseChunksLimit, noting every line in sum when it is
// not nil.
func parseChunks(text []string, mlsd bool, now time.Time, limit int, sum *Summary) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine, cut bool) {
	keep := -1 // no limit
	if limit > 0 {
		keep = limit + 1
	}
	p := chunkParser{mlsd: mlsd, now: now, keep: keep, cands: countLines(text, keep), sum: sum}
	if p.cands == 0 {
		return nil, nil, false
	}
	// With no more lines than firstRoom, the sample's answer is always
	// p.cands: parsing them twice would buy nothing.
	p.first = p.cands
	if p.cands > firstRoom {
		p.first = p.sample(text)
	}
	p.grow()
chunks:
	for _, s := range text {
		for s = p.parseLines(s); s != ""; s = p.parseLines(s) {
			// The room is full before a line that is not empty.
			if len(p.entries) == keep {
				cut = true
				break chunks
			}
			p.grow()
		}
	}
	clear(p.entries[len(p.entries):cap(p.entries)])
	return p.entries, p.bad, cut
}

// chunkParser is one ParseChunksLimit.
type chunkParser struct {
	mlsd bool
	now  time.Time
	keep int // the most entries kept, -1: no limit
	// cands counts the lines that are not empty, at most keep: the most
	// entries the listing can give.
	cands   int
	first   int // the entries' first room (see sample)
	seen    int // lines parsed that are not empty
	entries []ftpaudit.Entry
	bad     []ftpaudit.BadLine
	// With mlsd, entries[i].Extra is &extras[i-xbase]; else any Extra (a
	// symlink's target) comes from xs.
	extras []ftpaudit.EntryExtra
	xbase  int
	xs     extraSlab
	sum    *Summary // nil: not wanted
}

// firstRoom is how many lines sample reads, and the first room of a
// listing whose sample holds lines that do not parse: it gets room for
// the rest once its first entries have shown how many of its lines are
// entries.
const firstRoom = 4096

// sample parses the first firstRoom lines that are not empty (at most
// cands of them), keeping nothing, and returns the entries' first room:
// room for every candidate line when none of them failed to parse (a
// listing as servers send them: one allocation, sized before the parse,
// as a huge directory needs; never more than the limit + 1), else
// firstRoom at most.
func (p *chunkParser) sample(text []string) int {
	var (
		e ftpaudit.Entry
		x ftpaudit.EntryExtra
		n int
		// Nothing read here is kept: every symlink's Extra is x.
		xs = &extraSlab{scratch: &x}
	)
	for _, s := range text {
		for len(s) > 0 && n < min(firstRoom, p.cands) {
			var line string
			line, s = cutLine(s)
			if line == "" {
				continue
			}
			n++
			var err error
			if p.mlsd {
				_, err = parseMLSDLine(line, &e, &x)
			} else {
				_, _, err = parseListLine(line, p.now, &e, xs)
			}
			if err != nil {
				return min(p.cands, firstRoom)
			}
		}
	}
	return p.cands
}

// grow makes room for more entries: at first p.first; then, when that is full, for the lines left in the
// proportion of entries found among the lines parsed so far, plus one
// eighth and firstRoom (and at least a quarter of the entries found). A listing of valid lines thus gets its room in
// at most two allocations (one copy of firstRoom entries), sized exactly,
// and a flood of lines that are not entries never gets more than
// firstRoom.
func (p *chunkParser) grow() {
	n := len(p.entries)
	size := p.first
	if n > 0 {
		// left: the most entries still to come.
		left := p.cands - p.seen
		if p.cands == p.keep {
			left = p.keep - n // counting stopped at keep
		}
		est := left
		if n < p.seen {
			est = int(int64(left) * int64(n) / int64(p.seen))
			est += est/8 + firstRoom
		}
		// At least a quarter more each time: never a copy per entry.
		size = n + min(max(est, n/4, 1), max(left, 1))
	}
	next := make([]ftpaudit.Entry, n, size)
	copy(next, p.entries)
	p.entries = next
	if p.mlsd {
		p.extras = make([]ftpaudit.EntryExtra, size-n)
		p.xbase = n
	}
}

// parseLines parses the lines of s into the entries' room, and stops when
// it is full before a line that is not empty, returning the lines left.
func (p *chunkParser) parseLines(s string) string {
	for len(s) > 0 {
		line, rest := cutLine(s)
		if line == "" {
			s = rest // skipped in both grammars, before any room is needed
			continue
		}
		n := len(p.entries)
		if n == cap(p.entries) {
			return s
		}
		s = rest
		p.seen++
		e := &p.entries[:n+1][n] // may hold a rejected line's leftovers: parsers overwrite it whole
		var (
			skip bool
			err  error
		)
		if p.mlsd {
			skip, err = parseMLSDLine(line, e, &p.extras[n-p.xbase])
		} else {
			_, skip, err = parseListLine(line, p.now, e, &p.xs)
		}
		if p.sum != nil {
			p.sum.note(line, p.mlsd, e, skip, err)
		}
		switch {
		case err != nil:
			p.bad = ftpaudit.AppendBadLine(p.bad, line, err.Error())
		case !skip:
			p.entries = p.entries[:n+1]
		}
	}
	return ""
}

// countLines counts the lines of text that are not empty (without their
// "\r\n" or "\n"), stopping at max when max >= 0.
func countLines(text []string, max int) int {
	n := 0
	for _, s := range text {
		for len(s) > 0 {
			if max >= 0 && n >= max {
				return n
			}
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				i = len(s)
			}
			if i > 1 || (i == 1 && s[0] != '\r') {
				n++
			}
			s = s[min(i+1, len(s)):]
		}
	}
	return n
}

// extraSlab hands out EntryExtras for one listing's entries from a few
// blocks (1, 2, 4, ... up to 256 at a time) instead of one allocation
// each. A nil *extraSlab allocates each one alone; one with a scratch
// hands out the scratch every time (for lines parsed and not kept).
type extraSlab struct {
	free    []ftpaudit.EntryExtra
	next    int
	scratch *ftpaudit.EntryExtra
}

func (xs *extraSlab) get() *ftpaudit.EntryExtra {
	if xs == nil {
		return new(ftpaudit.EntryExtra)
	}
	if xs.scratch != nil {
		return xs.scratch
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
