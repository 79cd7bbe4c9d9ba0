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
				cur.Bad = append(cur.Bad, ftpaudit.BadLine{Raw: line, Err: err.Error()})
			case skip:
				if e.Name == "." || strings.HasSuffix(line, " .") {
					cur.Dot = true
				}
			default:
				cur.Entries = append(cur.Entries, e)
			}
		}
	}
	return secs, lines
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
