package listing

// Unix `ls -l` LIST lines, including the Go os.FileMode form that
// goftp.io/server emits ("dtrwxrwxrwx", "Lrwxrwxrwx").

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
