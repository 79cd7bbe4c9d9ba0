package listing

// Byte-exact parsers for FTP directory listings: MLSD/MLST lines (RFC 3659),
// Unix `ls -l` style LIST lines (including the Go os.FileMode style that
// goftp.io/server emits) and MS-DOS/IIS style LIST lines.
//
// Names are never trimmed or normalised: whatever follows the single
// separator space is the name, byte for byte. The parsers do not use
// regular expressions and, for LIST lines, do not allocate except where a
// mode string has to be rewritten.

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
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

// recentFuture is how far in the future a "Mon DD HH:MM" date may lie (clock
// skew, time zones) before it is taken to be from the previous year.
const recentFuture = 7 * 24 * time.Hour

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

// parseListing is ParseListing on a string the entries may keep
// substrings of. Listings read from a server go through parseChunks
// instead, straight from the listBuf's chunks, never copied whole.
func ParseText(s string, mlsd bool, now time.Time) (entries []ftpaudit.Entry, bad []ftpaudit.BadLine) {
	if len(s) == 0 {
		return nil, nil
	}
	return ParseChunks([]string{s}, mlsd, now)
}

// parseChunks is parseListing on a text given in pieces (a listBuf's):
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

// ---------------------------------------------------------------------------
// Unix ls -l

// tokSpan is a token [s, e) of a line.
type tokSpan struct{ s, e int }

// maxUnixTokens is enough for the mode, up to 5 columns and a 3 token date.
const maxUnixTokens = 9

func parseUnixLine(line string, now time.Time, out *ftpaudit.Entry, xs *extraSlab) (bool, error) {
	var toks [maxUnixTokens]tokSpan
	n := 0
	for i := 0; n < maxUnixTokens; {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		toks[n] = tokSpan{i, j}
		n++
		i = j
	}
	if n == 0 || toks[0].s != 0 {
		return false, errUnrecognised
	}
	mode, typ, goStyle, ok := parseModeToken(line[:toks[0].e])
	if !ok {
		if looksLikeMode(line[:toks[0].e]) {
			return false, errBadMode
		}
		return false, errUnrecognised
	}
	device := mode[0] == 'c' || mode[0] == 'b'

	// The date is the first run of tokens that parses as one and is
	// preceded by a sensible set of columns (2 to 5 tokens: links, owner,
	// group, size, device minor). A date-like run inside the name always
	// comes too late to qualify, and an owner/group that looks like a
	// month never leaves enough columns before it.
	sawDate := false
	for m := 3; m <= 6 && m < n; m++ {
		dEnd, kind := matchDateShape(line, toks[:n], m)
		if kind == dateNone {
			continue
		}
		sawDate = true
		c, ok, err := matchColumns(line, toks[1:m], device)
		if !ok {
			continue
		}
		if err != nil {
			return false, err
		}
		t, err := unixDate(line, toks[:n], m, kind, now)
		if err != nil {
			return false, err
		}
		end := toks[dEnd].e
		if end >= len(line) {
			return false, errMissingName
		}
		// line[end] is ' ' (tokens end at a space or at the end of line).
		name := line[end+1:]
		if name == "" {
			return false, errEmptyName
		}
		var target string
		if typ == ftpaudit.TypeLink && !goStyle {
			// Servers that print Go's FileMode ("Lrwxrwxrwx") never
			// append " -> target": there the arrow is part of the name.
			name, target = splitLink(name, c.size)
		}
		*out = ftpaudit.Entry{
			Name:     name,
			Type:     typ,
			Size:     c.size,
			Modified: t,
			Mode:     mode,
			Owner:    c.owner,
			Group:    c.group,
			Raw:      line,
		}
		if target != "" {
			x := xs.get()
			*x = ftpaudit.EntryExtra{Target: target}
			out.Extra = x
		}
		return typ == ftpaudit.TypeDir && (name == "." || name == ".."), nil
	}
	if sawDate {
		return false, errBadColumns
	}
	return false, errNoDate
}

// splitLink splits "name -> target". When " -> " occurs more than once the
// split whose target is exactly size bytes long wins (a symlink's size is the
// length of its target); otherwise the first occurrence is used. Neither part
// may be empty (a symlink's target never is): " -> x" and "x -> " are link
// names without a target.
func splitLink(s string, size int64) (name, target string) {
	const arrow = " -> "
	first := -1
	for i := 1; i+len(arrow) < len(s); i++ {
		j := strings.Index(s[i:len(s)-1], arrow)
		if j < 0 {
			break
		}
		i += j
		if first < 0 {
			first = i
		}
		if int64(len(s)-i-len(arrow)) == size {
			return s[:i], s[i+len(arrow):]
		}
	}
	if first < 0 {
		return s, ""
	}
	return s[:first], s[first+len(arrow):]
}

// lsTypeChars are the file type letters ls and ls-emulating servers use.
const lsTypeChars = "-dlbcpsDPnMCw?"

// lsPermChars are accepted in the nine permission positions.
const lsPermChars = "-rwxsStTlL"

// modeCharSet is a set of bytes, for validating mode strings without searching.
type modeCharSet [256]bool

func newModeCharSet(chars string) *modeCharSet {
	var b modeCharSet
	for i := 0; i < len(chars); i++ {
		b[chars[i]] = true
	}
	return &b
}

var (
	lsTypeSet = newModeCharSet(lsTypeChars)
	lsPermSet = newModeCharSet(lsPermChars)
)

// goModeLetters are the type/flag letters of Go's os.FileMode.String, in
// the order it prints them.
const goModeLetters = "dalTLDpSugct?"

// looksLikeMode is a loose test used only to pick the error message.
func looksLikeMode(tok string) bool {
	return len(tok) >= 10 && len(tok) <= 22 && strings.IndexByte(lsTypeChars+goModeLetters, tok[0]) >= 0
}

// parseModeToken validates the mode column and returns its ls form (10
// bytes). It accepts the ls form with an optional ACL/xattr/SELinux marker
// ("drwxr-xr-x+") and Go's os.FileMode form ("dtrwxrwxrwx", "Lrwxrwxrwx";
// goStyle is set for those that are not also valid ls modes).
func parseModeToken(tok string) (mode string, typ ftpaudit.EntryType, goStyle, ok bool) {
	if (len(tok) == 10 || len(tok) == 11 && (tok[10] == '+' || tok[10] == '@' || tok[10] == '.')) &&
		lsTypeSet[tok[0]] && allInSet(tok[1:10], lsPermSet) {
		return tok[:10], typeFromChar(tok[0]), false, true
	}
	mode, typ, ok = parseGoMode(tok)
	return mode, typ, ok, ok
}

func typeFromChar(c byte) ftpaudit.EntryType {
	switch c {
	case 'd':
		return ftpaudit.TypeDir
	case '-':
		return ftpaudit.TypeFile
	case 'l':
		return ftpaudit.TypeLink
	}
	return ftpaudit.TypeOther
}

func allInSet(s string, set *modeCharSet) bool {
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			return false
		}
	}
	return true
}

// parseGoMode converts os.FileMode.String output to the ls form.
func parseGoMode(tok string) (string, ftpaudit.EntryType, bool) {
	if len(tok) < 10 {
		return "", 0, false
	}
	prefix, perm := tok[:len(tok)-9], tok[len(tok)-9:]
	for i := 0; i < 9; i++ {
		if perm[i] != '-' && perm[i] != "rwx"[i%3] {
			return "", 0, false
		}
	}
	var bits uint16 // bit i set when goModeLetters[i] is present
	if prefix != "-" {
		last := -1
		for i := 0; i < len(prefix); i++ {
			k := strings.IndexByte(goModeLetters, prefix[i])
			if k <= last {
				return "", 0, false
			}
			last = k
			bits |= 1 << k
		}
	}
	has := func(c byte) bool { return bits&(1<<strings.IndexByte(goModeLetters, c)) != 0 }
	tc, typ := byte('-'), ftpaudit.TypeFile
	switch {
	case has('d'):
		tc, typ = 'd', ftpaudit.TypeDir
	case has('L'):
		tc, typ = 'l', ftpaudit.TypeLink
	case has('D') && has('c'):
		tc, typ = 'c', ftpaudit.TypeOther
	case has('D'):
		tc, typ = 'b', ftpaudit.TypeOther
	case has('p'):
		tc, typ = 'p', ftpaudit.TypeOther
	case has('S'):
		tc, typ = 's', ftpaudit.TypeOther
	case has('?'), has('c'):
		tc, typ = '?', ftpaudit.TypeOther
	}
	if len(prefix) == 1 && prefix[0] == tc {
		return tok, typ, true // already ls form ("drwxr-xr-x", "-rw-r--r--")
	}
	var b [10]byte
	b[0] = tc
	copy(b[1:], perm)
	if has('u') {
		b[3] = specialBit(b[3], 's')
	}
	if has('g') {
		b[6] = specialBit(b[6], 's')
	}
	if has('t') {
		b[9] = specialBit(b[9], 't')
	}
	return string(b[:]), typ, true
}

// specialBit overlays a setuid/setgid/sticky bit on an x position.
func specialBit(x, c byte) byte {
	if x == 'x' {
		return c
	}
	return c - 'a' + 'A'
}

type unixCols struct {
	owner, group string
	size         int64
}

// matchColumns interprets the tokens between the mode and the date. ok is
// false when the shape does not fit; err is set when the shape fits but a
// value is out of range.
func matchColumns(line string, t []tokSpan, device bool) (c unixCols, ok bool, err error) {
	tok := func(i int) string { return line[t[i].s:t[i].e] }
	c.size = -1
	var sizeTok string
	switch len(t) {
	case 2: // [links|owner] size
		if !allDecDigits(tok(0)) {
			c.owner = tok(0)
		}
		sizeTok = tok(1)
	case 3: // links owner size | owner group size
		if allDecDigits(tok(0)) {
			c.owner = tok(1)
		} else {
			c.owner, c.group = tok(0), tok(1)
		}
		sizeTok = tok(2)
	case 4: // links owner group size | links owner major, minor
		if !allDecDigits(tok(0)) {
			return c, false, nil
		}
		c.owner = tok(1)
		if isMajor(tok(2)) && allDecDigits(tok(3)) {
			return c, true, nil
		}
		c.group = tok(2)
		sizeTok = tok(3)
	case 5: // links owner group major, minor
		if !allDecDigits(tok(0)) || !isMajor(tok(3)) || !allDecDigits(tok(4)) {
			return c, false, nil
		}
		c.owner, c.group = tok(1), tok(2)
		return c, true, nil
	default:
		return c, false, nil
	}
	if v, ok, overflow := parseDigits(sizeTok); ok {
		if overflow {
			return c, true, errSizeRange
		}
		c.size = v
		return c, true, nil
	}
	if isMajorMinor(sizeTok) {
		return c, true, nil
	}
	if device { // "0x2000012" and other device number notations
		return c, true, nil
	}
	return c, false, nil
}

// isMajor reports whether s is "123,".
func isMajor(s string) bool {
	return len(s) >= 2 && s[len(s)-1] == ',' && allDecDigits(s[:len(s)-1])
}

// isMajorMinor reports whether s is "1,3".
func isMajorMinor(s string) bool {
	i := strings.IndexByte(s, ',')
	return i > 0 && allDecDigits(s[:i]) && allDecDigits(s[i+1:])
}

type dateKind int

const (
	dateNone   dateKind = iota
	dateRecent          // Nov 22 03:26
	dateOld             // Nov 22  2024
	dateISO             // 2026-11-22 03:26
)

// matchDateShape checks whether tokens starting at m form a date and returns
// the index of the date's last token.
func matchDateShape(line string, t []tokSpan, m int) (last int, kind dateKind) {
	tok := func(i int) string { return line[t[i].s:t[i].e] }
	if monthIndex(tok(m)) > 0 {
		if m+2 >= len(t) {
			return 0, dateNone
		}
		d := tok(m + 1)
		if len(d) == 0 || len(d) > 2 || !allDecDigits(d) {
			return 0, dateNone
		}
		y := tok(m + 2)
		if _, _, ok := parseClock(y); ok {
			return m + 2, dateRecent
		}
		if len(y) == 4 && allDecDigits(y) {
			return m + 2, dateOld
		}
		return 0, dateNone
	}
	if d := tok(m); len(d) == 10 && d[4] == '-' && d[7] == '-' && allDecDigits(d[:4]) && allDecDigits(d[5:7]) && allDecDigits(d[8:]) && m+1 < len(t) {
		if _, _, ok := parseClock(tok(m + 1)); ok {
			return m + 1, dateISO
		}
	}
	return 0, dateNone
}

// unixDate converts a date matched by matchDateShape.
func unixDate(line string, t []tokSpan, m int, kind dateKind, now time.Time) (time.Time, error) {
	tok := func(i int) string { return line[t[i].s:t[i].e] }
	loc := now.Location()
	switch kind {
	case dateISO:
		d := tok(m)
		y, mon, day := smallAtoi(d[:4]), smallAtoi(d[5:7]), smallAtoi(d[8:])
		h, mi, _ := parseClock(tok(m + 1))
		if !validYMD(y, mon, day) {
			return time.Time{}, errBadDate
		}
		return time.Date(y, time.Month(mon), day, h, mi, 0, 0, loc), nil
	case dateOld:
		mon, day, y := monthIndex(tok(m)), smallAtoi(tok(m+1)), smallAtoi(tok(m+2))
		if !validYMD(y, mon, day) {
			return time.Time{}, errBadDate
		}
		return time.Date(y, time.Month(mon), day, 0, 0, 0, 0, loc), nil
	default: // dateRecent
		mon, day := monthIndex(tok(m)), smallAtoi(tok(m+1))
		h, mi, _ := parseClock(tok(m + 2))
		if day < 1 || day > 31 {
			return time.Time{}, errBadDate
		}
		// The latest year in which the date exists and is not in the future
		// (beyond skew). Only Feb 29 can skip a year; leap years are at
		// most 8 years apart.
		y0 := now.Year()
		for y := y0; y > y0-9; y-- {
			if !validYMD(y, mon, day) {
				continue
			}
			t := time.Date(y, time.Month(mon), day, h, mi, 0, 0, loc)
			if y != y0 || !t.After(now.Add(recentFuture)) {
				return t, nil
			}
		}
		if validYMD(y0, mon, day) { // unreachable in practice
			return time.Date(y0, time.Month(mon), day, h, mi, 0, 0, loc), nil
		}
		return time.Time{}, errBadDate
	}
}

// parseClock parses "H:MM" or "HH:MM" (24 hour).
func parseClock(s string) (h, m int, ok bool) {
	switch {
	case len(s) == 4 && s[1] == ':' && isDecDigit(s[0]) && isDecDigit(s[2]) && isDecDigit(s[3]):
		h, m = int(s[0]-'0'), smallAtoi(s[2:])
	case len(s) == 5 && s[2] == ':' && isDecDigit(s[0]) && isDecDigit(s[1]) && isDecDigit(s[3]) && isDecDigit(s[4]):
		h, m = smallAtoi(s[:2]), smallAtoi(s[3:])
	default:
		return 0, 0, false
	}
	return h, m, h < 24 && m < 60
}

// monthIndex returns 1..12 for a three letter English month name (any case)
// and 0 otherwise.
func monthIndex(s string) int {
	if len(s) != 3 {
		return 0
	}
	k := uint32(s[0]|0x20)<<16 | uint32(s[1]|0x20)<<8 | uint32(s[2]|0x20)
	switch k {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8
	case 's'<<16 | 'e'<<8 | 'p':
		return 9
	case 'o'<<16 | 'c'<<8 | 't':
		return 10
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12
	}
	return 0
}

// ---------------------------------------------------------------------------
// MS-DOS / IIS

// dosTagColumn is the distance from the start of a "<DIR>" style tag to the
// name in IIS and Windows dir output: the tag is left-aligned in the 14 wide
// size column, which is followed by one separator space ("<DIR>" and ten
// spaces, "<JUNCTION>" and five).
const dosTagColumn = 15

func parseDOSLine(line string, now time.Time, out *ftpaudit.Entry) (bool, error) {
	i := 0
	next := func() string { // next space-separated token, skipping leading spaces
		for i < len(line) && line[i] == ' ' {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		s := line[i:j]
		i = j
		return s
	}
	y, mon, day, ok := dosDate(next())
	if !ok {
		return false, errBadDate
	}
	if !validYMD(y, mon, day) {
		return false, errBadDate
	}
	h, mi, ampm, ok := dosClock(next())
	if !ok {
		return false, errBadTime
	}
	field := next()
	if ampm == 0 && (ascii.EqualFold(field, "AM") || ascii.EqualFold(field, "PM")) {
		ampm = field[0] | 0x20
		field = next()
	}
	switch ampm {
	case 'a', 'p':
		if h < 1 || h > 12 {
			return false, errBadTime
		}
		if h == 12 {
			h = 0
		}
		if ampm == 'p' {
			h += 12
		}
	}
	if field == "" {
		return false, errMissingName
	}
	typ, size := ftpaudit.TypeFile, int64(-1)
	var name string
	if n := len(field); n > 2 && field[0] == '<' && field[n-1] == '>' {
		switch {
		case ascii.EqualFold(field, "<DIR>"):
			typ = ftpaudit.TypeDir
		case ascii.EqualFold(field, "<SYMLINK>"), ascii.EqualFold(field, "<SYMLINKD>"), ascii.EqualFold(field, "<JUNCTION>"):
			typ = ftpaudit.TypeLink
		default:
			return false, errBadSize // unknown tag: its column width is unknown too
		}
		if i >= len(line) {
			return false, errMissingName
		}
		pad := 0
		for i+pad < len(line) && line[i+pad] == ' ' {
			pad++
		}
		if want := dosTagColumn - len(field); want > 1 && pad >= want {
			name = line[i+want:]
		} else {
			name = line[i+1:] // unpadded server: exactly one separator
		}
	} else {
		v, ok, overflow := parseDOSSize(field)
		if !ok {
			return false, errBadSize
		}
		if overflow {
			return false, errSizeRange
		}
		size = v
		if i >= len(line) {
			return false, errMissingName
		}
		name = line[i+1:]
	}
	if name == "" {
		return false, errEmptyName
	}
	*out = ftpaudit.Entry{
		Name:     name,
		Type:     typ,
		Size:     size,
		Modified: time.Date(y, time.Month(mon), day, h, mi, 0, 0, now.Location()),
		Raw:      line,
	}
	return typ == ftpaudit.TypeDir && (name == "." || name == ".."), nil
}

// dosDate parses MM-DD-YY, MM-DD-YYYY and YYYY-MM-DD ('-' or '/').
func dosDate(s string) (y, m, d int, ok bool) {
	sep := func(c byte) bool { return c == '-' || c == '/' }
	switch {
	case len(s) == 8 && sep(s[2]) && sep(s[5]) && allDecDigits(s[:2]) && allDecDigits(s[3:5]) && allDecDigits(s[6:]):
		y = smallAtoi(s[6:])
		if y < 69 { // the POSIX %y pivot, as Go's "06"
			y += 2000
		} else {
			y += 1900
		}
		return y, smallAtoi(s[:2]), smallAtoi(s[3:5]), true
	case len(s) == 10 && sep(s[2]) && sep(s[5]) && allDecDigits(s[:2]) && allDecDigits(s[3:5]) && allDecDigits(s[6:]):
		return smallAtoi(s[6:]), smallAtoi(s[:2]), smallAtoi(s[3:5]), true
	case len(s) == 10 && sep(s[4]) && sep(s[7]) && allDecDigits(s[:4]) && allDecDigits(s[5:7]) && allDecDigits(s[8:]):
		return smallAtoi(s[:4]), smallAtoi(s[5:7]), smallAtoi(s[8:]), true
	}
	return 0, 0, 0, false
}

// dosClock parses "03:26AM", "03:26PM", "15:26". ampm is 'a', 'p' or 0.
func dosClock(s string) (h, m int, ampm byte, ok bool) {
	if n := len(s); n > 2 {
		switch s[n-2:] {
		case "AM", "am", "Am", "aM":
			ampm, s = 'a', s[:n-2]
		case "PM", "pm", "Pm", "pM":
			ampm, s = 'p', s[:n-2]
		}
	}
	h, m, ok = parseClock(s)
	return h, m, ampm, ok
}

// parseDOSSize parses a decimal size that may contain thousands commas.
func parseDOSSize(s string) (v int64, ok, overflow bool) {
	if s == "" || !isDecDigit(s[0]) || !isDecDigit(s[len(s)-1]) {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' {
			continue
		}
		if !isDecDigit(c) {
			return 0, false, false
		}
		d := int64(c - '0')
		if v > (1<<63-1-d)/10 {
			overflow = true
			continue
		}
		v = v*10 + d
	}
	return v, true, overflow
}

// ---------------------------------------------------------------------------
// MLSD / MLST

// Canonical lower-case fact names, so known keys need no allocation.
const (
	factType      = "type"
	factModify    = "modify"
	factSize      = "size"
	factSizd      = "sizd"
	factPerm      = "perm"
	factUnique    = "unique"
	factMode      = "unix.mode"
	factOwner     = "unix.owner"
	factOwnerName = "unix.ownername"
	factUID       = "unix.uid"
	factGroup     = "unix.group"
	factGroupName = "unix.groupname"
	factGID       = "unix.gid"
	factCreate    = "create"
	factLang      = "lang"
	factMediaType = "media-type"
	factCharset   = "charset"
)

var knownFacts = [...]string{
	factType, factModify, factSize, factSizd, factPerm, factUnique, factMode,
	factOwner, factOwnerName, factUID, factGroup, factGroupName, factGID,
	factCreate, factLang, factMediaType, factCharset,
}

// factKey returns the lower-cased fact name, without allocating for known
// names or names that are already lower case.
func factKey(k string) string {
	for _, f := range knownFacts {
		if len(f) == len(k) && ascii.EqualFold(f, k) {
			return f
		}
	}
	return ascii.Lower(k)
}

// ParseMLSDLine parses one MLSD/MLST line (RFC 3659: "fact=value;fact=value;
// name"). skip is true for entries to be ignored: type=cdir and type=pdir
// (and an empty line). An entry of another type literally named "." or ".."
// is returned as an entry.
//
// The facts end at the first ';' that is followed by a space; exactly that one
// space separates them from the name, which is the rest of the line. A line
// that starts with a space has no facts. Fact names are case-insensitive and
// are stored lower-cased in Facts; values are kept as given.
func ParseMLSDLine(line string) (e ftpaudit.Entry, skip bool, err error) {
	skip, err = parseMLSDLine(line, &e, &ftpaudit.EntryExtra{})
	if err != nil {
		e = ftpaudit.Entry{}
	}
	return e, skip, err
}

// parseMLSDLine is ParseMLSDLine writing into *out, which is assigned whole
// when an entry is found and left in an unspecified state on error. The
// entry's Extra is x, assigned whole too.
func parseMLSDLine(line string, out *ftpaudit.Entry, x *ftpaudit.EntryExtra) (skip bool, err error) {
	if line == "" {
		*out = ftpaudit.Entry{}
		return true, nil
	}
	sep := 0 // index of the space before the name
	nf := 0
	if line[0] != ' ' {
		sep = -1
		for i := 0; i < len(line); i++ {
			if line[i] == ';' {
				nf++
				if i+1 < len(line) && line[i+1] == ' ' {
					sep = i + 1
					break
				}
			}
		}
		if sep < 0 {
			return false, errMLSDNoSeparator
		}
	}
	name := line[sep+1:]
	if name == "" {
		return false, errEmptyName
	}
	*x = ftpaudit.EntryExtra{Facts: make(map[string]string, nf)}
	*out = ftpaudit.Entry{Name: name, Type: ftpaudit.TypeOther, Size: -1, Raw: line, Extra: x}
	e := out

	var (
		size, sizd            int64 = -1, -1
		mode                  uint32
		haveMode              bool
		owner, ownerName, uid string
		group, groupName, gid string
		typeChar              byte = '?'
	)
	facts := line[:sep] // "a=b;c=d;" (or "" without facts)
	for facts != "" {
		j := strings.IndexByte(facts, ';') // always found: facts ends in ';'
		f := facts[:j]
		facts = facts[j+1:]
		if f == "" {
			return false, errMLSDEmptyFact
		}
		eq := strings.IndexByte(f, '=')
		if eq <= 0 || strings.IndexByte(f[:eq], ' ') >= 0 {
			return false, errMLSDBadFact
		}
		key, val := factKey(f[:eq]), f[eq+1:]
		x.Facts[key] = val
		switch key {
		case factType:
			e.Type, typeChar, x.Target, skip = mlsdType(val)
		case factModify:
			t, ok := parseMLSDTime(val)
			if !ok {
				return false, errMLSDModify
			}
			e.Modified = t
		case factSize:
			v, ok, overflow := parseDigits(val)
			if !ok || overflow {
				return false, errMLSDSize
			}
			size = v
		case factSizd:
			v, ok, overflow := parseDigits(val)
			if !ok || overflow {
				return false, errMLSDSizd
			}
			sizd = v
		case factPerm:
			x.Perm = val
		case factUnique:
			x.Unique = val
		case factMode:
			m, ok := parseOctal(val)
			if !ok {
				return false, errMLSDMode
			}
			mode, haveMode = m, true
		case factOwner:
			owner = val
		case factOwnerName:
			ownerName = val
		case factUID:
			uid = val
		case factGroup:
			group = val
		case factGroupName:
			groupName = val
		case factGID:
			gid = val
		}
	}
	switch {
	case size >= 0:
		e.Size = size
	case sizd >= 0:
		e.Size = sizd
	}
	e.Owner = firstSet(ownerName, owner, uid)
	e.Group = firstSet(groupName, group, gid)
	if haveMode {
		if typeChar == '?' {
			typeChar = ifmtChar(mode)
		}
		e.Mode = unixModeString(typeChar, mode)
	}
	return skip, nil
}

func firstSet(a, b, c string) string {
	if a != "" {
		return a
	}
	if b != "" {
		return b
	}
	return c
}

// mlsdType interprets a type fact value.
func mlsdType(v string) (typ ftpaudit.EntryType, typeChar byte, target string, skip bool) {
	switch {
	case ascii.EqualFold(v, "file"):
		return ftpaudit.TypeFile, '-', "", false
	case ascii.EqualFold(v, "dir"):
		return ftpaudit.TypeDir, 'd', "", false
	case ascii.EqualFold(v, "cdir"), ascii.EqualFold(v, "pdir"):
		return ftpaudit.TypeDir, 'd', "", true
	}
	const osu = "os.unix="
	if len(v) < len(osu) || !ascii.EqualFold(v[:len(osu)], osu) {
		return ftpaudit.TypeOther, '?', "", false
	}
	u := v[len(osu):]
	const slink = "slink"
	switch {
	case len(u) >= len(slink) && ascii.EqualFold(u[:len(slink)], slink) &&
		(len(u) == len(slink) || u[len(slink)] == ':'):
		if len(u) > len(slink) {
			target = u[len(slink)+1:]
		}
		return ftpaudit.TypeLink, 'l', target, false
	case ascii.EqualFold(u, "symlink"):
		return ftpaudit.TypeLink, 'l', "", false
	case ascii.EqualFold(u, "chr"), ascii.EqualFold(u, "chrdev"), ascii.EqualFold(u, "char"):
		return ftpaudit.TypeOther, 'c', "", false
	case ascii.EqualFold(u, "blk"), ascii.EqualFold(u, "blkdev"), ascii.EqualFold(u, "block"):
		return ftpaudit.TypeOther, 'b', "", false
	case ascii.EqualFold(u, "fifo"), ascii.EqualFold(u, "pipe"):
		return ftpaudit.TypeOther, 'p', "", false
	case ascii.EqualFold(u, "socket"):
		return ftpaudit.TypeOther, 's', "", false
	}
	return ftpaudit.TypeOther, '?', "", false
}

// ifmtChar maps S_IFMT bits that a server may include in UNIX.mode.
func ifmtChar(m uint32) byte {
	switch m & 0170000 {
	case 0140000:
		return 's'
	case 0120000:
		return 'l'
	case 0100000:
		return '-'
	case 0060000:
		return 'b'
	case 0040000:
		return 'd'
	case 0020000:
		return 'c'
	case 0010000:
		return 'p'
	}
	return '?'
}

// commonModes caches the ls form of plain files, directories and symlinks
// without setuid/setgid/sticky bits, so that most MLSD lines need no
// allocation for Mode.
var commonModes = sync.OnceValue(func() *[3][512]string {
	var t [3][512]string
	for i, c := range []byte("-dl") {
		for m := range 512 {
			t[i][m] = buildModeString(c, uint32(m))
		}
	}
	return &t
})

// unixModeString renders permission bits (with setuid/setgid/sticky) in ls
// form after the given type character.
func unixModeString(typeChar byte, m uint32) string {
	if m&07000 == 0 {
		switch typeChar {
		case '-':
			return commonModes()[0][m&0777]
		case 'd':
			return commonModes()[1][m&0777]
		case 'l':
			return commonModes()[2][m&0777]
		}
	}
	return buildModeString(typeChar, m)
}

func buildModeString(typeChar byte, m uint32) string {
	var b [10]byte
	b[0] = typeChar
	for i := 0; i < 9; i++ {
		if m&(1<<(8-i)) != 0 {
			b[1+i] = "rwxrwxrwx"[i]
		} else {
			b[1+i] = '-'
		}
	}
	if m&04000 != 0 {
		b[3] = specialBit(b[3], 's')
	}
	if m&02000 != 0 {
		b[6] = specialBit(b[6], 's')
	}
	if m&01000 != 0 {
		b[9] = specialBit(b[9], 't')
	}
	return string(b[:])
}

// parseOctal parses 1 to 7 octal digits (at most 0177777, which leaves room
// for the S_IFMT bits).
func parseOctal(s string) (uint32, bool) {
	if s == "" || len(s) > 7 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | uint32(c-'0')
	}
	return v, v <= 0177777
}

// parseMLSDTime parses YYYYMMDDHHMMSS[.sss] in UTC.
func parseMLSDTime(s string) (time.Time, bool) {
	if len(s) < 14 || !allDecDigits(s[:14]) {
		return time.Time{}, false
	}
	y, mo, d := smallAtoi(s[:4]), smallAtoi(s[4:6]), smallAtoi(s[6:8])
	h, mi, sec := smallAtoi(s[8:10]), smallAtoi(s[10:12]), smallAtoi(s[12:14])
	if !validYMD(y, mo, d) || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	ns := 0
	if frac := s[14:]; frac != "" {
		if len(frac) < 2 || frac[0] != '.' || !allDecDigits(frac[1:]) {
			return time.Time{}, false
		}
		frac = frac[1:]
		for i := 0; i < 9; i++ {
			ns *= 10
			if i < len(frac) {
				ns += int(frac[i] - '0')
			}
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
}

// ---------------------------------------------------------------------------
// small helpers

func isDecDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDecDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDecDigit(s[i]) {
			return false
		}
	}
	return true
}

// smallAtoi converts a short all-digit string (already validated).
func smallAtoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseDigits parses a non-negative decimal int64. ok is false when s is not
// all digits; overflow is set when it is but does not fit.
func parseDigits(s string) (v int64, ok, overflow bool) {
	if !allDecDigits(s) {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if v > (1<<63-1-d)/10 {
			return 0, true, true
		}
		v = v*10 + d
	}
	return v, true, false
}

func validYMD(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return d <= 29
		}
		return d <= 28
	case 4, 6, 9, 11:
		return d <= 30
	}
	return d <= 31
}
