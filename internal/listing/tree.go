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
	afterBlank := true
	var xs extraSlab // symlink targets
	var es entrySlab // the sections' entries
	// Chunks end at line ends (see listBuf), so a line never spans two.
	for _, s := range text {
		for len(s) > 0 {
			var line string
			line, s = cutLine(s)
			if line == "" {
				afterBlank = true
				continue
			}
			cur := &secs[len(secs)-1]
			if afterBlank && len(line) > 1 && line[0] == '/' && line[len(line)-1] == ':' {
				h := line[:len(line)-1]
				if len(secs) == 1 && cur.Header == "" && es.open() == 0 && len(cur.Bad) == 0 && !cur.Dot {
					cur.Header = h // vsftpd heads the first section too
				} else {
					cur.Entries = es.close()
					secs = append(secs, ftpaudit.TreeSection{Header: h})
				}
				afterBlank = false
				continue
			}
			afterBlank = false
			lines++
			e := es.next()
			_, skip, err := parseListLine(line, now, e, &xs)
			switch {
			case err != nil:
				cur.Bad = ftpaudit.AppendBadLine(cur.Bad, line, err.Error())
			case skip:
				if e.Name == "." || strings.HasSuffix(line, " .") {
					cur.Dot = true
				}
			default:
				if limit > 0 && kept > limit {
					secs[len(secs)-1].Entries = es.close()
					es.trim(secs)
					return secs, lines, true
				}
				kept++
				es.keep()
			}
		}
	}
	secs[len(secs)-1].Entries = es.close()
	es.trim(secs)
	return secs, lines, false
}

// entrySlab holds the entries of a recursive listing's sections in a few
// large arrays (slabs) instead of an array per section grown by doubling:
// each section's entries are a run of one slab, appended in place as they
// are parsed. When a slab is full, the section being parsed moves to the
// next slab (its entries so far copied once; a section larger than half a
// slab gets a slab of twice its size). Slabs grow from minSlab to maxSlab
// entries, so a small listing costs little and a large one a few
// allocations, and the last slab is cut to what it holds at the end.
type entrySlab struct {
	slab  []ftpaudit.Entry // len: the entries kept so far in this slab
	start int              // the open section's first entry in slab
	size  int              // the last slab's size
	first int              // the first section (index in secs) whose entries lie in slab
	n     int              // sections closed
	dirty bool             // the room next returned was not kept: it holds a line's leftovers
}

const (
	minSlab = 64
	maxSlab = 4096
)

// next returns room for one more entry of the open section, zeroed (as
// a fresh Entry: the parser does not assign every field on every path),
// to be parsed into; keep keeps it.
func (es *entrySlab) next() *ftpaudit.Entry {
	if len(es.slab) == cap(es.slab) {
		open := es.slab[es.start:]
		es.size = min(max(2*es.size, minSlab), maxSlab)
		next := make([]ftpaudit.Entry, len(open), max(es.size, 2*len(open)))
		copy(next, open)
		clear(open) // (dropped from the old slab: no references kept alive)
		es.slab, es.start, es.first = next, 0, es.n
	}
	e := &es.slab[:len(es.slab)+1][len(es.slab)]
	if es.dirty {
		*e = ftpaudit.Entry{} // (room past the kept entries is zero but for this)
	}
	es.dirty = true
	return e
}

// keep keeps the entry next returned.
func (es *entrySlab) keep() {
	es.slab = es.slab[:len(es.slab)+1]
	es.dirty = false
}

// open is the number of entries of the open section.
func (es *entrySlab) open() int { return len(es.slab) - es.start }

// close ends the open section and returns its entries (nil for none),
// capped at their length: appending to them never reaches a neighbour's.
func (es *entrySlab) close() []ftpaudit.Entry {
	var out []ftpaudit.Entry
	if len(es.slab) > es.start {
		out = es.slab[es.start:len(es.slab):len(es.slab)]
	}
	es.start = len(es.slab)
	es.n++
	return out
}

// trim ends the parse: the room of the last slab that no entry took (a
// rejected line's leftovers included) is cleared, and when it is more than
// a quarter of the slab, the entries of the sections that lie in the slab
// (secs[es.first:]) move to an array of their exact size.
func (es *entrySlab) trim(secs []ftpaudit.TreeSection) {
	n := len(es.slab)
	clear(es.slab[n:cap(es.slab)])
	if cap(es.slab)-n <= cap(es.slab)/4 {
		return
	}
	exact := make([]ftpaudit.Entry, n)
	copy(exact, es.slab)
	at := 0
	for i := es.first; i < len(secs); i++ {
		k := len(secs[i].Entries)
		if k > 0 {
			secs[i].Entries = exact[at : at+k : at+k]
			at += k
		}
	}
	es.slab = exact
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
