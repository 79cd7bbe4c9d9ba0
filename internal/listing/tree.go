package listing

import (
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// ParseTree splits recursive LIST output into sections. A header is a line
// that starts with "/" and ends with ":", and that opens the output or
// follows an empty line: an ls -l entry line never starts with "/", and
// the arguments sent are absolute. A name holding line breaks can still
// forge one; the walker's checks (every section must be the exact child
// of a trusted one, never twice) turn that into a directory listed on its
// own, not into a hidden entry.
func ParseTree(text []string, now time.Time) (secs []ftpaudit.TreeSection, lines int) {
	secs, lines, _ = ParseTreeLimit(text, now, 0)
	return secs, lines
}

// ParseTreeLimit is ParseTree keeping at most limit+1 entries in all (0:
// no limit); cut reports that it stopped there, the rest unparsed.
// Empty lines cost nothing and at most ftpaudit.MaxBadLinesKept unparsed
// lines are kept per section.
func ParseTreeLimit(text []string, now time.Time, limit int) (secs []ftpaudit.TreeSection, lines int, cut bool) {
	kept := 0
	secs = append(secs, ftpaudit.TreeSection{})
	cur := &secs[0]
	afterBlank := true
	var xs extraSlab // symlink targets
	// Chunks end at line ends (see listBuf), so a line never spans two.
	for _, s := range text {
		for len(s) > 0 {
			var line string
			line, s = cutLine(s)
			if line == "" {
				afterBlank = true
				continue
			}
			if afterBlank && len(line) > 1 && line[0] == '/' && line[len(line)-1] == ':' {
				h := line[:len(line)-1]
				if len(secs) == 1 && cur.Header == "" && len(cur.Entries) == 0 && len(cur.Bad) == 0 && !cur.Dot {
					cur.Header = h // vsftpd heads the first section too
				} else {
					secs = append(secs, ftpaudit.TreeSection{Header: h})
					cur = &secs[len(secs)-1]
				}
				afterBlank = false
				continue
			}
			afterBlank = false
			lines++
			var e ftpaudit.Entry
			_, skip, err := parseListLine(line, now, &e, &xs)
			switch {
			case err != nil:
				cur.Bad = ftpaudit.AppendBadLine(cur.Bad, line, err.Error())
			case skip:
				if e.Name == "." || strings.HasSuffix(line, " .") {
					cur.Dot = true
				}
			default:
				if limit > 0 && kept > limit {
					return secs, lines, true
				}
				kept++
				cur.Entries = append(cur.Entries, e)
			}
		}
	}
	return secs, lines, false
}

// TreeHeaderPath turns a section header into the path it names: servers
// join the argument and the relative path with "/", so the archive root's
// children come as "//name" (pure-ftpd, vsftpd) or "/name" (proftpd).
func TreeHeaderPath(h string) string {
	if strings.HasPrefix(h, "//") {
		return h[1:]
	}
	return h
}
