package scanner

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Recursive listing (LIST -aR): one transfer for a whole subtree.
//
// proftpd and pure-ftpd answer "LIST -aR /dir" with dir's listing followed
// by one section per directory below it, each headed by the directory's
// path and a colon; vsftpd does the same when ls_recurse_enable=YES and
// otherwise ignores the R. What such output leaves out is silent: proftpd
// and vsftpd skip unreadable directories (an empty section, or none),
// pure-ftpd stops at its depth limit without a word and cuts the output at
// its entry limit with only a line in the 226 reply. So the walker trusts a
// section only when it proves itself (see treeSection.trusted and
// walker.recordTree) and lists every other directory on its own.

// TreeLister is implemented by sessions that can list a subtree in one
// transfer.
type TreeLister interface {
	// ListTree lists dir and every directory below it with one recursive
	// listing. ErrTreeUnsupported means this session cannot try.
	ListTree(ctx context.Context, dir string) (*TreeListing, error)
}

// ErrTreeUnsupported is returned by ListTree for a directory or session it
// cannot list recursively (a path that cannot go on a LIST command line, an
// MLSD-only session, a server without LIST -a).
var ErrTreeUnsupported = errors.New("recursive listing not possible here")

// TreeListing is one recursive listing, split into sections.
type TreeListing struct {
	// Sections in the order the server sent them. The first is the
	// listed directory's own (its header, if the server sent one, is
	// not required to match).
	Sections []treeSection
	// Reply is the server's final reply.
	Reply string
	// Bytes is the size of the raw listing.
	Bytes int64
	// Truncated is set when the transfer was cut short (our size bound,
	// or a last line without its line end).
	Truncated bool
	// Lines counts entry lines (every line that parsed as an entry or
	// failed to), for the server-cap check.
	Lines    int
	Warnings []string
}

// treeSection is the part of a recursive listing about one directory.
type treeSection struct {
	// Header is the path as the server wrote it, without the colon;
	// empty for a first section without a header.
	Header  string
	Entries []Entry
	Bad     []BadLine
	// Dot is set when the section lists its own "." entry: the server
	// really read the directory (proftpd writes an empty section for a
	// directory it cannot read; LIST -a always shows ".").
	Dot bool
}

// ListTree lists dir recursively with LIST -aR over a data connection.
func (s *ftpSession) ListTree(ctx context.Context, dir string) (*TreeListing, error) {
	if s.mlsd || s.noDashA || !plainPath(dir) {
		return nil, ErrTreeUnsupported
	}
	stop := context.AfterFunc(ctx, s.abort)
	defer stop()
	r, err := s.transfer(ctx, "list -R "+dir, "-aR "+pathArg(dir))
	if err != nil {
		return nil, err
	}
	// No data connection at all (a bare 226) still gives the first,
	// empty section: it proves nothing, so the directory is listed on its
	// own.
	t := &TreeListing{Reply: r.reply, Bytes: r.bytes, Truncated: r.truncated, Sections: []treeSection{{}}}
	if r.text != nil {
		t.Sections, t.Lines = parseTree(r.text, time.Now())
	}
	t.Warnings = s.takeNotes(&Listing{Warnings: r.warnings}).Warnings
	return t, nil
}

// ListTree on a pair lists with the LIST connection: recursion is a LIST
// option, and MLSD has none.
func (p *pairSession) ListTree(ctx context.Context, dir string) (*TreeListing, error) {
	return p.list.ListTree(ctx, dir)
}

// parseTree splits recursive LIST output into sections. A header is a line
// that starts with "/" and ends with ":", and that opens the output or
// follows an empty line: an ls -l entry line never starts with "/", and
// the arguments sent are absolute. A name holding line breaks can still
// forge one; the walker's checks (every section must be the exact child
// of a trusted one, never twice) turn that into a directory listed on its
// own, not into a hidden entry.
func parseTree(text []string, now time.Time) (secs []treeSection, lines int) {
	secs = append(secs, treeSection{})
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
					secs = append(secs, treeSection{Header: h})
					cur = &secs[len(secs)-1]
				}
				afterBlank = false
				continue
			}
			afterBlank = false
			lines++
			var e Entry
			_, skip, err := parseListLine(line, now, &e, &xs)
			switch {
			case err != nil:
				cur.Bad = append(cur.Bad, BadLine{Raw: line, Err: err.Error()})
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

// treeHeaderPath turns a section header into the path it names: servers
// join the argument and the relative path with "/", so the archive root's
// children come as "//name" (pure-ftpd, vsftpd) or "/name" (proftpd).
func treeHeaderPath(h string) string {
	if strings.HasPrefix(h, "//") {
		return h[1:]
	}
	return h
}

// serverCaps are entry counts at which servers are known to cut a
// recursive listing (pure-ftpd's -L default is 10000, its documentation's
// example 2000). Output that stops exactly there is taken as cut, even if
// the reply does not say so.
var serverCaps = []int{1000, 2000, 5000, 10000, 20000, 50000, 100000}

// treeCutReason says why a recursive listing cannot be trusted as a whole,
// or "" when it can.
func treeCutReason(t *TreeListing) string {
	switch {
	case t.Truncated:
		return "the transfer was cut short after " + strconv.FormatInt(t.Bytes, 10) + " bytes"
	case containsAny(t.Reply, truncatedReplyWords):
		return "the server cut it short: " + oneLine(t.Reply)
	}
	for _, c := range serverCaps {
		if t.Lines == c || t.Lines == c+2 || matchesTotal(t.Reply, c) {
			return "it stopped at " + strconv.Itoa(c) + " entries, a known server cap"
		}
	}
	return ""
}

// matchesTotal reports whether a pure-ftpd style reply ("226 10000 matches
// total") gives exactly n.
func matchesTotal(reply string, n int) bool {
	return strings.Contains(reply, " "+strconv.Itoa(n)+" matches total")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
