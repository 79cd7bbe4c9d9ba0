package listing

// Unix `ls -l` LIST lines: GNU, BSD, busybox and Cygwin ls and the ftpds
// that imitate them, including the Go os.FileMode form that
// goftp.io/server emits ("dtrwxrwxrwx", "Lrwxrwxrwx").
//
// A line is the mode, then columns (link count, owner, group, size or a
// device's numbers), then a date, then one space and the name: the rest of
// the line, byte for byte. So where the date ends decides the name, and
// the parser's one job is to find that place without guessing. It tries
// every token: a reading is a token where a date starts, with the tokens
// between the mode and it forming a known column layout (matchColumns). A
// line is an entry only when it has exactly one reading; a line with two
// (two places the name could start) is an error, never a guess.

import (
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// recentFuture is how far in the future a "Mon DD HH:MM" date may lie (clock
// skew, time zones) before it is taken to be from the previous year.
const recentFuture = 7 * 24 * time.Hour

// tokSpan is a token [s, e) of a line.
type tokSpan struct{ s, e int }

const (
	// maxSpan is the most tokens the owner and group columns take
	// together when their names hold spaces ("joe Domain Users").
	maxSpan = 6
	// maxStdCols is the most tokens between the mode and the date in the
	// classic layouts: "links owner group major, minor".
	maxStdCols = 5
	// maxCols is the most tokens between the mode and the date in any
	// layout: the link count, the owner and group, and a device's
	// "major, minor".
	maxCols = 1 + maxSpan + 2
	// maxDateTokens is the longest date: "8 月 17日 20:10".
	maxDateTokens = 4
	// maxUnixTokens is enough tokens to try every reading.
	maxUnixTokens = 1 + maxCols + maxDateTokens
	// firstTokens is how many tokens are split off first: enough for
	// most lines (mode, link count, owner, group, size and a three token
	// date). The rest are split off when a reading needs them.
	firstTokens = 9
)

func parseUnixLine(line string, now time.Time, out *ftpaudit.Entry, xs *extraSlab) (bool, error) {
	m0 := 0 // the mode's end
	for m0 < len(line) && line[m0] != ' ' {
		m0++
	}
	if m0 == 0 {
		return false, errUnrecognised
	}
	mode, typ, goStyle, glued, ok := parseModeToken(line[:m0])
	if !ok {
		if looksLikeMode(line[:m0]) {
			return false, errBadMode
		}
		return false, errUnrecognised
	}
	var toks [maxUnixTokens + 1]tokSpan // one more for a link count glued to the mode
	toks[0] = tokSpan{0, m0}
	n := 1 + tokenize(line, m0, toks[1:firstTokens])
	more := n == firstTokens // the line may hold more tokens
	if glued > 0 {
		// "drwxr-x---+1464": the link count is a token of its own.
		copy(toks[2:n+1], toks[1:n])
		toks[1] = tokSpan{glued, toks[0].e}
		toks[0].e = glued
		n++
	}
	device := mode[0] == 'c' || mode[0] == 'b'

	// Every token from the fourth on may start the date (at least two
	// columns come before it). The first reading found must be the only
	// one: the tokens after its date are tried too (secondReading), and
	// a second reading makes the line ambiguous. The columns of a second
	// reading would hold the first reading's date, which matchSpaced
	// refuses, so only a classic layout could make one: those after
	// maxStdCols columns are not tried. (The tests check every line they
	// accept against all layouts, at every token.)
	sawDate := false
	for m := 3; ; m++ {
		if m > maxCols+1 && sawDate {
			break
		}
		if m >= n {
			if !more {
				break
			}
			n += moreTokens(line, toks[n-1].e, toks[n:])
			more = false
			if m >= n {
				break
			}
		}
		if more && m+maxDateTokens > n {
			n += moreTokens(line, toks[n-1].e, toks[n:])
			more = false
		}
		last, kind := matchDate(line, toks[:n], m)
		if kind == 0 {
			continue
		}
		sawDate = true
		if m > maxCols+1 {
			break // no layout has that many columns
		}
		c, ok := matchColumns(line, toks[:m], device)
		if !ok {
			continue
		}
		if c.err != nil {
			return false, c.err
		}
		if last < maxStdCols+1 && secondReading(line, &toks, n, more, last+1, device) {
			return false, errAmbiguous
		}
		tm, err := unixDate(line, toks[:n], m, last, kind, now)
		if err != nil {
			return false, err
		}
		end := toks[last].e
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
			Modified: tm,
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

// secondReading reports whether a date starting at a token from from on,
// up to the last a classic layout reaches, makes a reading of its own.
// toks holds n tokens of the line, and more if the line has more.
func secondReading(line string, toks *[maxUnixTokens + 1]tokSpan, n int, more bool, from int, device bool) bool {
	for m := from; m <= maxStdCols+1; m++ {
		if more && m+maxDateTokens > n {
			n += moreTokens(line, toks[n-1].e, toks[n:])
			more = false
		}
		if m >= n {
			return false
		}
		if _, kind := matchDate(line, toks[:n], m); kind == 0 {
			continue
		}
		if _, ok := matchColumns(line, toks[:m], device); ok {
			return true
		}
	}
	return false
}

// moreTokens is tokenize for the tokens past the first few, which few
// lines need: kept out of line, so that parseUnixLine stays small.
//
//go:noinline
func moreTokens(line string, i int, toks []tokSpan) int {
	return tokenize(line, i, toks)
}

// tokenize splits line from byte i at spaces into at most len(toks)
// tokens and returns how many it found. Tokens are never empty; runs of
// spaces separate them.
func tokenize(line string, i int, toks []tokSpan) int {
	n := 0
	for n < len(toks) {
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
	return n
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
// ("drwxr-xr-x+", "-rw-r--r--@", "-rw-r--r--."), with or without the link
// count glued to it when it is too wide for its column
// ("drwxr-x---+1464": glued is the index where the count starts, else 0),
// and Go's os.FileMode form ("dtrwxrwxrwx", "Lrwxrwxrwx"; goStyle is set
// for those that are not also valid ls modes).
func parseModeToken(tok string) (mode string, typ ftpaudit.EntryType, goStyle bool, glued int, ok bool) {
	if len(tok) >= 10 && lsTypeSet[tok[0]] && allInSet(tok[1:10], lsPermSet) {
		i := 10
		if i < len(tok) && (tok[i] == '+' || tok[i] == '@' || tok[i] == '.') {
			i++
		}
		switch {
		case i == len(tok):
			return tok[:10], typeFromChar(tok[0]), false, 0, true
		case allDecDigits(tok[i:]):
			return tok[:10], typeFromChar(tok[0]), false, i, true
		}
	}
	mode, typ, ok = parseGoMode(tok)
	return mode, typ, ok, 0, ok
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

type unixCols struct {
	owner, group string
	size         int64
	err          error // the layout fits but a value does not (a size past int64)
}

// matchColumns interprets t[1:] (t[0] is the mode), the tokens between the
// mode and a date, as one of the known column layouts: ok reports whether
// one fits, c is what the columns say.
//
// The classic layouts, one token per column:
//
//	[links|owner] size                goftp, busybox
//	links owner size                  no group column
//	owner group size                  no link count
//	links owner group size            ls -l
//	[links|owner] [owner|group] major, minor, links owner group major, minor
//	                                  devices ("1,   3", or "1,3" as one token)
//
// and, when they fail, owner and group names holding spaces (Cygwin,
// Windows domain groups): [links] NAME... size (see matchSpaced).
func matchColumns(line string, t []tokSpan, device bool) (c unixCols, ok bool) {
	tok := func(i int) string { return line[t[i+1].s:t[i+1].e] }
	c.size = -1
	var sizeTok string
	switch len(t) - 1 {
	case 2: // [links|owner] size
		if !allDecDigits(tok(0)) {
			c.owner = tok(0)
		}
		sizeTok = tok(1)
	case 3: // links owner size | owner group size | [links|owner] major, minor
		if isMajor(tok(1)) && allDecDigits(tok(2)) {
			if !allDecDigits(tok(0)) {
				c.owner = tok(0)
			}
			return c, true
		}
		if allDecDigits(tok(0)) {
			c.owner = tok(1)
		} else {
			c.owner, c.group = tok(0), tok(1)
		}
		sizeTok = tok(2)
	case 4: // links owner group size | links owner major, minor
		if !allDecDigits(tok(0)) {
			return matchSpaced(line, t, device)
		}
		c.owner = tok(1)
		if isMajor(tok(2)) && allDecDigits(tok(3)) {
			return c, true
		}
		c.group = tok(2)
		sizeTok = tok(3)
	case 5: // links owner group major, minor
		if !allDecDigits(tok(0)) || !isMajor(tok(3)) || !allDecDigits(tok(4)) {
			return matchSpaced(line, t, device)
		}
		c.owner, c.group = tok(1), tok(2)
		return c, true
	default:
		return matchSpaced(line, t, device)
	}
	if v, ok, overflow := parseDigits(sizeTok); ok { // the usual case, first
		if overflow {
			c.err = errSizeRange
		} else {
			c.size = v
		}
		return c, true
	}
	if c.size, ok, c.err = sizeField(sizeTok, device); ok {
		return c, true
	}
	return matchSpaced(line, t, device)
}

// matchSpaced interprets t[1:] as [links] NAME... SIZE (see matchColumns),
// where NAME... are the owner and group columns, 1 to maxSpan tokens
// together, and SIZE a size or a device's numbers. With three tokens or
// more the split between owner and group ("joe Domain Users": joe and
// "Domain Users", or "joe Domain" and Users?) cannot be known from the
// line: both are left empty.
//
// Such a layout swallows any token, so it is held to what owner and group
// names look like, and kept from swallowing a date: none holds ':' or is
// a month name, with three tokens or more every one after the first holds
// a letter, and the tokens hold no date at all. That last rule is what
// keeps a date inside a name from ever making a second reading: the
// columns of any reading after the first hold the first reading's date.
func matchSpaced(line string, t []tokSpan, device bool) (c unixCols, ok bool) {
	tok := func(i int) string { return line[t[i+1].s:t[i+1].e] }
	c.size = -1
	n := len(t) - 1
	if n < 2 {
		return c, false
	}
	j := n - 1 // the size column's first token
	if n >= 3 && isMajor(tok(n-2)) && allDecDigits(tok(n-1)) {
		j = n - 2
	} else if c.size, ok, c.err = sizeField(tok(n-1), device); !ok {
		return c, false
	}
	i := 0
	if allDecDigits(tok(0)) {
		i = 1 // the link count
	}
	k := j - i
	if k < 1 || k > maxSpan {
		return c, false
	}
	for q := i; q < j; q++ {
		s := tok(q)
		if strings.IndexByte(s, ':') >= 0 || monthIndex(s) > 0 || k > 2 && q > i && !hasLetter(s) {
			return c, false
		}
	}
	for p := 1; p < len(t); p++ {
		if _, kind := matchDate(line, t, p); kind != 0 {
			return c, false
		}
	}
	switch k {
	case 1:
		c.owner = tok(i)
	case 2:
		c.owner, c.group = tok(i), tok(i+1)
	}
	return c, true
}

// sizeField interprets the size column: a decimal size, or a device's
// numbers ("1,3"; for a device also BSD's "0x2000012"), which give no size.
// err is set when it is a size past int64.
func sizeField(s string, device bool) (size int64, ok bool, err error) {
	if v, ok, overflow := parseDigits(s); ok {
		if overflow {
			return -1, true, errSizeRange
		}
		return v, true, nil
	}
	if isMajorMinor(s) || device && isHex(s) {
		return -1, true, nil
	}
	return -1, false, nil
}

// hasLetter reports whether s holds an ASCII letter or a byte of a
// multi-byte UTF-8 sequence (or any byte past ASCII).
func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' || s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// isHex reports whether s is "0x" and hex digits.
func isHex(s string) bool {
	if len(s) < 3 || s[0] != '0' || s[1]|0x20 != 'x' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !isDecDigit(c) && (c|0x20 < 'a' || c|0x20 > 'f') {
			return false
		}
	}
	return true
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

type dateKind uint8

const (
	dateRecent  dateKind = iota + 1 // Nov 22 03:26, 8月 17日 20:10: the year is inferred
	dateOld                         // Nov 22  2024, 6月 3日 2003年
	dateISO                         // 2026-11-22 03:26
	dateFullISO                     // 2026-11-22 03:26:07.123456789 +0100
)

// East Asian date suffixes: month, day and year in Japanese and Chinese,
// and in Korean.
const (
	cjkMonth = "月"
	cjkDay   = "日"
	cjkYear  = "年"
	koMonth  = "월"
	koDay    = "일"
	koYear   = "년"
)

// matchDate reports whether the tokens of t from m on start a date, and
// returns the index of its last token and its kind (0: no date). The
// shapes:
//
//	Nov 22 03:26, Nov 22  2024        (English month names, any case; H:MM too)
//	2026-11-22 03:26                  (--time-style=long-iso)
//	2026-11-22 03:26:07[.nnn] +0100   (full-iso)
//	8月 17日 20:10, 6月 3日 2003年, 8月 17 20:10, 8 月 17日 20:10, 8월 17일 20:10
//
// A date ends at a token's end; unixDate reads and checks its values. In
// the forms with a month, the day is the token before the last, and the
// time or year the last.
func matchDate(line string, t []tokSpan, m int) (last int, kind dateKind) {
	tok := func(i int) string { return line[t[i].s:t[i].e] }
	s := tok(m)
	if len(s) == 3 { // an English month (no East Asian one is 3 bytes)
		if monthIndex(s) == 0 || m+2 >= len(t) {
			return 0, 0
		}
		if d := tok(m + 1); len(d) > 2 || !allDecDigits(d) {
			return 0, 0
		}
		r := tok(m + 2)
		if _, _, ok := parseClock(r); ok {
			return m + 2, dateRecent
		}
		if len(r) == 4 && allDecDigits(r) {
			return m + 2, dateOld
		}
		return 0, 0
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' && allDecDigits(s[:4]) && allDecDigits(s[5:7]) && allDecDigits(s[8:]) {
		if m+1 >= len(t) {
			return 0, 0
		}
		c := tok(m + 1)
		if _, _, ok := parseClock(c); ok {
			return m + 1, dateISO
		}
		if _, _, _, _, ok := parseClockSec(c); ok && m+2 < len(t) {
			if _, ok := parseZone(tok(m + 2)); ok {
				return m + 2, dateFullISO
			}
		}
		return 0, 0
	}
	// An East Asian month ends in a byte past ASCII, or is a number
	// before one; tested so, ASCII lines (most) never look further.
	if s[len(s)-1] >= 0x80 || m+1 < len(t) && line[t[m+1].s] >= 0x80 && len(s) <= 2 {
		return matchCJKDate(line, t, m)
	}
	return 0, 0
}

// matchCJKDate is matchDate for a month written 8月, 8월, or 8 then 月.
func matchCJKDate(line string, t []tokSpan, m int) (last int, kind dateKind) {
	tok := func(i int) string { return line[t[i].s:t[i].e] }
	s := tok(m)
	if !isDecDigit(s[0]) {
		return 0, 0
	}
	next := m + 1
	switch k := len(s) - len(cjkMonth); {
	case k >= 1 && k <= 2 && (s[k:] == cjkMonth || s[k:] == koMonth) && allDecDigits(s[:k]):
	case len(s) <= 2 && allDecDigits(s) && next < len(t) && (tok(next) == cjkMonth || tok(next) == koMonth):
		next++
	default:
		return 0, 0
	}
	// The day, with or without 日 (일), and the time or the year, with
	// or without 年 (년).
	if next+1 >= len(t) {
		return 0, 0
	}
	if d := cutSuffix(tok(next), cjkDay, koDay); len(d) > 2 || !allDecDigits(d) {
		return 0, 0
	}
	r := tok(next + 1)
	if _, _, ok := parseClock(r); ok {
		return next + 1, dateRecent
	}
	if r = cutSuffix(r, cjkYear, koYear); len(r) == 4 && allDecDigits(r) {
		return next + 1, dateOld
	}
	return 0, 0
}

// cutSuffix returns s without a or b at its end (at most one of them).
func cutSuffix(s, a, b string) string {
	if strings.HasSuffix(s, a) {
		return s[:len(s)-len(a)]
	}
	if strings.HasSuffix(s, b) {
		return s[:len(s)-len(b)]
	}
	return s
}

// unixDate converts the date matchDate found from token m to last, in
// now's location unless it carries a zone. A date without a year is
// placed in the latest year in which it exists and is not more than
// recentFuture after now.
func unixDate(line string, t []tokSpan, m, last int, kind dateKind, now time.Time) (time.Time, error) {
	tok := func(i int) string { return line[t[i].s:t[i].e] }
	loc := now.Location()
	if kind == dateISO || kind == dateFullISO {
		d := tok(m)
		y, mon, day := smallAtoi(d[:4]), smallAtoi(d[5:7]), smallAtoi(d[8:])
		if !validYMD(y, mon, day) {
			return time.Time{}, errBadDate
		}
		if kind == dateISO {
			h, mi, _ := parseClock(tok(m + 1))
			return time.Date(y, time.Month(mon), day, h, mi, 0, 0, loc), nil
		}
		h, mi, sec, nsec, _ := parseClockSec(tok(m + 1))
		zone, _ := parseZone(tok(m + 2))
		t := time.Date(y, time.Month(mon), day, h, mi, sec, nsec, time.UTC)
		return t.Add(-time.Duration(zone) * time.Second).In(loc), nil
	}
	var mon, day int
	dayTok, rest := tok(last-1), tok(last)
	if s := tok(m); isDecDigit(s[0]) { // 8月, 8월, 8
		k := 1
		if len(s) > 1 && isDecDigit(s[1]) {
			k = 2
		}
		mon = smallAtoi(s[:k])
		dayTok, rest = cutSuffix(dayTok, cjkDay, koDay), cutSuffix(rest, cjkYear, koYear)
	} else {
		mon = monthIndex(s)
	}
	day = smallAtoi(dayTok)
	if kind == dateOld {
		y := smallAtoi(rest)
		if !validYMD(y, mon, day) {
			return time.Time{}, errBadDate
		}
		return time.Date(y, time.Month(mon), day, 0, 0, 0, 0, loc), nil
	}
	h, mi, _ := parseClock(rest)
	if mon < 1 || mon > 12 || day < 1 || day > 31 {
		return time.Time{}, errBadDate
	}
	// Only Feb 29 can skip a year; leap years are at most 8 years apart.
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
