package listing

// MS-DOS and IIS style LIST lines ("11-22-24  03:26PM  <DIR>  name").

import (
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ascii"
)

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
		// Padded (IIS, dir) when the spaces fill the tag's column;
		// else a server that does not pad: exactly one separator. A
		// name starting with enough spaces to fill the column would
		// read as padded on such a server: none is known.
		if want := dosTagColumn - len(field); want > 1 && pad >= want {
			name = line[i+want:]
		} else {
			name = line[i+1:]
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

// dosClock parses "03:26AM", "03:26PM", "03:26p" (old Windows dir), and
// "15:26". ampm is 'a', 'p' or 0.
func dosClock(s string) (h, m int, ampm byte, ok bool) {
	if n := len(s); n > 2 {
		switch c := s[n-1] | 0x20; c {
		case 'm':
			if a := s[n-2] | 0x20; a == 'a' || a == 'p' {
				ampm, s = a, s[:n-2]
			}
		case 'a', 'p':
			ampm, s = c, s[:n-1]
		}
	}
	h, m, ok = parseClock(s)
	return h, m, ampm, ok
}

// parseDOSSize parses a decimal size, plain or with thousands separators:
// "1234567", "1,234,567", or "1.234.567" (Windows dir in a locale that
// groups with dots). Separators must all be the same and group by three
// from the right ("1,23" is not a size).
func parseDOSSize(s string) (v int64, ok, overflow bool) {
	if s == "" || !isDecDigit(s[0]) {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDecDigit(c) {
			if c == ',' || c == '.' {
				return parseGroupedSize(s)
			}
			return 0, false, false
		}
		d := int64(c - '0')
		if v >= maxInt64/10 && (v > maxInt64/10 || d > maxInt64%10) {
			overflow = true
			continue
		}
		v = v*10 + d
	}
	return v, true, overflow
}

// parseGroupedSize is parseDOSSize for a size with separators.
func parseGroupedSize(s string) (v int64, ok, overflow bool) {
	var sep byte
	group := -1 // digits since the last separator, -1 before the first
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' || c == '.' {
			if sep == 0 && group == -1 && i <= 3 || sep == c && group == 3 {
				sep, group = c, 0
				continue
			}
			return 0, false, false
		}
		if !isDecDigit(c) {
			return 0, false, false
		}
		if group >= 0 {
			group++
		}
		d := int64(c - '0')
		if v >= maxInt64/10 && (v > maxInt64/10 || d > maxInt64%10) {
			overflow = true
			continue
		}
		v = v*10 + d
	}
	if group != 3 {
		return 0, false, false
	}
	return v, true, overflow
}
