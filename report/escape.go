package report

// escape.go is the only place in ftpaudit that escapes server text for
// people: the rules and the scanner hand it over raw, and JSON carries it
// raw (encoding/json escapes it, with _b64 fields for invalid UTF-8). A
// hostile server chooses file names, banners and replies, so what reaches
// a terminal or a spreadsheet must not be able to move the cursor, end a
// line, reorder text (bidi) or hide characters.

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Display makes a server-supplied string safe and visible on a terminal:
// control characters (C0, DEL, C1), invisible and bidi formatting
// characters and invalid UTF-8 become escapes (\x1b, \u202e, \xff), a
// backslash becomes \\, and a string with white space at either end of it
// or of any path element is shown in double quotes (with \" inside), so
// that names made of spaces can be seen. The result never contains a byte
// that can move the cursor or end a line.
//
// Display is for names: paths, host URLs, targets. Text that is not a
// name (evidence, actions, server replies, banners, reasons) goes
// through DisplayText.
func Display(s string) string {
	return escape(s, needsQuotes(s))
}

// DisplayText makes server-supplied text safe and visible on a terminal
// or in a CSV cell with Display's escapes, but is never quoted: it is for
// prose whose bounds the output already makes plain (a table cell, the
// rest of a line), such as evidence, actions, server replies, banners and
// reasons. The rules put server names into evidence raw, at most inside
// plain double quotes for readability, so escaping them here, once, keeps
// those quotes as they are and shows a backslash as \\ exactly once.
func DisplayText(s string) string {
	return escape(s, false)
}

// escape applies Display's escapes to s, and when quote is set also
// wraps it in double quotes (escaping '"' inside).
func escape(s string, quote bool) string {
	var b strings.Builder
	if quote {
		b.WriteByte('"')
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeHex(&b, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"' && quote:
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			writeHex(&b, byte(r))
		case r >= 0x80 && r < 0xa0, unicode.Is(unicode.Cf, r), r == 0x2028, r == 0x2029:
			b.WriteString(`\u{`)
			b.WriteString(strings.ToLower(strconvHex(uint32(r))))
			b.WriteByte('}')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if quote {
		b.WriteByte('"')
	}
	return b.String()
}

func needsQuotes(s string) bool {
	if s == "" || strings.Contains(s, `"`) {
		return true
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" {
			continue
		}
		first, _ := utf8.DecodeRuneInString(part)
		last, _ := utf8.DecodeLastRuneInString(part)
		if isSpace(first) || isSpace(last) {
			return true
		}
	}
	return false
}

// isSpace reports white space that a terminal shows as blank: ASCII and
// Unicode spaces (U+00A0, U+2000..U+200A, U+3000, ...), decoded as runes
// so that a multi-byte letter such as "à" (C3 A0) is not taken for one.
func isSpace(r rune) bool { return r != utf8.RuneError && unicode.IsSpace(r) }

const hexDigits = "0123456789abcdef"

func writeHex(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&15])
}

func strconvHex(v uint32) string {
	if v == 0 {
		return "0"
	}
	var buf [8]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = hexDigits[v&15]
		v >>= 4
	}
	return string(buf[i:])
}
